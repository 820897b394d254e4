"""A ticket's next due instants as stored columns, so "which cards are at risk" is a comparison in SQL.

Evaluating a ticket's targets walks the business calendar (about 0.2 ms a
ticket): fine for the forty cards on screen, 84 s for `ticket list --sla` at a
million tickets. Between two writes to a ticket its targets only move with the
clock, so the instants at which its card turns to warning and to breached are
fixed (`app.sla.targets.due_instants`): the write path stores them
(`ticket.sla_warn_at`, `ticket.sla_due_at`, naive UTC) in the transaction
that changes the ticket, with the digest of the policy they were computed
under (`ticket.sla_digest`), and the filters become

    warning   sla_warn_at <= now <= sla_due_at
    breached  sla_due_at < now
    at-risk   sla_warn_at <= now

Pure: plain values in, plain values out. `data.sla_due` holds the SQL side.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from typing import Sequence

from app.board.workflow import Workflow
from app.config.durations import Duration
from app.sla.calendar import WorkingTimeIndex, from_us, to_us
from app.sla.settings import SlaPolicy, Targets
from app.sla.targets import Move, TicketTimes, clock_periods, due_instants

RULES_VERSION = 2
"""Bump when the rules that compute the instants change: every stored digest then differs, so
`app.sla.source.due_freshness` recomputes a small board at once and tells a big one to run
`triageboard sla rebuild`. 2: the card shows its most urgent target, and the instants are the earliest
of its unmet targets' (they differed from the card's state when the targets ran on different clocks)."""

NO_POLICY = "no-sla"
"""The digest of a board without response targets (every ticket's columns are empty)."""


def latest_event(times: TicketTimes) -> datetime:
    """The last instant the inputs record: from there on, only the clock moves."""
    instants = [times.created, *times.messages]
    if times.first_response is not None:
        instants.append(times.first_response)
    for start, end in (*times.periods.pending, *times.periods.closed):
        instants.append(start)
        if end is not None:
            instants.append(end)
    return max(instants)


def due_columns(times: TicketTimes, policy: SlaPolicy | None,
                now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """(sla_warn_at, sla_due_at) as the database stores them (naive UTC, None when nothing can come due).

    Evaluated at `now` or the ticket's last recorded event, whichever is later, so a
    write whose clock lags an imported history still stores what holds from then on.
    Bulk import's fresh rows go through `fresh_due_columns` instead, which gives the same.
    """
    if policy is None:
        return None, None
    at = latest_event(times)
    if now is not None:
        now = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
        at = max(at, now)
    warn, due = due_instants(policy, times, at)
    return _naive(warn), _naive(due)


Fresh = tuple[datetime, str, "int | None", "datetime | None"]
"""A ticket just created as it was given: (created, state, priority, first_response), naive UTC."""

_INDEX_SPAN = 20 * 366
"""Days between the earliest and latest creation or first response past which `fresh_due_columns` goes ticket by ticket rather than lay out
every working window in between (an import whose dates are typos, years 1 and 9999)."""


def fresh_due_columns(policy: SlaPolicy | None, workflow: Workflow, tickets: Sequence[Fresh],
                      now: datetime | None = None) -> list[tuple[datetime | None, datetime | None]]:
    """`due_columns` of many tickets that have nothing yet but their creation and first response.

    What bulk import stores for a CSV's rows, at a few microseconds a ticket instead of 40:
    such a ticket has one move (into its column, no hold reason, so no pause; the final
    column has nothing due), no message but its first response, so which targets are
    unmet and the instant their clocks start follow from its priority and whether it was
    answered, and the calendar arithmetic is a `WorkingTimeIndex` laid out once for the
    batch. Answered: `update_every` from max(created, first response). Not yet: both
    targets run from creation, so the earlier of their warning instants and the earlier
    of their due instants, as `due_instants` takes them (`now` only matters to the
    ticket-by-ticket path).
    """
    if policy is None:
        return [(None, None)] * len(tickets)
    final = workflow.final
    created_us = [None if state == final else to_us(created) for created, state, _, _ in tickets]
    span = [us for us in created_us if us is not None]
    if not span:
        return [(None, None)] * len(tickets)
    span += [to_us(answered) for (_, _, _, answered), us in zip(tickets, created_us)
             if answered is not None and us is not None]
    first, last = _utc_date(min(span)), _utc_date(max(span))
    if (last - first).days > _INDEX_SPAN:
        return [_one_by_one(policy, workflow, ticket, now) for ticket in tickets]
    index = WorkingTimeIndex(policy.calendar, first - timedelta(days=2), last + timedelta(days=2))
    plans: dict[int | None, _Plan] = {}
    result: list[tuple[datetime | None, datetime | None]] = []
    instants: dict[int, datetime] = {}  # many tickets fall due at one instant (17:00 of a day): built once
    for (_, _, priority, first_response), created in zip(tickets, created_us):
        if created is None:
            result.append((None, None))
            continue
        plan = plans.get(priority)
        if plan is None:
            plan = plans[priority] = _Plan(policy, policy.targets_for(priority), index)
        if first_response is not None:
            warn, due = plan.update.instants(max(created, to_us(first_response)))
        else:
            warn, due = plan.unanswered(created)
        warn_at = instants.get(warn)
        if warn_at is None:
            warn_at = instants[warn] = from_us(warn)
        due_at = instants.get(due)
        if due_at is None:
            due_at = instants[due] = from_us(due)
        result.append((warn_at, due_at))
    return result


class _Target:
    """One target's clock in microseconds: its length and the running time at which it warns."""

    def __init__(self, policy: SlaPolicy, duration: Duration, index: WorkingTimeIndex):
        length = policy.calendar.working_length(duration)
        self.working = duration.working
        self.length = length // _US
        # As `due_instants` computes it: timedelta arithmetic, rounded the same way.
        self.warns = (length - length * policy.warn_at) // _US
        self.index = index

    def instants(self, since: int) -> tuple[int, int]:
        """(warn, due) of this target's clock started at `since`, with no pause."""
        if self.working:
            index = self.index
            before = index.working_before(since)
            due, warn = index.reach(since, before, self.length), index.reach(since, before, self.warns)
        else:
            due, warn = since + self.length, since + self.warns
        return (warn if warn < due else due), due


class _Plan:
    """The two targets of one priority, and what an unanswered ticket stores for them."""

    def __init__(self, policy: SlaPolicy, targets: Targets, index: WorkingTimeIndex):
        self.first = _Target(policy, targets.first_response, index)
        self.update = _Target(policy, targets.update_every, index)
        # On one kind of clock from one instant, the shorter target warns and falls due first
        # (or both at once): its instants are the earlier of each, without computing the other's.
        same_clock = self.first.working == self.update.working
        self.nearer = (None if not same_clock
                       else self.first if self.first.length <= self.update.length else self.update)

    def unanswered(self, created: int) -> tuple[int, int]:
        if self.nearer is not None:
            return self.nearer.instants(created)
        (first_warn, first_due), (update_warn, update_due) = self.first.instants(created), self.update.instants(created)
        return min(first_warn, update_warn), min(first_due, update_due)


def _one_by_one(policy: SlaPolicy, workflow: Workflow, ticket: Fresh,
                now: datetime | None) -> tuple[datetime | None, datetime | None]:
    created, state, priority, first_response = ticket
    if state == workflow.final:
        return None, None
    created = _aware(created)
    times = TicketTimes(created=created, priority=priority,
                        periods=clock_periods(workflow, [Move(at=created, to_state=state)]),
                        first_response=None if first_response is None else _aware(first_response))
    return due_columns(times, policy, now)


_US = timedelta(microseconds=1)


def _utc_date(us: int) -> date:
    return from_us(us).date()


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=timezone.utc)


def _naive(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(timezone.utc).replace(tzinfo=None)


def config_digest(policy: SlaPolicy | None, workflow: Workflow) -> str:
    """A short, stable fingerprint of everything the stored instants depend on.

    The `sla:` section (zone, working days and hours, holidays, targets per
    priority, the warning margin) and the two facts of the workflow the clocks
    read: which column is final (the clock stops) and which are hold columns
    (Pending pauses it). Holiday dates come from the `holidays` library by
    region; a library upgrade that changes a past year's dates is not seen here.
    And `RULES_VERSION`, so instants stored by an older triageboard read as stale too.
    """
    if policy is None:
        return NO_POLICY
    calendar = policy.calendar
    parts = [
        f"rules {RULES_VERSION}",
        str(calendar.tz.key), ",".join(str(d) for d in sorted(calendar.working_days)),
        ",".join(f"{a}-{b}" for a, b in calendar.hours), calendar.country or "", calendar.subdivision or "",
        ",".join(d.isoformat() for d in sorted(calendar.extra_dates)),
        _targets(policy.targets), repr(policy.warn_at),
        ";".join(f"{level}={_targets(t)}" for level, t in sorted(policy.priorities.items())),
        workflow.final, ",".join(sorted(c.key for c in workflow.columns if c.is_hold)),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _targets(targets) -> str:
    return ",".join(f"{d.amount}{d.unit}{'w' if d.working else ''}"
                    for d in (targets.first_response, targets.update_every))


def matches(which: str, warn_at: datetime | None, due_at: datetime | None, now: datetime) -> bool:
    """The stored filter in Python (naive UTC): what `data.sla_due.condition` says in SQL."""
    if warn_at is None or due_at is None:
        return False
    if which == "breached":
        return due_at < now
    if which == "warning":
        return warn_at <= now <= due_at
    if which == "at-risk":
        return warn_at <= now
    raise ValueError(f"unknown SLA filter {which!r}")


__all__ = ["NO_POLICY", "config_digest", "due_columns", "fresh_due_columns", "latest_event", "matches"]
