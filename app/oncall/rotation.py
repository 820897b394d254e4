"""Who is on duty in a rotation at any instant: pure arithmetic, no storage.

A team checks its schedule against the rules in the product brief and issue
#17, so this module implements them literally: shift 0 begins at the first
handoff at or after `start` (00:00 local of `start` when the handoff has no
weekday); shift k begins k shift lengths of *calendar* time later, at the
handoff's wall-clock time in the rotation's zone. An hour shift of N hours
hands off at `HH:MM + j·N hours` every local day, so its shifts are the day's
slots in clock order, day after day. With `seats: s` the members on duty in
shift k are `sequence[(k - s + 1) mod n] … sequence[k mod n]`; outside
`active_hours` nobody is. Nothing is stored: the roster at any instant, past
or future, follows from the config.

Every instant this module returns is in UTC, and every instant it is given is
converted to UTC first. Python compares two datetimes that share a tzinfo by
their wall-clock reading, ignoring `fold`, so the two 01:30s of an autumn night
in one zone would compare equal; in UTC they cannot. Show instants to people
with `.astimezone(board tz)`.
"""

from __future__ import annotations

import heapq
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

import msgspec

from app.config.durations import Duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ORDERS = ("listed", "alphabetical")
HOUR_SHIFTS = (1, 2, 3, 4, 6, 8, 12)
"""Hour shifts must divide a day, so every local day has the same handoff times."""


