"""The business calendar: when the team is at work, so response targets count only that time.

Seed 002 (2i2c) promises a response "within one working day", which means
nothing without a calendar: the team's working days, its working hours
(possibly split around lunch), its time zone and its holidays. This module is
pure (no Textual, no SQL) and works on aware datetimes only; a naive instant
is refused rather than guessed at.

Working hours are wall-clock times in the board's zone, so "09:00" is 09:00
local on both sides of a daylight-saving change. Working *time* is real
elapsed time inside those hours: on a day whose clock change falls inside the
working hours, that day holds an hour more or less of it.

Arithmetic walks day by day (never minute by minute): a day contributes its
working windows, computed once and cached, so a target a few working days out
costs a handful of steps however many tickets are on the board. For many
instants at once (an import's due instants), `WorkingTimeIndex` lays a span's
windows out once and answers each with a bisect.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from app.config.durations import Duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names as `config.yaml` spells them; the index is `date.weekday()`."""

MINUTES_PER_DAY = 24 * 60
_SEARCH_LIMIT = 3660
"""Days to look ahead for working time before giving up (a calendar with none)."""

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Window = tuple[int, int]
"""A working range within a day: minutes after local midnight, [start, end)."""


def parse_working_hours(text: str) -> tuple[Window, ...]:
    """Parse "09:00-17:00" or "09:00-12:30, 13:30-17:30" into sorted windows.

    The end may be 24:00 (midnight at the end of the day). Ranges that touch
    are merged; ranges that overlap are refused, since that is almost always a
    typing mistake rather than an intent. ValueError says what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected working hours such as \"09:00-17:00\", got {text!r}")
    windows: list[Window] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"expected HH:MM-HH:MM, got {part.strip()!r}")
        sh, sm, eh, em = (int(g) for g in match.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
            raise ValueError(f"{part.strip()!r} is not a valid time range (00:00 to 24:00)")
        start, end = sh * 60 + sm, eh * 60 + em
        if end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts")
        windows.append((start, end))
    windows.sort()
    merged: list[Window] = [windows[0]]
    for start, end in windows[1:]:
        last_start, last_end = merged[-1]
        if start < last_end:
            raise ValueError(f"ranges {_show(merged[-1])} and {_show((start, end))} overlap")
        if start == last_end:
            merged[-1] = (last_start, end)
        else:
            merged.append((start, end))
    return tuple(merged)


class RegionError(ValueError):
    """A holiday region the `holidays` library does not know; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_region(country: str, subdivision: str | None = None) -> None:
    """Refuse a country or subdivision code the `holidays` library cannot look up.

    Asks for that one country's calendar: listing every supported country
    would import all of them. Even one country imports the library's whole
    country table (a fifth of a second), which is why the board runs this
    after its first paint (`load_config(defer_checks=True)`).
    """
    import holidays as holidays_lib  # a fifth of a second: only when a calendar is really asked

    try:
        holidays_lib.country_holidays(country, years=())
    except NotImplementedError:
        raise RegionError("country", f"{country!r} is not a country code the holidays library knows "
                                     "(ISO 3166 alpha-2, e.g. GB, US, DE)") from None
    if subdivision is None:
        return
    try:
        holidays_lib.country_holidays(country, subdiv=subdivision, years=())
    except NotImplementedError:
        known = holidays_lib.country_holidays(country, years=()).subdivisions
        codes = ", ".join(known) or "none"
        raise RegionError("subdivision", f"{country} has no subdivision {subdivision!r} (known: {codes})") from None


def _show(window: Window) -> str:
    return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in window)


