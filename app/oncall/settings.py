"""The on-call part of `config.yaml`: rotations, overrides and escalation.

Parsed here, beside the rules that use it, so each check can say exactly what
the lead wrote wrong: every error names the file, the line and the key.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from app.config.durations import Duration, check_year, parse_duration
from app.oncall.escalation import EscalationStep
from app.oncall.rotation import HOUR_SHIFTS, ORDERS, WEEKDAYS, Override, Rotation, wall_clock
from app.config.yamlnodes import ConfigError, LineList, Section


SECRET_ENV = "TRIAGEBOARD_CALENDAR_SECRET"
DEFAULT_HORIZON_DAYS = 90
MAX_HORIZON_DAYS = 731
"""Two years (GoAlert #1459 asked for more than a fixed horizon), and a leap day."""


class FeedSettings(msgspec.Struct, frozen=True):
    """The `calendar:` section: the live feed (`app.oncall.feed`)."""

    secret_env: str = SECRET_ENV
    horizon_days: int = DEFAULT_HORIZON_DAYS
    revoked: tuple[str, ...] = ()
    """Token ids (the "id" that `calendar token` prints) that no longer open a feed."""


class OnCall(msgspec.Struct, frozen=True):
    """Everything the roster and the escalation clock need, from the config."""

    rotations: tuple[Rotation, ...] = ()
    overrides: tuple[Override, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()
    ack_timeout: Duration | None = None
    """`escalation_ack_timeout`: an acknowledged page that has not moved for this long is paged again."""
    calendar: FeedSettings = FeedSettings()
    """`calendar:`: the live feed's secret variable, horizon and revoked tokens."""

    def rotation(self, name: str) -> Rotation:
        for rotation in self.rotations:
            if rotation.name == name:
                return rotation
        raise KeyError(f"no rotation named {name!r}")


def parse_oncall(sections: Mapping[str, Section], handles: set[str], tz: str,
                 fits: Callable[[Duration], Duration]) -> OnCall:
    """Read the `rotations`, `overrides` and `escalation` sections (`Config.sections`).

    Takes the team's handles, the board's zone and the calendar's check of a duration as
    plain values, not the `Config` it is part of: `app.config.settings` imports this module.
    """
    rotations = _parse_rotations(sections.get("rotations"), handles, tz)
    by_name = {r.name: r for r in rotations}
    overrides = _parse_overrides(sections.get("overrides"), by_name, handles, tz)
    escalation = _parse_escalation(sections.get("escalation"), by_name, fits)
    ack_timeout = None
    wrapper = sections.get("escalation_ack_timeout")
    if wrapper is not None:
        if wrapper.key == "escalation_ack_timeout":
            raise wrapper.fail(None, "expected a duration such as 4h or 2 working hours, not a mapping")
        ack_timeout = wrapper.get("escalation_ack_timeout", (str, int), convert=lambda value: _ack_timeout(value, fits))
        if ack_timeout is not None and not escalation:
            raise wrapper.fail("escalation_ack_timeout", "needs an escalation: list to page through")
    return OnCall(rotations=rotations, overrides=overrides, escalation=escalation, ack_timeout=ack_timeout,
                  calendar=_parse_calendar(sections.get("calendar")))


_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parse_calendar(section: Section | None) -> FeedSettings:
    if section is None:
        return FeedSettings()
    if section.key != "calendar":
        raise section.fail("calendar", "expected a mapping {secret_env, horizon, revoked}")
    section.only("secret_env", "horizon", "revoked")
    secret_env = section.get("secret_env", str, SECRET_ENV)
    if not _ENV_RE.match(secret_env):
        raise section.fail("secret_env", f"{secret_env!r} is not an environment variable name "
                                         "(the secret itself never goes in this file)")

    def horizon(value: Any) -> int:
        duration = parse_duration(value, allow_working=False, units="dw")
        days = duration.as_timedelta().days
        if not 1 <= days <= MAX_HORIZON_DAYS:
            raise ValueError(f"the horizon is between 1d and two years ({MAX_HORIZON_DAYS}d), got {value!r}")
        return days

    def revoked(value: Any) -> tuple[str, ...]:
        ids = tuple(str(v).strip().lower() for v in value)
        bad = [i for i in ids if not re.match(r"^[0-9a-f]{8,32}$", i)]
        if bad:
            raise ValueError(f"a token id is the hex 'id' that 'triageboard calendar token' printed, got {bad[0]!r}")
        return ids

    return FeedSettings(secret_env=secret_env,
                        horizon_days=section.get("horizon", (str, int), DEFAULT_HORIZON_DAYS, convert=horizon),
                        revoked=section.get("revoked", list, (), convert=revoked))


def _ack_timeout(value: Any, fits: Callable[[Duration], Duration]) -> Duration:
    duration = fits(parse_duration(value))
    if duration.amount < 1:
        raise ValueError(f"an acknowledgement timeout must be longer than nothing, got {value!r}")
    return duration


def _list_section(section: Section | None, name: str) -> Section | None:
    """The wrapper `load_config` builds around a top-level list, or an error."""
    if section is not None and section.key == name:
        raise section.fail(None, f"'{name}' is a list (each item starts with '- '), not a mapping")
    return section


_HANDOFF_RE = re.compile(r"^\s*(?:([A-Za-z]+)\s+)?(\d{1,2}):(\d{2})\s*$")
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def _handoff(shift: Duration) -> Callable[[str], tuple[int | None, time]]:
    """`monday 09:00`, or `09:00` alone for day and hour shifts (issue #17)."""
    def convert(value: str) -> tuple[int | None, time]:
        match = _HANDOFF_RE.match(value)
        if match:
            day = (match.group(1) or "").lower()
            weekday = next((i for i, name in enumerate(WEEKDAYS) if name == day or name[:3] == day), None)
            hour, minute = int(match.group(2)), int(match.group(3))
            if (weekday is not None or not day) and hour < 24 and minute < 60:
                if weekday is not None and shift.unit == "hours":
                    raise ValueError(f"an hour shift ({shift}) hands off every day at 'HH:MM' and every "
                                     f"{shift} after it: leave out the weekday, got {value!r}")
                if weekday is None and shift.unit == "weeks":
                    raise ValueError(f"a weekly shift needs a weekday, such as 'monday 09:00', got {value!r}")
                return weekday, time(hour, minute)
        if shift.unit == "weeks":
            raise ValueError(f"expected a weekday and a 24-hour time, such as 'monday 09:00', got {value!r}")
        raise ValueError(f"expected a 24-hour time such as '09:00' (or 'monday 09:00'), got {value!r}")

    return convert


def _clock(text: str) -> time:
    match = _CLOCK_RE.match(text.strip())
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"expected 24-hour times, such as '07:00-19:00', got {text.strip()!r}")


def _active_hours(value: str) -> tuple[time, time]:
    """`07:00-19:00`; `22:00-06:00` wraps past midnight; equal ends would be an empty range."""
    parts = value.split("-")
    if len(parts) != 2:
        raise ValueError(f"expected a range of 24-hour times, such as '07:00-19:00', got {value!r}")
    opens, closes = _clock(parts[0]), _clock(parts[1])
    if opens == closes:
        raise ValueError(f"the range {value!r} is empty (leave out active_hours for all day)")
    return opens, closes


def _zone(name: str) -> str:
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/London)") from None
    return name.strip()


