"""Response targets (seed 002, 2i2c): first response and regular updates, on the business calendar.

2i2c's promise is to "respond to all support-related communications within
one working day" and to "give the user updates every day or two". Two targets
follow from it:

- `first_response`: from the ticket's creation to the first message to the
  requester (a status-change mail or an explicit reply);
- `update_every`: from the latest message to the requester to the next one,
  for as long as the ticket is open.

Both clocks pause while the ticket waits on the requester (Pending): nothing
is owed to someone who has not answered yet, so the due instant moves out by
the working time spent waiting. Both stop when the ticket is Closed: the state
the target had at that moment is final (until a reopen starts the clock again).

The policy (calendar, lengths, margin) comes from `app.sla.settings`.
Everything here is pure: plain values in, frozen structs (msgspec) out. Instants are
aware datetimes; `from_db` attaches UTC to the naive instants the database
stores.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Collection, Iterable, Protocol
from zoneinfo import ZoneInfo

import msgspec

from app.sla.calendar import BusinessCalendar
from app.config.durations import Duration
from app.sla.settings import SlaPolicy
from app.board.workflow import Workflow

STATES = ("ok", "warning", "breached", "paused", "met")

Period = tuple[datetime, "datetime | None"]
"""[start, end) of a stretch of time; end None while it lasts."""


# -- the ticket's clock ------------------------------------------------------


class Move(msgspec.Struct, frozen=True):
    """One state transition, as the history records it."""

    at: datetime
    to_state: str
    hold_reason: str | None = None


class ClockPeriods(msgspec.Struct, frozen=True):
    """When a ticket's clocks were not running, derived from its moves."""

    pending: tuple[Period, ...] = ()
    """Waiting on the requester (an on-hold column with hold reason "requester")."""
    closed: tuple[Period, ...] = ()
    """In the final column; the last period is open-ended while the ticket stays closed."""


def clock_periods(workflow: Workflow, moves: Iterable[Move], replies: Iterable[datetime] = ()) -> ClockPeriods:
    """Pending and Closed periods from a ticket's moves (any order; sorted by instant).

    Pending is the support status of an on-hold column with the hold reason
    "requester"; waiting on a third party (On Hold) does not pause the clock,
    since the requester is still owed updates then. A reply from the
    requester (`replies`) ends the pause even when the ticket could not move
    (In Progress at its WIP limit): they answered, so the team owes them again.
    """
    pending: list[Period] = []
    closed: list[Period] = []
    current: tuple[list[Period], datetime] | None = None
    events = sorted([*((m.at, 0, m) for m in moves), *((r, 1, None) for r in replies)], key=lambda e: e[:2])
    for at, _, move in events:
        if move is None:  # a requester's reply: the wait on them is over
            if current is not None and current[0] is pending:
                pending.append((current[1], at))
                current = None
            continue
        if current is not None:
            bucket, since = current
            bucket.append((since, move.at))
            current = None
        # A state since removed from the config neither pauses nor stops the clock.
        column = next((c for c in workflow.columns if c.key == move.to_state), None)
        if column is not None and column.is_hold and move.hold_reason == "requester":
            current = (pending, move.at)
        elif move.to_state == workflow.final:
            current = (closed, move.at)
    if current is not None:
        current[0].append((current[1], None))
    return ClockPeriods(tuple(pending), tuple(closed))


class TicketTimes(msgspec.Struct, frozen=True):
    """The plain values the targets depend on."""

    created: datetime
    priority: int | None = None
    periods: ClockPeriods = ClockPeriods()
    first_response: datetime | None = None
    messages: tuple[datetime, ...] = ()
    """Instants of every message to the requester (the first response may be among them)."""


# -- evaluation ----------------------------------------------------------------


class _Clock(Protocol):
    def advance(self, instant: datetime, amount: timedelta) -> datetime: ...

    def between(self, a: datetime, b: datetime) -> timedelta: ...


class _Working(msgspec.Struct, frozen=True):
    calendar: BusinessCalendar

    def advance(self, instant: datetime, amount: timedelta) -> datetime:
        return self.calendar.add_working_time(instant, amount)

    def between(self, a: datetime, b: datetime) -> timedelta:
        return self.calendar.working_time_between(a, b)


class _Elapsed(msgspec.Struct, frozen=True):
    """A wall-clock target (`4h`) counts every minute, paused ones excepted."""

    tz: ZoneInfo

    def advance(self, instant: datetime, amount: timedelta) -> datetime:
        return (instant + amount).astimezone(self.tz)

    def between(self, a: datetime, b: datetime) -> timedelta:
        # Through UTC: two datetimes in the same zone subtract by their wall clocks.
        return b.astimezone(timezone.utc) - a.astimezone(timezone.utc)


