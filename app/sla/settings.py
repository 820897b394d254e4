"""The `sla:` section of `config.yaml`: the business calendar, the targets and the warning margin.

Parsed once into a frozen `SlaPolicy` (`Config.sla`). The keys are exactly
those of issue 6; a file without `sla:` gets 2i2c's defaults (seed 002): one
working day to the first response, an update every two working days, Monday
to Friday 09:00-17:00 with no holidays, a warning at 25% of the target left.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

import msgspec

from app.sla.calendar import WEEKDAYS, BusinessCalendar, RegionError, check_region, parse_working_hours
from app.config.durations import Duration, parse_duration
from app.config.yamlnodes import Section

TARGETS = ("first_response", "update_every")
PRIORITIES = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


class Targets(msgspec.Struct, frozen=True):
    """The two target lengths that apply to one ticket."""

    first_response: Duration = Duration(1, "days", working=True)
    update_every: Duration = Duration(2, "days", working=True)

    def length(self, name: str) -> Duration:
        return getattr(self, name)


class SlaPolicy(msgspec.Struct, frozen=True):
    """The parsed `sla:` section: the calendar, the targets and the warning margin."""

    calendar: BusinessCalendar
    targets: Targets = Targets()
    """Targets for any priority without an override."""
    warn_at: float = 0.25
    """A target turns to warning when the time left is at most this fraction of its length."""
    priorities: Mapping[int, Targets] = msgspec.field(default_factory=dict)
    """Per-priority targets (1 for P1); keys absent in the file are taken from `targets`."""

    def targets_for(self, priority: int | None) -> Targets:
        return self.priorities.get(priority, self.targets) if priority is not None else self.targets


def default_policy(tz: ZoneInfo) -> SlaPolicy:
    """The policy of a file without `sla:`: Mon–Fri 09:00–17:00, no holidays, 1 and 2 working days, 25%."""
    return SlaPolicy(calendar=BusinessCalendar(tz))


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_DAY_NAMES = {name: index for index, name in enumerate(WEEKDAYS)}
_DAY_NAMES.update({full: index for index, full in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))})


def parse_sla(section: Section | None, tz: ZoneInfo, deferred: list[Callable[[], None]] | None = None
              ) -> SlaPolicy:
    """Parse the `sla:` section (None when the file has none) into an `SlaPolicy`.

    Every problem raises `ConfigError` with the file, line and key. Given a
    `deferred` list, the check of `holidays:` against the holidays library
    (a fifth of a second of imports) is appended to it instead of run.
    """
    if section is None:
        return default_policy(tz)
    section.only("working_days", "working_hours", "holidays", "first_response", "update_every",
                 "warn_at", "priorities")
    days = _parse_days(section)
    hours = section.get("working_hours", str, ((9 * 60, 17 * 60),), convert=parse_working_hours)
    country, subdivision, dates = _parse_holidays(section.section("holidays"), deferred)
    calendar = BusinessCalendar(tz, working_days=days, hours=hours, country=country,
                                subdivision=subdivision, extra_dates=dates)
    builtin = Targets()

    def _target(value: object) -> Duration:
        return calendar.check_fits(_any_target(value))

    defaults = Targets(first_response=section.get("first_response", (str, int), builtin.first_response,
                                                  convert=_target),
                       update_every=section.get("update_every", (str, int), builtin.update_every,
                                                convert=_target))
    warn_at = section.get("warn_at", (str, int, float), 0.25, convert=_percentage)
    priorities: dict[int, Targets] = {}
    overrides = section.section("priorities")
    for name, _ in section.mapping("priorities"):
        if name not in PRIORITIES:
            raise overrides.fail(name, f"unknown priority (expected one of: {', '.join(PRIORITIES)})")
        sub = overrides.section(name)
        if sub is None:
            raise overrides.fail(name, "expected a mapping {first_response, update_every}")
        sub.only(*TARGETS)
        priorities[PRIORITIES[name]] = Targets(
            first_response=sub.get("first_response", (str, int), defaults.first_response, convert=_target),
            update_every=sub.get("update_every", (str, int), defaults.update_every, convert=_target))
    return SlaPolicy(calendar=calendar, targets=defaults, warn_at=warn_at, priorities=priorities)


def _parse_days(section: Section) -> frozenset[int]:
    if "working_days" not in section:
        return frozenset(range(5))
    days: set[int] = set()
    for index, value, _, _ in section.items("working_days", required=True):
        number = _DAY_NAMES.get(str(value).strip().lower()) if isinstance(value, str) else None
        if number is None:
            raise section.item_error("working_days", index, f"expected a day name ({', '.join(WEEKDAYS)}), got {value!r}")
        if number in days:
            raise section.item_error("working_days", index, f"{value!r} is listed twice")
        days.add(number)
    if not days:
        raise section.fail("working_days", "at least one working day is needed")
    return frozenset(days)


def _parse_holidays(section: Section | None, deferred: list[Callable[[], None]] | None = None
                    ) -> tuple[str | None, str | None, frozenset[date]]:
    if section is None:
        return None, None, frozenset()
    section.only("country", "subdivision", "dates")
    country = section.get("country", str)
    subdivision = section.get("subdivision", (str, int), convert=str)
    if subdivision is not None and country is None:
        raise section.fail("subdivision", "a subdivision needs a country")
    if country is not None:
        def check() -> None:
            try:
                check_region(country, subdivision)
            except RegionError as exc:
                raise section.fail(exc.field, str(exc)) from None

        if deferred is None:
            check()
        else:
            deferred.append(check)
    dates: set[date] = set()
    for index, value, _, _ in section.items("dates"):
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                pass
        if not isinstance(value, date) or isinstance(value, datetime):
            raise section.item_error("dates", index, f"expected a date such as 2026-12-29, got {value!r}")
        dates.add(value)
    return country, subdivision, frozenset(dates)


def _any_target(value: object) -> Duration:
    duration = parse_duration(value)
    if duration.amount <= 0:
        raise ValueError("a response target must be longer than zero")
    return duration


def _percentage(value: object) -> float:
    match = _PERCENT.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a percentage of the target such as 25%, got {value!r}")
    percent = float(match.group(1))
    if not 0 <= percent < 100:
        raise ValueError(f"a warning margin is from 0% to under 100%, got {value!r}")
    return percent / 100