class Rotation(msgspec.Struct, frozen=True):
    """One rotation from `config.yaml`, with the board's time zone it is read in."""

    name: str
    members: tuple[str, ...]
    """Handles as written in the file; `sequence` applies `order`."""
    shift: Duration
    """Calendar hours (dividing a day), days or weeks; never working time (a shift is not paused at night)."""
    handoff_weekday: int | None
    """0 = Monday … 6 = Sunday: the weekday of shift 0's handoff; None for "every day" (day and hour shifts)."""
    handoff_time: time
    """Wall-clock time of every handoff, in `timezone` (for an hour shift, one of the day's handoffs)."""
    start: date
    """Shift 0 begins at the first handoff on or after this date."""
    timezone: str
    seats: int = 1
    """How many members are on duty at once; each serves `seats` shifts."""
    order: str = "listed"
    active_hours: tuple[time, time] | None = None
    """[from, to) on `timezone`'s clock each day (to <= from wraps past midnight); None = always."""

    def __post_init__(self) -> None:
        if self.shift.working or self.shift.amount < 1 or self.shift.unit not in ("hours", "days", "weeks") \
                or (self.shift.unit == "hours" and self.shift.amount not in HOUR_SHIFTS):
            raise ValueError(f"a shift is hours dividing a day, or whole days or weeks, got {self.shift}")
        if self.shift.unit == "hours" and self.handoff_weekday is not None:
            raise ValueError("an hour shift hands off every day: its handoff has no weekday")
        if self.shift.unit == "weeks" and self.handoff_weekday is None:
            raise ValueError("a weekly shift needs a weekday in its handoff")
        if self.active_hours is not None and self.active_hours[0] == self.active_hours[1]:
            raise ValueError("active hours must not be empty")
        if not 1 <= self.seats <= len(self.members):
            raise ValueError(f"seats must be between 1 and the number of members, got {self.seats}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sequence(self) -> tuple[str, ...]:
        """The members in the order the rotation cycles through them."""
        return tuple(sorted(self.members)) if self.order == "alphabetical" else self.members

    @property
    def shift_days(self) -> int:
        """Calendar days per shift; 0 for an hour shift (see `slots`)."""
        if self.shift.unit == "hours":
            return 0
        return self.shift.amount * (7 if self.shift.unit == "weeks" else 1)

    @property
    def nominal(self) -> timedelta:
        """A shift's length when no clock change falls inside it (for estimates only)."""
        return self.shift.as_timedelta()

    @property
    def slots(self) -> tuple[time, ...]:
        """The day's handoff times in clock order from 00:00: one for day and week shifts."""
        if self.shift.unit != "hours":
            return (self.handoff_time,)
        return _slots(self.handoff_time, self.shift.amount)

    @property
    def first_handoff_date(self) -> date:
        if self.handoff_weekday is None:
            return self.start
        return self.start + timedelta(days=(self.handoff_weekday - self.start.weekday()) % 7)


@lru_cache(maxsize=64)
def _slots(at: time, hours: int) -> tuple[time, ...]:
    base = at.hour * 60 + at.minute
    minutes = sorted((base + j * hours * 60) % 1440 for j in range(24 // hours))
    return tuple(time(m // 60, m % 60) for m in minutes)


class Override(msgspec.Struct, frozen=True):
    """`member` holds the seat of `replaces` (or the only seat) for [start, end)."""

    rotation: str
    member: str
    replaces: str | None
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        # Held in UTC: see the module docstring on comparing aware datetimes. The struct is
        # frozen (object.__setattr__ is refused too): force_setattr is msgspec's way in __post_init__.
        msgspec.structs.force_setattr(self, "start", _require_aware(self.start))
        msgspec.structs.force_setattr(self, "end", _require_aware(self.end))
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")

    def covers(self, instant: datetime) -> bool:
        return self.start <= _require_aware(instant) < self.end


class Handoff(msgspec.Struct, frozen=True):
    """A moment the people on duty change: a shift boundary or an override edge."""

    rotation: str
    at: datetime
    incoming: tuple[str, ...]
    outgoing: tuple[str, ...]
    on_duty: tuple[str, ...]
    """Everyone on duty from `at`, longest-serving first."""


class Shift(msgspec.Struct, frozen=True):
    """One member's stretch of duty within one shift (a calendar event).

    An override splits the replaced member's shift: the covered part becomes a
    piece of its own for the covering member, with `override` set.
    """

    rotation: str
    member: str
    index: int
    start: datetime
    end: datetime
    override: Override | None = None
    replaces: str | None = None
    """Whose seat an override piece covers (the scheduled holder)."""


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant the clock in `tz` first shows `at` on `day`, or later.

    A time that occurs twice (autumn) is its first occurrence, which zoneinfo
    gives with fold=0. A time the clock skips (spring) happens at the instant
    the clock jumps: the earliest instant whose wall time is at or after it.
    zoneinfo's own reading of a skipped time (the pre-jump offset) would put a
    02:30 handoff at 03:30, half an hour after the jump, so the jump is found
    by bisection between the two offsets' readings.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    if _exists(first):
        return first.astimezone(timezone.utc)
    # In a gap: reading with the post-jump offset lands before the jump,
    # reading with the pre-jump offset lands after it.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)
    hi = first.astimezone(timezone.utc)
    if lo > hi:
        lo, hi = hi, lo
    # Invariant: wall(lo) < naive <= wall(hi). Transitions fall on whole seconds.
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


def _exists(aware: datetime) -> bool:
    back = aware.astimezone(timezone.utc).astimezone(aware.tzinfo)
    return back.replace(tzinfo=None) == aware.replace(tzinfo=None)


def shift_start(rotation: Rotation, k: int) -> datetime:
    """The instant shift `k` begins (k may be negative: before `start`).

    Two hour-shift handoffs can fall on one instant (a 01:00 and a 02:00
    handoff when the clock jumps from 01:00 to 02:00): the shift between
    them is empty, and nobody holds it.
    """
    if rotation.shift.unit == "hours":
        slots = rotation.slots
        days, slot = divmod(k, len(slots))
        return wall_clock(rotation.start + timedelta(days=days), slots[slot], rotation.tz)
    day = rotation.first_handoff_date + timedelta(days=k * rotation.shift_days)
    return wall_clock(day, rotation.handoff_time, rotation.tz)


def shift_index(rotation: Rotation, instant: datetime) -> int:
    """The k whose shift contains `instant`: shift_start(k) <= instant < shift_start(k+1)."""
    instant = _require_aware(instant)
    zero = shift_start(rotation, 0)
    # Offsets differ by hours at most, so the estimate is off by a shift or two at most.
    k = (instant - zero) // rotation.nominal
    while shift_start(rotation, k) > instant:
        k -= 1
    while shift_start(rotation, k + 1) <= instant:
        k += 1
    return k


def active_at(rotation: Rotation, instant: datetime) -> bool:
    """Whether `instant` lies in one of the rotation's active windows (always, without `active_hours`)."""
    if rotation.active_hours is None:
        return True
    instant = _require_aware(instant)
    day = instant.astimezone(rotation.tz).date()
    return any(begin <= instant < end for begin, end in
               (_window(rotation, day - timedelta(days=1)), _window(rotation, day)))


def _window(rotation: Rotation, day: date) -> tuple[datetime, datetime]:
    """The active window that opens on local `day`: its ends follow the handoff rules for skipped and repeated times."""
    assert rotation.active_hours is not None
    opens, closes = rotation.active_hours
    close_day = day + timedelta(days=1) if closes <= opens else day
    return wall_clock(day, opens, rotation.tz), wall_clock(close_day, closes, rotation.tz)


def active_windows(rotation: Rotation, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The active windows overlapping [start, end), clipped to it; [(start, end)] without `active_hours`."""
    start, end = _require_aware(start), _require_aware(end)
    if rotation.active_hours is None:
        return [(start, end)] if start < end else []
    day = start.astimezone(rotation.tz).date() - timedelta(days=1)
    result: list[tuple[datetime, datetime]] = []
    while True:
        begin, finish = _window(rotation, day)
        if begin >= end:
            return result
        if finish > start and finish > begin:
            result.append((max(begin, start), min(finish, end)))
        day += timedelta(days=1)


def _window_edges_after(rotation: Rotation, instant: datetime) -> Iterator[datetime]:
    if rotation.active_hours is None:
        return
    day = instant.astimezone(rotation.tz).date() - timedelta(days=1)
    while True:
        for edge in _window(rotation, day):
            if edge > instant:
                yield edge
        day += timedelta(days=1)


def seat_holders(rotation: Rotation, k: int) -> tuple[str, ...]:
    """Who holds the seats in shift `k` by the schedule alone, longest-serving first."""
    sequence = rotation.sequence
    n, s = len(sequence), rotation.seats
    return tuple(sequence[(k - s + 1 + j) % n] for j in range(s))


def _applies(override: Override, rotation: Rotation, holder: str) -> bool:
    if override.rotation != rotation.name:
        return False
    if override.replaces is None:
        return rotation.seats == 1
    return override.replaces == holder


def covering(rotation: Rotation, overrides: Iterable[Override], instant: datetime) -> list[Override]:
    """The overrides in force in this rotation at `instant` (for marking the roster)."""
    instant = _require_aware(instant)
    if not active_at(rotation, instant):
        return []
    holders = seat_holders(rotation, shift_index(rotation, instant))
    return [o for o in overrides if o.covers(instant) and any(_applies(o, rotation, h) for h in holders)]


def on_duty(rotation: Rotation, overrides: Iterable[Override], instant: datetime) -> list[str]:
    """Members on duty at `instant`, in order of joining, longest-serving first.

    An override takes the place of the seat it replaces and keeps that seat's
    position. If two overrides of one seat overlap (the config refuses that,
    but callers may build their own) the one that started first wins, as in
    `shifts`. Someone covering while already on duty is listed once.
    Outside the rotation's active hours nobody is on duty, overrides included.
    """
    instant = _require_aware(instant)
    if not active_at(rotation, instant):
        return []
    overrides = sorted((o for o in overrides if o.covers(instant)), key=lambda o: o.start)
    result: list[str] = []
    for holder in seat_holders(rotation, shift_index(rotation, instant)):
        member = next((o.member for o in overrides if _applies(o, rotation, holder)), holder)
        if member not in result:
            result.append(member)
    return result


def next_handoffs(rotation: Rotation, overrides: Iterable[Override], instant: datetime,
                  n: int = 1) -> list[Handoff]:
    """The next `n` changes of who is on duty strictly after `instant`.

    Changes happen at shift boundaries, at override edges and at the edges
    of the active hours; a boundary where nobody changes (an override spanning it, or every member on duty
    at once) is not a handoff. Fewer than `n` are returned only when the
    roster never changes again.
    """
    instant = _require_aware(instant)
    overrides = [o for o in overrides if o.rotation == rotation.name]
    edges = sorted({t for o in overrides for t in (o.start, o.end) if t > instant})
    last_edge = edges[-1] if edges else None
    result: list[Handoff] = []
    for at in _merge(_boundaries_after(rotation, instant), edges):
        if len(result) >= n:
            break
        if len(rotation.members) == rotation.seats and rotation.active_hours is None \
                and (last_edge is None or at > last_edge):
            break  # everyone is always on duty: only overrides change anything
        before = on_duty(rotation, overrides, at - timedelta(microseconds=1))
        after = on_duty(rotation, overrides, at)
        incoming = tuple(m for m in after if m not in before)
        outgoing = tuple(m for m in before if m not in after)
        if incoming or outgoing:
            result.append(Handoff(rotation.name, at, incoming, outgoing, tuple(after)))
    return result


def _boundaries_after(rotation: Rotation, instant: datetime) -> Iterator[datetime]:
    """Shift starts and active-window edges after `instant`, ascending (duplicates are dropped by `_merge`)."""
    return heapq.merge(_shift_starts_after(rotation, instant), _window_edges_after(rotation, instant))


def _shift_starts_after(rotation: Rotation, instant: datetime) -> Iterator[datetime]:
    k = shift_index(rotation, instant) + 1
    while True:
        yield shift_start(rotation, k)
        k += 1


def _merge(endless: Iterator[datetime], finite: Sequence[datetime]) -> Iterator[datetime]:
    """Merge an endless ascending stream with a sorted list, dropping duplicates."""
    pending = list(finite)
    last: datetime | None = None
    for t in endless:
        while pending and pending[0] <= t:
            edge = pending.pop(0)
            if edge != last:
                last = edge
                yield edge
        if t != last:
            last = t
            yield t


def shifts(rotation: Rotation, start: datetime, end: datetime,
           overrides: Iterable[Override] = ()) -> list[Shift]:
    """Every member's stretch of duty that overlaps [start, end), in time order.

    One `Shift` per member per shift; overrides split the replaced member's
    stretch into pieces around the covering member's. Pieces are not clipped
    to the range, so a calendar shows the whole stretch; they are clipped to
    the active hours (a week's shift active 07:00-19:00 is seven pieces), and
    an empty shift (two handoffs on one instant) has none.
    """
    start, end = _require_aware(start), _require_aware(end)
    overrides = sorted((o for o in overrides if o.rotation == rotation.name), key=lambda o: o.start)
    result: list[Shift] = []
    k = shift_index(rotation, start)
    while (begin := shift_start(rotation, k)) < end:
        finish = shift_start(rotation, k + 1)
        for holder in seat_holders(rotation, k):
            mine = [o for o in overrides if _applies(o, rotation, holder) and o.start < finish and o.end > begin]
            for piece in _pieces(rotation.name, holder, k, begin, finish, mine):
                result.extend(_clipped(rotation, piece))
        k += 1
    return sorted((p for p in result if p.end > start and p.start < end and p.end > p.start),
                  key=lambda p: (p.start, p.index))


def _clipped(rotation: Rotation, piece: Shift) -> list[Shift]:
    if rotation.active_hours is None:
        return [piece]
    return [msgspec.structs.replace(piece, start=a, end=b)
            for a, b in active_windows(rotation, piece.start, piece.end)]


def _pieces(name: str, holder: str, k: int, begin: datetime, finish: datetime,
            overrides: list[Override]) -> list[Shift]:
    pieces: list[Shift] = []
    cursor = begin
    for o in overrides:
        a, b = max(o.start, cursor), min(o.end, finish)
        if b <= a:
            continue
        if a > cursor:
            pieces.append(Shift(name, holder, k, cursor, a))
        pieces.append(Shift(name, o.member, k, a, b, o, holder))
        cursor = b
    if cursor < finish:
        pieces.append(Shift(name, holder, k, cursor, finish))
    return pieces


def _require_aware(instant: datetime) -> datetime:
    """`instant` in UTC; a naive datetime is refused, since its zone is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an instant needs a time zone, got {instant.isoformat()}")
    return instant.astimezone(timezone.utc)