class TargetStatus(msgspec.Struct, frozen=True):
    """Where one target stands at one instant."""

    name: str
    state: str
    """ok | warning | breached | paused | met"""
    due: datetime
    """When the target is (or was) due. While paused: when it would be due if the clock resumed now."""
    left: timedelta
    """Time left on the target's clock (working time for a working target); negative when overdue."""
    length: timedelta
    since: datetime
    """The instant the clock started: creation, or the latest message for `update_every`."""
    working: bool = True
    late: bool = False
    """Met, but after it was due."""

    @property
    def reminder_key(self) -> str:
        """Identifies this target's cycle: one reminder per key.

        `update_every` starts a new cycle with every message, so its key
        carries the cycle's start.
        """
        if self.name == "first_response":
            return self.name
        return f"{self.name}@{self.since.astimezone(timezone.utc).isoformat()}"

    def to_json(self) -> dict:
        """The shape `ticket show --json` prints under `sla`."""
        return {"due": self.due.isoformat(), "state": self.state,
                "working_time_left": int(self.left.total_seconds()), "late": self.late}


class SlaStatus(msgspec.Struct, frozen=True):
    """Both targets of one ticket at one instant."""

    first_response: TargetStatus
    update_every: TargetStatus

    @property
    def targets(self) -> tuple[TargetStatus, TargetStatus]:
        return (self.first_response, self.update_every)

    @property
    def next(self) -> TargetStatus:
        """The target to show on the card: the most urgent unmet one (breached, then warning, then the
        rest; among equals the least time left, then the earlier due).

        Severity first: with a working and a wall-clock target, which has less left changes with
        the clock alone (a weekend uses the wall clock, not the working one), while "a target is
        breached" and "a target is in warning or breached" only ever turn true as time passes. So
        the card's state changes at two instants fixed at the last write, which the database
        stores (`due_instants`). On one kind of clock the shorter target from the same start warns
        and falls due first: the first response until it is sent, then `update_every`.
        """
        open_targets = [t for t in self.targets if t.state != "met"]
        if not open_targets:
            return self.update_every
        return min(open_targets, key=lambda t: (-_SEVERITY.get(t.state, 0), t.left, _instant(t.due)))

    def to_json(self) -> dict:
        return {t.name: t.to_json() for t in self.targets}


_SEVERITY = {"breached": 2, "warning": 1}
"""How urgent a target's state is on the card; ok and paused rank alike, below both."""


def _instant(at: datetime) -> datetime:
    """`at` in UTC, to compare: two datetimes of the board's zone compare by their wall clocks, so in the
    hour the clock goes back, 01:20 of its first pass would sort after 01:00 of its second."""
    return at.astimezone(timezone.utc)


def from_db(instant: datetime | None) -> datetime | None:
    """Attach UTC to a naive database instant (the database stores naive UTC)."""
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=timezone.utc)


def evaluate(policy: SlaPolicy, times: TicketTimes, now: datetime) -> SlaStatus:
    """Both targets of a ticket at `now`.

    Anything the inputs place after `now` (a later message, a later pause) is
    ignored, so a past `now` replays what the board showed at that moment.
    """
    targets = policy.targets_for(times.priority)
    closed_at = _closed_since(times.periods, now)
    stops = _merge(list(times.periods.pending) + list(times.periods.closed), now)
    messages = sorted(m for m in (*times.messages, times.first_response) if m is not None and m <= now)

    first = _target_status("first_response", policy, targets.first_response, times.created, stops, now,
                           met_at=min(messages) if messages else None, closed_at=closed_at)
    since = max(times.created, messages[-1]) if messages else times.created
    update = _target_status("update_every", policy, targets.update_every, since, stops, now,
                            met_at=None, closed_at=closed_at)
    return SlaStatus(first, update)


def due_instants(policy: SlaPolicy, times: TicketTimes, now: datetime) -> tuple[datetime | None, datetime | None]:
    """When the card turns to warning and when it is breached, for any instant from `now` on.

    (warn, due): the card reads warning from `warn` to `due` inclusive and breached after `due`
    (`evaluate` at `t` gives `next.state == "warning"` exactly when warn <= t <= due, `"breached"`
    when t > due), as long as nothing new happens to the ticket, so the two instants can be stored
    and the filters run as comparisons. (None, None) while nothing can come due: every target met,
    the clock paused (Pending), or the ticket closed.

    Not the instants of one target: with a working and a wall-clock target, the one with less left
    changes with the clock alone. The card shows the most severe state of its unmet running targets
    (`SlaStatus.next`), so it is breached from the earliest due instant among them on and in warning
    from the earliest warning instant; between writes that set of targets and their instants do not move.
    """
    if _closed_since(times.periods, now) is not None:
        return None, None
    running = [t for t in evaluate(policy, times, now).targets if t.state not in ("met", "paused")]
    if not running:
        return None, None
    if len({(t.working, t.since) for t in running}) == 1:
        # One kind of clock from one start: the shorter target warns and falls due first (or with the
        # other), so the other's warning instant, a second walk over the calendar, is not needed.
        running = [min(running, key=lambda t: t.length)]
    stops = _merge(list(times.periods.pending) + list(times.periods.closed), now)
    warns = [_warning_instant(policy, t, stops, now) for t in running]
    return min(warns, key=_instant), min((t.due for t in running), key=_instant)


