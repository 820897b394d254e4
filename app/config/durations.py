"""The duration grammar shared by `config.yaml`.

`Nm`, `Nh`, `Nd`, `Nw` are wall-clock (calendar) time; `N working hours` and
`N working days` count only the business calendar's working time. Escalation
delays, response targets and rotation shifts all use the same words so a lead
learns them once.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import msgspec

_WALL = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)\s*$", re.I)
_WORKING = re.compile(r"^\s*(\d+)\s+working\s+(hour|hours|day|days)\s*$", re.I)

MAX_DAYS = 3653
"""The longest duration the file may give: ten years. Longer ones are typos that would overflow
a date later (a shift of 99999999999999999999w), so the check refuses them with their line."""
_DAYS_PER_UNIT = {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1, "weeks": 7}


class Duration(msgspec.Struct, frozen=True):
    """A parsed duration: wall-clock (`working=False`) or business time."""

    amount: int
    unit: str  # "minutes", "hours", "days", "weeks" (wall) or "hours", "days" (working)
    working: bool = False

    def as_timedelta(self) -> timedelta:
        """Wall-clock length. Working durations need a calendar instead."""
        if self.working:
            raise ValueError("a working-time duration needs the business calendar")
        return timedelta(**{self.unit: self.amount})

    def __str__(self) -> str:
        if self.working:
            unit = self.unit if self.amount != 1 else self.unit.rstrip("s")
            return f"{self.amount} working {unit}"
        return f"{self.amount}{self.unit[0]}"


def parse_duration(text: object, *, allow_working: bool = True, units: str = "mhdw") -> Duration:
    """Parse `15m`, `2h`, `1d`, `2w` or `1 working day`; ValueError says what is accepted."""
    accepted = ", ".join(f"N{u}" for u in units) + (", N working hours, N working days" if allow_working else "")
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError(f"expected a duration ({accepted}), got {text!r}")
    if isinstance(text, int):
        if text == 0:
            return Duration(0, "minutes")
        raise ValueError(f"a duration needs a unit ({accepted}), got {text!r}")
    match = _WALL.match(text)
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)[0].lower()]
        if unit[0] not in units:
            raise ValueError(f"expected a duration ({accepted}), got {text!r}")
        return _bounded(match.group(1), unit, False, text)
    match = _WORKING.match(text)
    if match and allow_working:
        unit = "hours" if match.group(2).lower().startswith("hour") else "days"
        return _bounded(match.group(1), unit, True, text)
    raise ValueError(f"expected a duration ({accepted}), got {text!r}")


def _bounded(digits: str, unit: str, working: bool, text: str) -> Duration:
    """Refuse a duration longer than ten years (working time counted as calendar time, the upper bound)."""
    if len(digits.lstrip("0")) > 9 or int(digits) * _DAYS_PER_UNIT[unit] > MAX_DAYS:
        shown = text.strip() if len(text) < 40 else text.strip()[:37] + "..."
        raise ValueError(f"{shown!r} is longer than the maximum of ten years ({MAX_DAYS}d)")
    return Duration(int(digits), unit, working=working)


FIRST_YEAR, LAST_YEAR = 1970, 2999
"""Dates in the file (a rotation's start, an override, a report cycle's start) lie in these years:
a date near year 1 or 9999 overflows when a shift is added or a zone converts it."""


def check_year(value: date) -> date:
    """`value` (a date or datetime), or ValueError when its year is outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{value.isoformat()} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return value
