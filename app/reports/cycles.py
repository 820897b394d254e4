"""Report periods, the two-week cycle and the `report:` section of config.yaml.

Sourcegraph's team (seed 004) plans, syncs and holds a retro on a two-week
cycle, so a report is normally "cycle N": cycles of `report.cycle` length
anchored at `report.start`. A period is a run of whole calendar days in the
board's time zone: a retro talks about "Monday to Sunday", not about UTC
instants, and the end of a day is local midnight on both sides of a
daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

import msgspec

from app.config.durations import Duration, check_year, parse_duration
from app.config.yamlnodes import Section

WORK_TYPES = ("support", "project", "adhoc")
"""Seed 004: the team splits its time between support, project work and ad-hoc requests."""

DEFAULT_WORK_TYPES: Mapping[str, str] = {
    "incident": "support",
    "escalation": "support",
    "question": "support",
    "bug": "support",
    "feature": "project",
}
"""A ticket's work type when its own `work_type` field is empty, by kind."""

FALLBACK_WORK_TYPE = "support"
"""For a kind the mapping does not know (an old import): it came in as a request, so support."""

DEFAULT_CYCLE = Duration(2, "weeks")
DEFAULT_START = dt.date(2024, 1, 1)
"""A Monday, so default cycles run Monday to Sunday fortnights."""
DEFAULT_STALE = Duration(7, "days")
DEFAULT_STALE_WORKING = Duration(5, "days", working=True)


class ReportSettings(msgspec.Struct, frozen=True):
    """The `report:` section, with its defaults when the section is absent."""

    cycle: Duration = DEFAULT_CYCLE
    """Length of one cycle: whole days or weeks (`14d`, `2w`)."""
    start: dt.date = DEFAULT_START
    """The first day of cycle 0; cycles before it have negative numbers."""
    stale_after: Duration | None = None
    """A card in one column longer than this is stale. None: 5 working days
    on the business calendar (`sla:`, which always has one), 7 days without."""
    work_types: Mapping[str, str] = msgspec.field(default_factory=lambda: dict(DEFAULT_WORK_TYPES))
    """Kind -> work type, used when a ticket's own work type is empty."""

    @property
    def cycle_days(self) -> int:
        return self.cycle.as_timedelta().days

    def work_type(self, kind: str, explicit: str | None = None) -> str:
        """The ticket's work type: its own field wins, then the kind's default."""
        if explicit:
            return explicit
        return self.work_types.get(kind, FALLBACK_WORK_TYPE)

    def stale_rule(self, add_working: Callable[[dt.datetime, Duration], dt.datetime] | None = None
                   ) -> Callable[[dt.datetime], dt.datetime]:
        """A function from "entered the column at" to "stale from", both naive UTC.

        `add_working` is the business calendar's `add_working` (aware instant
        plus a duration, e.g. `config.sla.calendar.add_working`); without it a
        working-time `stale_after` cannot be honoured and is refused rather
        than silently read as calendar days, and the default is 7 days.
        """
        duration = self.stale_after or (DEFAULT_STALE_WORKING if add_working else DEFAULT_STALE)
        if duration.working:
            if add_working is None:
                raise ValueError(f"report.stale_after is {duration}, which needs the business calendar")

            def on_calendar(entered: dt.datetime) -> dt.datetime:
                due = add_working(entered.replace(tzinfo=dt.timezone.utc), duration)
                return due.astimezone(dt.timezone.utc).replace(tzinfo=None)

            return on_calendar
        length = duration.as_timedelta()
        return lambda entered: entered + length


class Period(msgspec.Struct, frozen=True):
    """Whole local days [start, end) in the board's time zone."""

    start: dt.date
    end: dt.date
    """Exclusive: a cycle from 2026-11-02 has end 2026-11-16 and last day 2026-11-15."""
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a period ends after it starts ({self.start} .. {self.end})")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def midnight(self, day: dt.date) -> dt.datetime:
        """Local midnight at the start of `day` as naive UTC, the database's convention.

        Where a zone skips midnight (a few do at a DST change) the instant is
        the one the clock jumps to, as `zoneinfo` resolves fold=0.
        """
        local = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None)

    @property
    def start_utc(self) -> dt.datetime:
        return self.midnight(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return self.midnight(self.end)

    def days(self) -> tuple[dt.date, ...]:
        count = (self.end - self.start).days
        return tuple(self.start + dt.timedelta(days=i) for i in range(count))


def cycle_period(settings: ReportSettings, number: int, timezone: str = "UTC") -> Period:
    """Cycle N is [start + N x length, start + (N + 1) x length)."""
    length = dt.timedelta(days=settings.cycle_days)
    first = settings.start + number * length
    return Period(first, first + length, timezone)


def cycle_number(settings: ReportSettings, instant: dt.datetime, timezone: str = "UTC") -> int:
    """The number of the cycle holding `instant` (naive UTC or aware).

    The instant is first turned into a local date, so a move at 23:30 UTC on a
    Sunday belongs to Monday's cycle in a zone east of UTC.
    """
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    local_day = instant.astimezone(ZoneInfo(timezone)).date()
    return (local_day - settings.start).days // settings.cycle_days


def current_cycle(settings: ReportSettings, instant: dt.datetime, timezone: str = "UTC") -> Period:
    return cycle_period(settings, cycle_number(settings, instant, timezone), timezone)


def parse_report(section: Section | None, *, kinds: tuple[str, ...] = tuple(DEFAULT_WORK_TYPES),
                 has_calendar: bool = False, fits: Callable[[Duration], Duration] | None = None
                 ) -> ReportSettings:
    """Read the `report:` section; absent keys take the defaults.

    `has_calendar` says whether the file defines a business calendar: without
    one a `stale_after` in working days would have nothing to count on.
    """
    if section is None:
        return ReportSettings()
    section.only("cycle", "start", "stale_after", "work_types")

    def cycle(value: object) -> Duration:
        duration = parse_duration(value, allow_working=False, units="dw")
        if duration.amount < 1:
            raise ValueError("a cycle lasts at least one day")
        return duration

    def start(value: object) -> dt.date:
        if isinstance(value, dt.datetime):
            raise ValueError(f"expected a date such as 2026-11-02, got a date and time {value}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected a date such as 2026-11-02, got {value!r}")

    def stale(value: object) -> Duration:
        duration = parse_duration(value, units="hdw")
        if duration.amount < 1:
            raise ValueError("stale_after must be longer than zero")
        if duration.working and not has_calendar:
            raise ValueError(f"{duration} needs the business calendar (sla:); use days such as 7d")
        return fits(duration) if fits else duration

    work_types = dict(DEFAULT_WORK_TYPES)
    mapping = section.section("work_types")
    for kind, value in section.mapping("work_types"):
        if kind not in kinds:
            raise mapping.fail(kind, f"unknown kind {kind!r} (kinds: {', '.join(kinds)})")
        if value not in WORK_TYPES:
            raise mapping.fail(kind, f"expected one of {', '.join(WORK_TYPES)}, got {value!r}")
        work_types[kind] = value

    return ReportSettings(
        cycle=section.get("cycle", default=DEFAULT_CYCLE, convert=cycle),
        start=section.get("start", default=DEFAULT_START, convert=lambda value: check_year(start(value))),
        stale_after=section.get("stale_after", default=None, convert=stale),
        work_types=work_types,
    )
