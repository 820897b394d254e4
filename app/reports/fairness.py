"""Who carried the load in a period: on-call hours, pages, support tickets asked and assigned.

Grafana OnCall's users asked for this view (#1304, #118) because a rotation
that looks fair on paper is not when overrides and pages pile onto one
person. The spread (max - min across the team) is the number the retro
watches: the fair-assignment rule should keep it small. Pure: the caller
reads the pages and tickets (data.reporting) and passes plain values.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping, Sequence

import msgspec

from app.oncall.rotation import Override, Rotation, shifts

FIGURES = ("oncall_hours", "pages", "asked", "assigned")


class Load(msgspec.Struct, frozen=True):
    """One person's share of the period."""

    oncall_hours: float = 0.0
    """Hours holding any rotation (overrides count for the one covering, not the one covered)."""
    pages: int = 0
    """Escalation steps that paged them."""
    asked: int = 0
    """Support tickets they reported in the period."""
    assigned: int = 0
    """Support tickets assigned to them in the period (each ticket once per person)."""


class Fairness(msgspec.Struct, frozen=True):
    people: Mapping[str, Load]
    """Every team member, in the team's order, including those who carried nothing."""
    spread: Mapping[str, float]
    """max - min of each figure across `people`."""

    def as_json(self) -> dict:
        return {"people": {handle: msgspec.to_builtins(load) for handle, load in self.people.items()},
                "spread": dict(self.spread)}


def oncall_hours(rotations: Iterable[Rotation], overrides: Sequence[Override], start: dt.datetime,
                 end: dt.datetime) -> dict[str, float]:
    """Hours each member held a rotation within [start, end) (aware instants); active hours only."""
    held: dict[str, dt.timedelta] = {}
    for rotation in rotations:
        for piece in shifts(rotation, start, end, overrides):
            part = min(piece.end, end) - max(piece.start, start)
            if part > dt.timedelta(0):
                held[piece.member] = held.get(piece.member, dt.timedelta(0)) + part
    return {member: round(total / dt.timedelta(hours=1), 2) for member, total in held.items()}


def fairness(team: Sequence[str], hours: Mapping[str, float], pages: Iterable[Sequence[str]],
             asked: Iterable[str], assigned: Iterable[str]) -> Fairness:
    """Put the figures together; `pages` is who each step paged, `asked`/`assigned` one handle per ticket."""
    counts: dict[str, dict[str, float]] = {h: {"oncall_hours": hours.get(h, 0.0), "pages": 0, "asked": 0,
                                                "assigned": 0} for h in team}
    for paged in pages:
        for handle in set(paged):
            if handle in counts:
                counts[handle]["pages"] += 1
    for name, handles in (("asked", asked), ("assigned", assigned)):
        for handle in handles:
            if handle in counts:
                counts[handle][name] += 1
    people = {h: Load(oncall_hours=float(c["oncall_hours"]), pages=int(c["pages"]), asked=int(c["asked"]),
                      assigned=int(c["assigned"])) for h, c in counts.items()}
    spread = {name: (round(max(getattr(p, name) for p in people.values())
                           - min(getattr(p, name) for p in people.values()), 2) if people else 0)
              for name in FIGURES}
    return Fairness(people=people, spread=spread)
