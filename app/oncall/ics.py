"""The roster as an iCalendar file, so people see their shifts in their own calendar.

One event per member per shift (2i2c keeps a "Team Roles calendar" for the
same reason, seed 002). Each event's UID is derived from the rotation, the
member and the piece's start, so importing a fresh export updates the events
already there instead of adding copies; an override produces its own pieces
and therefore its own UIDs.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from app.oncall.settings import OnCall
from app.oncall.rotation import Shift, shifts, wall_clock

PRODID = "-//triageboard//on-call roster//EN"
_UID_NAMESPACE = uuid.UUID("6f0b7d3e-3c1a-5b7e-9a55-7d1c2f4e8a10")


def shift_uid(piece: Shift) -> str:
    """Stable across exports: the same stretch of duty always has the same UID."""
    start = piece.start.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = "\x1f".join((piece.rotation, piece.member, start))  # a separator no name contains
    return f"{uuid.uuid5(_UID_NAMESPACE, name)}@triageboard"


def roster_shifts(oncall: OnCall, start: date | datetime, end: date | datetime, *,
                  member: str | None = None, rotations: Iterable[str] | None = None) -> list[Shift]:
    """Every piece of duty overlapping [start, end), optionally for one member or some rotations.

    A plain date means midnight in the rotation's zone; `end` is exclusive,
    so `end=2027-01-01` stops at the end of New Year's Eve.
    """
    wanted = set(rotations) if rotations is not None else None
    result: list[Shift] = []
    for rotation in oncall.rotations:
        if wanted is not None and rotation.name not in wanted:
            continue
        zone = rotation.tz
        pieces = shifts(rotation, _instant(start, zone), _instant(end, zone), oncall.overrides)
        result.extend(p for p in pieces if member is None or p.member == member)
    return sorted(result, key=lambda p: (p.start, p.rotation, p.member))


def roster_calendar(oncall: OnCall, start: date | datetime, end: date | datetime, *,
                    member: str | None = None, rotations: Iterable[str] | None = None,
                    stamp: datetime | None = None) -> Calendar:
    """An iCalendar with one VEVENT per piece of duty and the VTIMEZONEs it uses.

    Times are written in the board's zone (with its VTIMEZONE), not UTC, so
    a calendar shows "09:00 Monday" as the team wrote it. `stamp` (DTSTAMP)
    defaults to now; tests pass a fixed one.
    """
    stamp = (stamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    title = "On call" + (f": {member}" if member else "")
    calendar = Calendar.new(prodid=PRODID, name=title, uid=uuid.uuid5(_UID_NAMESPACE, title))
    pieces = roster_shifts(oncall, start, end, member=member, rotations=rotations)
    for piece in pieces:
        zone = oncall.rotation(piece.rotation).tz
        event = Event.new(
            uid=shift_uid(piece),
            stamp=stamp,
            start=piece.start.astimezone(zone),
            end=piece.end.astimezone(zone),
            summary=summary(piece),
            description=_description(piece),
            transparency="TRANSPARENT",  # being on call does not make you busy
        )
        calendar.add_component(event)
    if pieces:
        first = min(p.start for p in pieces).date() - timedelta(days=366)
        last = max(p.end for p in pieces).date() + timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar


def export_ics(oncall: OnCall, start: date | datetime, end: date | datetime, *,
               member: str | None = None, rotations: Iterable[str] | None = None,
               stamp: datetime | None = None) -> bytes:
    """The bytes of an .ics file for `roster_calendar`'s arguments."""
    return roster_calendar(oncall, start, end, member=member, rotations=rotations, stamp=stamp).to_ical()


def summary(piece: Shift) -> str:
    """"SET primary: bob", with the person covered when it is an override."""
    text = f"{piece.rotation}: {piece.member}"
    if piece.replaces is not None:
        text += f" (covering {piece.replaces})"
    return text


def _description(piece: Shift) -> str:
    return f"On call in {piece.rotation}, shift {piece.index}."


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else wall_clock(value.date(), value.time(), zone)
    return wall_clock(value, time(), zone)