def _warning_instant(policy: SlaPolicy, target: TargetStatus, stops: list[Period], now: datetime) -> datetime:
    """When `target` enters its warning margin (its due instant at the latest), on the clocks as they stand at `now`."""
    clock: _Clock = _Working(policy.calendar) if target.working else _Elapsed(policy.calendar.tz)
    # `left <= length * warn_at` is `running >= length - length * warn_at`: the instant that much running time is used.
    warn, _ = _due(clock, target.since, target.length - target.length * policy.warn_at, stops, now)
    return min(warn, target.due, key=_instant)


def reminders_due(status: SlaStatus, sent: Collection[str]) -> tuple[TargetStatus, ...]:
    """Targets that should remind the assignee now: in warning (or already breached) and not yet reminded.

    `update_every` is owed once the first response has been sent, or sooner
    when the card shows it (`SlaStatus.next`): a wall-clock update can come
    due over a weekend before a working first response, and the card, the
    filters and the reminder should not disagree. A breached target counts too: when nothing looked during the warning
    margin (the board was closed over a weekend), one reminder is still owed.
    `sent` holds the `reminder_key`s already written to the outbox.
    """
    owed = [status.first_response]
    if status.first_response.state == "met" or status.next.name == "update_every":
        # Otherwise the first response is the more urgent, and its own reminder covers the ticket.
        owed.append(status.update_every)
    return tuple(t for t in owed if t.state in ("warning", "breached") and t.reminder_key not in sent)


def _target_status(name: str, policy: SlaPolicy, duration: Duration, since: datetime,
                   stops: list[Period], now: datetime, *, met_at: datetime | None,
                   closed_at: datetime | None) -> TargetStatus:
    clock: _Clock = _Working(policy.calendar) if duration.working else _Elapsed(policy.calendar.tz)
    length = policy.calendar.working_length(duration)
    # The clock stops at a response (for first_response) or at closing.
    end = min(x for x in (now, met_at, closed_at) if x is not None)
    due, paused = _due(clock, since, length, stops, end)
    left = length - _running(clock, since, end, stops)
    common = dict(name=name, due=due, left=left, length=length, since=since, working=duration.working)
    if met_at is not None and met_at <= now:
        return TargetStatus(state="met", late=met_at > due, **common)
    if end > due:
        return TargetStatus(state="breached", **common)
    if closed_at is not None:
        return TargetStatus(state="met", **common)
    if paused:
        return TargetStatus(state="paused", **common)
    if left <= length * policy.warn_at:
        return TargetStatus(state="warning", **common)
    return TargetStatus(state="ok", **common)


def _due(clock: _Clock, since: datetime, length: timedelta, stops: list[Period],
         now: datetime) -> tuple[datetime, bool]:
    """When `length` of running time after `since` is used up, and whether the clock is stopped at `now`."""
    cursor, remaining = since, length
    for start, stop_end in stops:
        if stop_end is not None and stop_end <= cursor:
            continue
        if start > cursor:
            candidate = clock.advance(cursor, remaining)
            if candidate <= start:
                return candidate, False
            remaining -= clock.between(cursor, start)
        if stop_end is None:
            return clock.advance(max(now, start, cursor), remaining), True
        cursor = max(cursor, stop_end)
    return clock.advance(cursor, remaining), False


def _running(clock: _Clock, since: datetime, now: datetime, stops: list[Period]) -> timedelta:
    """Running time from `since` to `now`: all of it but the stopped periods."""
    if now <= since:
        return timedelta(0)
    total = clock.between(since, now)
    for start, stop_end in stops:
        a, b = max(start, since), min(stop_end or now, now)
        if b > a:
            total -= clock.between(a, b)
    return total


def _merge(periods: list[Period], now: datetime) -> list[Period]:
    """Sort, clip to `now` and merge overlapping periods; one still running keeps end None."""
    clipped: list[Period] = []
    for start, end in sorted(periods, key=lambda p: p[0]):
        if start > now:
            continue
        if end is not None and end > now:
            end = None
        if clipped and (clipped[-1][1] is None or start <= clipped[-1][1]):
            last_start, last_end = clipped[-1]
            merged_end = None if last_end is None or end is None else max(last_end, end)
            clipped[-1] = (last_start, merged_end)
        else:
            clipped.append((start, end))
    return clipped


def _closed_since(periods: ClockPeriods, now: datetime) -> datetime | None:
    """The instant the ticket was closed, if it is closed at `now`."""
    for start, end in periods.closed:
        if start <= now and (end is None or end > now):
            return start
    return None
