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
from datetime import datetime, timezone

from app.board.workflow import Workflow
from app.sla.settings import SlaPolicy
from app.sla.targets import TicketTimes, due_instants

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
    Bulk import calls this per row, with `app.sla.source.ticket_times` of the row's values.
    """
    if policy is None:
        return None, None
    at = latest_event(times)
    if now is not None:
        now = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
        at = max(at, now)
    warn, due = due_instants(policy, times, at)
    return _naive(warn), _naive(due)


def _naive(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(timezone.utc).replace(tzinfo=None)


def config_digest(policy: SlaPolicy | None, workflow: Workflow) -> str:
    """A short, stable fingerprint of everything the stored instants depend on.

    The `sla:` section (zone, working days and hours, holidays, targets per
    priority, the warning margin) and the two facts of the workflow the clocks
    read: which column is final (the clock stops) and which are hold columns
    (Pending pauses it). Holiday dates come from the `holidays` library by
    region; a library upgrade that changes a past year's dates is not seen here.
    """
    if policy is None:
        return NO_POLICY
    calendar = policy.calendar
    parts = [
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


__all__ = ["NO_POLICY", "config_digest", "due_columns", "latest_event", "matches"]
