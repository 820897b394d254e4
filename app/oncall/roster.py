"""The roster as plain rows: who holds each rotation now, and who comes next.

Shared by `triageboard oncall` and the board's roster panel, so both say the
same thing. Pure: the config's on-call part and an instant in, values out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import msgspec

from app.oncall.settings import OnCall
from app.oncall.rotation import covering, next_handoffs, on_duty, seat_holders, shift_index


class Cover(msgspec.Struct, frozen=True):
    """An override in force: `member` holds `replaces`'s seat until `until` (UTC)."""

    member: str
    replaces: str
    until: datetime


class RosterRow(msgspec.Struct, frozen=True):
    rotation: str
    on_duty: tuple[str, ...]
    """Longest-serving first, overrides in the seat they cover."""
    covers: tuple[Cover, ...]
    """The overrides behind `on_duty`, for marking them."""
    next_handoff: datetime | None
    """UTC; None when the roster never changes again (everyone always on duty)."""
    incoming: tuple[str, ...]
    outgoing: tuple[str, ...]

    def covering_for(self, member: str) -> Cover | None:
        return next((c for c in self.covers if c.member == member), None)


def holders_in_words(row: RosterRow, when: Callable[[datetime], str]) -> list[str]:
    """Who holds the rotation, each override saying whose seat it covers and until when ("bob (covering
    dan until Mon 28 Dec 09:00)"): the one wording of the board's roster and `triageboard oncall`."""
    words = []
    for member in row.on_duty:
        cover = row.covering_for(member)
        words.append(member if cover is None else f"{member} (covering {cover.replaces} until {when(cover.until)})")
    return words


def roster_rows(oncall: OnCall, now: datetime) -> list[RosterRow]:
    """One row per configured rotation, in config order, at `now` (an aware instant)."""
    rows: list[RosterRow] = []
    for rotation in oncall.rotations:
        scheduled = seat_holders(rotation, shift_index(rotation, now))
        covers = tuple(Cover(o.member, o.replaces or scheduled[0], o.end)
                       for o in covering(rotation, oncall.overrides, now))
        upcoming = next_handoffs(rotation, oncall.overrides, now, 1)
        handoff = upcoming[0] if upcoming else None
        rows.append(RosterRow(
            rotation=rotation.name,
            on_duty=tuple(on_duty(rotation, oncall.overrides, now)),
            covers=covers,
            next_handoff=handoff.at if handoff else None,
            incoming=handoff.incoming if handoff else (),
            outgoing=handoff.outgoing if handoff else (),
        ))
    return rows