def _start_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"expected a date such as 2026-11-02, got a date and time {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date such as 2026-11-02, got {value!r}")


def _shift(value: Any) -> Duration:
    duration = parse_duration(value, allow_working=False, units="hdw")
    if duration.unit == "hours":
        if duration.amount not in HOUR_SHIFTS:
            raise ValueError(f"an hour shift must divide a day ({', '.join(f'{n}h' for n in HOUR_SHIFTS)}; "
                             f"or Nd, Nw), got {value!r}")
    elif duration.amount < 1 or duration.unit not in ("days", "weeks"):
        raise ValueError(f"a shift is hours dividing a day, or at least one day (Nh, Nd or Nw), got {value!r}")
    return duration


def _parse_rotations(section: Section | None, handles: set[str], tz: str) -> tuple[Rotation, ...]:
    section = _list_section(section, "rotations")
    if section is None:
        return ()
    rotations: list[Rotation] = []
    lines: dict[str, int] = {}
    for index, _, item, line in section.items("rotations"):
        if item is None:
            raise section.item_error("rotations", index, "a rotation is a mapping {name, members, shift, handoff, start}")
        item.only("name", "members", "order", "shift", "handoff", "start", "seats", "timezone", "active_hours")
        name = item.require("name", str).strip()
        if name in lines:
            raise item.fail("name", f"rotation {name!r} is already defined at line {lines[name]}")
        lines[name] = item.line_of("name")
        members = _members(item, handles)
        order = item.get("order", str, "listed")
        if order not in ORDERS:
            raise item.fail("order", f"expected one of {', '.join(ORDERS)}, got {order!r}")
        shift = item.require("shift", (str, int), convert=_shift)
        weekday, at = item.require("handoff", str, convert=_handoff(shift))
        start = item.require("start", convert=lambda value: check_year(_start_date(value)))
        seats = item.get("seats", int, 1)
        if not 1 <= seats <= len(members):
            raise item.fail("seats", f"seats must be between 1 and the number of members ({len(members)}), got {seats}")
        zone = item.get("timezone", str, tz, convert=_zone)
        active = item.get("active_hours", str, convert=_active_hours)
        rotations.append(Rotation(name=name, members=members, shift=shift, handoff_weekday=weekday,
                                  handoff_time=at, start=start, timezone=zone, seats=seats, order=order,
                                  active_hours=active))
    return tuple(rotations)