# A dataclass, not a msgspec struct: the caches below stay out of `==`, the hash and the repr
# (compare=False, repr=False), which msgspec cannot do per field.
@dataclass(frozen=True)
class BusinessCalendar:
    """Working days, working hours, holidays and the zone they are read in.

    Holidays come from the `holidays` library by country and subdivision
    (e.g. GB/ENG: the English bank holidays, including substitute days) plus
    `extra_dates` the team adds itself (a company shutdown day).
    """

    tz: ZoneInfo
    working_days: frozenset[int] = frozenset(range(5))
    """Weekday numbers, Monday = 0."""
    hours: tuple[Window, ...] = ((9 * 60, 17 * 60),)
    """Sorted, non-overlapping working ranges of a day, wall-clock in `tz`."""
    country: str | None = None
    subdivision: str | None = None
    extra_dates: frozenset[date] = frozenset()
    _holiday_years: dict[int, frozenset[date]] = field(default_factory=dict, compare=False, repr=False)
    _day_windows: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, compare=False, repr=False)
    _before: dict[date, timedelta] = field(default_factory=dict, compare=False, repr=False)
    """Working time from the first day ever asked about to each day's start: see `_working_before`."""

    def __post_init__(self) -> None:
        if not self.working_days:
            raise ValueError("a business calendar needs at least one working day")
        if not self.hours:
            raise ValueError("a business calendar needs working hours")
        # The region is checked by whoever parsed it (`parse_sla`), now or deferred: checking
        # it here would import the holidays library for every calendar built.

    # -- the days -----------------------------------------------------------

    @property
    def day_length(self) -> timedelta:
        """Working time in a full working day, by the wall clock (8h for 09:00-17:00).

        This is what "1 working day" means: see `working_length`.
        """
        return timedelta(minutes=sum(end - start for start, end in self.hours))

    def is_holiday(self, day: date) -> bool:
        if day in self.extra_dates:
            return True
        if self.country is None:
            return False
        dates = self._holiday_years.get(day.year)
        if dates is None:
            # One library call per year, then plain set lookups.
            import holidays as holidays_lib

            dates = frozenset(holidays_lib.country_holidays(self.country, subdiv=self.subdivision, years=day.year))
            self._holiday_years[day.year] = dates
        return day in dates

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and not self.is_holiday(day)

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working windows of a local date as UTC instants (empty on a day off)."""
        cached = self._day_windows.get(day)
        if cached is None:
            if self.is_working_day(day):
                cached = tuple((self._instant(day, start), self._instant(day, end)) for start, end in self.hours)
                cached = tuple((s, e) for s, e in cached if e > s)
            else:
                cached = ()
            self._day_windows[day] = cached
        return cached

    def _instant(self, day: date, minutes: int) -> datetime:
        """The UTC instant of a wall-clock time on a local date.

        A time that occurs twice (the clock goes back) means its first
        occurrence; a time the clock skips means the instant of the jump, the
        same rule the rotations follow for their handoffs.
        """
        if minutes == MINUTES_PER_DAY:
            day, minutes = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
        instant = local.astimezone(timezone.utc)
        if instant.astimezone(self.tz).replace(tzinfo=None) == local.replace(tzinfo=None):
            return instant
        # In a gap: fold=0 and fold=1 read it with the offsets either side of
        # the jump, which brackets the jump; bisect to the second.
        other = local.replace(fold=1).astimezone(timezone.utc)
        lo, hi = min(instant, other), max(instant, other)
        before = lo.astimezone(self.tz).utcoffset()
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if mid.astimezone(self.tz).utcoffset() == before:
                lo = mid
            else:
                hi = mid
        return hi.replace(microsecond=0) if hi.microsecond else hi

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    # -- the arithmetic -----------------------------------------------------

    def is_working(self, instant: datetime) -> bool:
        """True when `instant` falls inside working hours on a working day."""
        instant = _utc(instant)
        day = self._local_date(instant)
        return any(start <= instant < end for start, end in self.windows(day))

    def working_length(self, duration: Duration) -> timedelta:
        """The working time a working duration stands for.

        "N working hours" is N hours of working time. "N working days" is N
        times the working time of a full working day (`day_length`), so from a
        point inside the hours it lands at the same wall-clock time N working
        days later: Friday 15:00 + 1 working day = the next working day at
        15:00. A wall-clock duration is returned as its elapsed length.
        """
        if not duration.working:
            return duration.as_timedelta()
        if duration.unit == "hours":
            return timedelta(hours=duration.amount)
        return duration.amount * self.day_length

    def check_fits(self, duration: Duration) -> Duration:
        """`duration`, or ValueError when it is more working time than five years of this calendar.

        Adding working time searches ten years of days (`_SEARCH_LIMIT`); five years of
        working days, less the team's own days off, leaves the other five for public holidays,
        so every duration the config check accepts can be added.
        """
        if not duration.working:
            return duration
        weeks = 5 * 52
        days = max(len(self.working_days) * weeks - len(self.extra_dates), 0)
        if self.working_length(duration) > days * self.day_length:
            most = days if duration.unit == "days" else int(days * self.day_length.total_seconds() // 3600)
            raise ValueError(f"{duration} is more than five years of this calendar's working time "
                             f"(at most {most} working {duration.unit})")
        return duration

    def add_working(self, instant: datetime, duration: Duration) -> datetime:
        """`instant` plus a duration: working durations count working time only.

        A wall-clock duration (`15m`, `2h`, `1d`) is added as elapsed time, so
        any duration of the shared grammar can be passed (an escalation step
        that waits `1 working day` and one that waits `15m` use the same call).
        """
        if not duration.working:
            return (_utc(instant) + duration.as_timedelta()).astimezone(self.tz)
        return self.add_working_time(instant, self.working_length(duration))

    def add_working_time(self, instant: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of working time after `instant` has passed.

        The result is in the board's zone. When the amount runs out exactly at
        the end of a window, the result is that end (Friday 17:00), not the
        start of the next window: the target is due the moment the working
        time is used up.

        Subtract results only after `.astimezone(timezone.utc)`: Python
        subtracts two datetimes of the same zone by their wall clocks.
        """
        instant = _utc(instant)
        day = self._local_date(instant)
        if amount <= timedelta(0):
            if amount < timedelta(0):
                raise ValueError("cannot add a negative amount of working time")
            return instant.astimezone(self.tz)
        remaining = amount
        # A local date's windows lie between its midnight and the next, so
        # nothing before the instant's own local date can matter.
        for _ in range(_SEARCH_LIMIT):
            for start, end in self.windows(day):
                if end <= instant:
                    continue
                start = max(start, instant)
                available = end - start
                if remaining <= available:
                    return (start + remaining).astimezone(self.tz)
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working time found within ten years: check working_days and holidays")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from `a` to `b`; negative when `b` is before `a`.

        The whole days in between come from running totals (`_working_before`),
        so a ticket open for months costs two lookups, not a walk over every
        day: `ticket list --sla` evaluates every open ticket.
        """
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.working_time_between(b, a)
        first, last = self._local_date(a), self._local_date(b)
        if first == last:
            return self._overlap(first, a, b)
        middle = self._working_before(last) - self._working_before(first + timedelta(days=1))
        return self._overlap(first, a, b) + middle + self._overlap(last, a, b)

    def _overlap(self, day: date, a: datetime, b: datetime) -> timedelta:
        total = timedelta(0)
        for start, end in self.windows(day):
            overlap = min(end, b) - max(start, a)
            if overlap > timedelta(0):
                total += overlap
        return total

    def _day_total(self, day: date) -> timedelta:
        return sum((end - start for start, end in self.windows(day)), timedelta(0))

    def _working_before(self, day: date) -> timedelta:
        """Working time from an anchor day (the first one asked about) to the start of `day`.

        Kept for a contiguous run of days, extended one day at a time in
        either direction, so each day's windows are summed once per calendar.
        Only differences of two values mean anything.
        """
        before = self._before
        if not before:
            before[day] = timedelta(0)
            return before[day]
        found = before.get(day)
        if found is not None:
            return found
        low, high = min(before), max(before)
        if day > high:
            while high < day:
                before[high + timedelta(days=1)] = before[high] + self._day_total(high)
                high += timedelta(days=1)
        else:
            while low > day:
                low -= timedelta(days=1)
                before[low] = before[low + timedelta(days=1)] - self._day_total(low)
        return before[day]


_EPOCH = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_EPOCH_ORDINAL = _EPOCH.toordinal()


def to_us(instant: datetime) -> int:
    """Microseconds since the epoch of a naive-UTC (as the database stores it) or aware instant."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(timezone.utc).replace(tzinfo=None)
    return (instant - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """The naive-UTC instant of `to_us`'s microseconds."""
    return _EPOCH + timedelta(microseconds=us)


class WorkingTimeIndex:
    """A calendar's working windows over a span of days as flat sorted arrays, for many instants at once.

    `BusinessCalendar.add_working_time` walks days from the instant's own date
    and builds datetimes as it goes: right for one ticket, 20 us a ticket when
    an import of 100,000 stores their due instants. Here the windows of the
    span (the calendar's own `windows(day)`, so holidays and clock changes are
    its) are laid out once, in integer microseconds since the epoch with the
    working time before each, so W(t) (working time up to `t`) and its
    inverse are a `bisect` each. Integers, not floats: the stored instants
    are exact to the microsecond. Only differences of W mean anything.

    The span grows forward when asked past its end; an instant before its
    first day is refused (the caller knows its earliest instant up front).
    """

    def __init__(self, calendar: BusinessCalendar, first: date, last: date):
        self.calendar = calendar
        self._first, self._next = first, first
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._before: list[int] = []
        """Working time from the span's start to each window's start."""
        self._until: list[int] = []
        """... and to each window's end."""
        self._days: list[int] = []
        """Each window's local date, as an ordinal (for add_working_time's ten-year limit)."""
        # Any instant whose UTC date lies strictly inside the span has its local date inside it
        # (no zone is a day off UTC): the bounds within which W is known exactly.
        self._low = (first.toordinal() + 1 - _EPOCH_ORDINAL) * _DAY_US
        self._high = self._low
        self._total = 0
        """Working time of the whole span held."""
        self._extend(last)

    def _extend(self, last: date) -> None:
        """Hold every day up to `last` too."""
        day, end = self._next, self._ends[-1] if self._ends else None
        total = self._total
        while day <= last:
            ordinal = day.toordinal()
            for start, stop in self.calendar.windows(day):
                start, stop = to_us(start), to_us(stop)
                if end is not None and start < end:
                    raise ValueError(f"working windows out of order on {day}")
                self._starts.append(start)
                self._ends.append(stop)
                self._before.append(total)
                total += stop - start
                self._until.append(total)
                self._days.append(ordinal)
                end = stop
            day += timedelta(days=1)
        self._next, self._total = day, total
        self._high = (day.toordinal() - 1 - _EPOCH_ORDINAL) * _DAY_US

    def _cover(self, t: int) -> None:
        if t < self._low:
            raise ValueError("instant before the working-time index's first day")
        if t >= self._high:
            self._extend(date.fromordinal(t // _DAY_US + _EPOCH_ORDINAL + 2 + 64))

    def working_before(self, t: int) -> int:
        """W(t): working time from the span's start to `t` (microseconds)."""
        if not self._low <= t < self._high:
            self._cover(t)
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        end = self._ends[i]
        return self._before[i] + (t if t < end else end) - self._starts[i]

    def between(self, a: int, b: int) -> int:
        """`working_time_between(a, b)` in microseconds, for a <= b."""
        return self.working_before(b) - self.working_before(a)

    def advance(self, t: int, amount: int) -> int:
        """`add_working_time(t, amount)` in microseconds: when the amount runs out at a window's end, that end."""
        return self.reach(t, self.working_before(t), amount)

    def reach(self, t: int, before: int, amount: int) -> int:
        """`advance(t, amount)` given `before` = W(t), so one instant's W serves several amounts."""
        if amount <= 0:
            if amount < 0:
                raise ValueError("cannot add a negative amount of working time")
            return t
        target = before + amount
        limit = t // _DAY_US + _EPOCH_ORDINAL + _SEARCH_LIMIT
        while self._total < target and self._next.toordinal() <= limit + 1:
            self._extend(self._next + timedelta(days=max(64, (self._next - self._first).days)))
        if self._total < target:
            return self._exact(t, amount)
        j = bisect_left(self._until, target)
        if self._days[j] >= limit - 1:  # near the calendar's search limit: let it decide (or refuse)
            return self._exact(t, amount)
        return self._starts[j] + target - self._before[j]

    def _exact(self, t: int, amount: int) -> int:
        instant = from_us(t).replace(tzinfo=timezone.utc)
        return to_us(self.calendar.add_working_time(instant, timedelta(microseconds=amount)))


def _utc(instant: datetime) -> datetime:
    """The instant in UTC, so that subtraction counts elapsed time even across a clock change."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {instant.isoformat()} "
                         "(database instants are naive UTC: attach timezone.utc first)")
    return instant.astimezone(timezone.utc)