def _members(item: Section, handles: set[str]) -> tuple[str, ...]:
    value = item.require("members", list)
    if not value:
        raise item.fail("members", "a rotation needs at least one member")
    members: list[str] = []
    for i, handle in enumerate(value):
        if not isinstance(handle, str):
            raise _member_error(item, value, i, f"a member is a handle from the team, got {handle!r}")
        if handle not in handles:
            raise _member_error(item, value, i, f"unknown member {handle!r} (not listed under team:)")
        if handle in members:
            raise _member_error(item, value, i, f"{handle!r} is listed twice")
        members.append(handle)
    return tuple(members)


def _member_error(item: Section, value: Any, i: int, message: str, key: str = "members") -> ConfigError:
    if isinstance(value, LineList):
        return item.item_error(key, i, message)
    return item.fail(key, message)


def _instant(tz: str) -> Any:
    """Convert an override's `from`/`to`; without an offset it is board time."""
    zone = ZoneInfo(tz)

    def convert(value: Any) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"expected a date and time such as 2026-12-21T09:00, got {value!r}") from None
        else:
            raise ValueError(f"expected a date and time such as 2026-12-21T09:00, got {value!r}")
        check_year(moment)
        if moment.tzinfo is None:
            return wall_clock(moment.date(), moment.time(), zone)
        return moment

    return convert


def _parse_overrides(section: Section | None, rotations: dict[str, Rotation], handles: set[str],
                     tz: str) -> tuple[Override, ...]:
    section = _list_section(section, "overrides")
    if section is None:
        return ()
    overrides: list[tuple[Override, int]] = []
    for index, _, item, _ in section.items("overrides"):
        if item is None:
            raise section.item_error("overrides", index, "an override is a mapping {rotation, member, from, to}")
        item.only("rotation", "member", "replaces", "from", "to")
        name = item.require("rotation", str)
        rotation = rotations.get(name)
        if rotation is None:
            raise item.fail("rotation", f"unknown rotation {name!r} (rotations: {', '.join(rotations) or 'none'})")
        member = item.require("member", str)
        if member not in handles:
            raise item.fail("member", f"unknown member {member!r} (not listed under team:)")
        replaces = item.get("replaces", str)
        if replaces is None and rotation.seats > 1:
            raise item.fail(None, f"missing 'replaces': {name!r} has {rotation.seats} seats, "
                                  f"so say whose seat {member} covers")
        if replaces is not None and replaces not in rotation.members:
            raise item.fail("replaces", f"{replaces!r} is not a member of rotation {name!r}")
        if replaces == member:
            raise item.fail("replaces", f"{member!r} cannot replace themselves")
        start = item.require("from", convert=_instant(tz))
        end = item.require("to", convert=_instant(tz))
        if end <= start:
            raise item.fail("to", "must be after 'from'")
        override = Override(rotation=name, member=member, replaces=replaces, start=start, end=end)
        for other, other_line in overrides:
            if other.rotation == name and _same_seat(rotation, other, override) \
                    and other.start < override.end and override.start < other.end:
                seat = f"{replaces}'s seat" if rotation.seats > 1 else "the seat"
                raise item.fail("from", f"overlaps the override at line {other_line}, which covers "
                                        f"{seat} in {name!r} at the same time")
        overrides.append((override, item.data.line))
    return tuple(o for o, _ in overrides)


def _same_seat(rotation: Rotation, a: Override, b: Override) -> bool:
    return rotation.seats == 1 or a.replaces == b.replaces


def _parse_escalation(section: Section | None, rotations: dict[str, Rotation],
                      fits: Callable[[Duration], Duration]) -> tuple[EscalationStep, ...]:
    section = _list_section(section, "escalation")
    if section is None:
        return ()
    steps: list[EscalationStep] = []
    for index, _, item, _ in section.items("escalation"):
        if item is None:
            raise section.item_error("escalation", index, "a step is a mapping {rotation, after}")
        item.only("rotation", "after")
        value = item.require("rotation", (str, list))
        names = [value] if isinstance(value, str) else list(value)
        if not names:
            raise item.fail("rotation", "name at least one rotation")
        for i, name in enumerate(names):
            if not isinstance(name, str) or name not in rotations:
                message = f"unknown rotation {name!r} (rotations: {', '.join(rotations) or 'none'})"
                raise item.fail("rotation", message) if isinstance(value, str) else _member_error(item, value, i, message, "rotation")
            if names.index(name) != i:
                raise _member_error(item, value, i, f"{name!r} is listed twice", "rotation")
        # Working time is accepted here; the escalation clock asks the business calendar.
        after = item.require("after", (str, int), convert=lambda value: fits(parse_duration(value)))
        steps.append(EscalationStep(index=index, rotation=" + ".join(names), after=after,
                                    rotations=tuple(names) if len(names) > 1 else ()))
    return tuple(steps)
