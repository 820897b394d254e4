"""When an unacknowledged page moves up the chain: primary, backup, lead.

Mattermost's SET pages the primary, then the backup, then the lead when
nobody acknowledges in time (seed 003). This module only decides *which steps
are due*; the caller records each one on the ticket and writes the
notification. It is idempotent by construction: the caller passes the steps
it has already sent and they are never due again, so running the clock twice
pages nobody twice.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Collection, Iterable, Protocol

import msgspec

from app.config.durations import Duration
from app.oncall.rotation import Override, Rotation, on_duty

AddWorking = Callable[[datetime, Duration], datetime]
"""Adds working time on the business calendar (app/sla/calendar.py provides one)."""


class EscalationStep(msgspec.Struct, frozen=True):
    """Page whoever is on duty in `rotation` (or any of `rotations`) once the page is `after` old."""

    index: int
    """Position in the config's list: the step's identity when recording it."""
    rotation: str
    """The rotation's name; for a step naming several, their names joined by " + " (how it is shown)."""
    after: Duration
    rotations: tuple[str, ...] = ()
    """Set when the step names several rotations (follow-the-sun: `[EU primary, US primary]`)."""

    @property
    def names(self) -> tuple[str, ...]:
        return self.rotations or (self.rotation,)


class OnCallPlan(Protocol):
    """What the clock reads of the on-call configuration; `app.oncall.settings.OnCall` is one.

    A protocol rather than that struct's import: `app.oncall.settings` parses the steps this
    module defines, so importing it back would make the two a cycle.
    """

    @property
    def escalation(self) -> tuple[EscalationStep, ...]: ...

    @property
    def overrides(self) -> tuple[Override, ...]: ...

    def rotation(self, name: str) -> Rotation: ...


class DueStep(msgspec.Struct, frozen=True):
    """A step to send now, with the people to page."""

    step: EscalationStep
    due_at: datetime
    """When the step fell due (UTC); may be earlier than now if the clock was not running."""
    paged: tuple[str, ...]
    """Who was on duty in the step's rotations at `due_at`, longest-serving first, each once."""


def step_due_at(step: EscalationStep, paged_at: datetime,
                add_working: AddWorking | None = None) -> datetime:
    """The instant `step` falls due for a page that started at `paged_at`.

    Working-time delays ("1 working hour") need the business calendar, which
    the caller injects; without one they are refused rather than guessed.
    """
    if paged_at.tzinfo is None:
        raise ValueError(f"an instant needs a time zone, got {paged_at.isoformat()}")
    paged_at = paged_at.astimezone(timezone.utc)
    if step.after.working:
        if add_working is None:
            raise ValueError(f"escalation step {step.index + 1} ({step.rotation}) waits {step.after}, "
                             "which needs the business calendar; none was given")
        return add_working(paged_at, step.after).astimezone(timezone.utc)
    return paged_at + step.after.as_timedelta()


def due_steps(oncall: OnCallPlan, paged_at: datetime, acked_at: datetime | None,
              sent: Collection[int], now: datetime, *,
              add_working: AddWorking | None = None) -> list[DueStep]:
    """The escalation steps to send at `now`, in configured order.

    `sent` holds the indexes of steps already sent for this page. Once the
    page is acknowledged (at or before `now`) nothing more is due, even a step
    that fell due before the acknowledgement but was never sent: the person
    who acknowledged is already on it, and paging the lead late helps nobody.
    """
    if now.tzinfo is None:
        raise ValueError(f"an instant needs a time zone, got {now.isoformat()}")
    now = now.astimezone(timezone.utc)
    if acked_at is not None and acked_at.astimezone(timezone.utc) <= now:
        return []
    result: list[DueStep] = []
    for step in oncall.escalation:
        if step.index in sent:
            continue
        due = step_due_at(step, paged_at, add_working)
        if due <= now:
            result.append(DueStep(step, due, on_duty_in(oncall, step.names, due)))
    return result


def ack_timeout_at(timeout: Duration | None, acked_at: datetime, moved_since: bool,
                   add_working: AddWorking | None = None) -> datetime | None:
    """When an acknowledged page that has not moved is paged again (GoAlert #3378), or None.

    An acknowledgement that led to a move (work started, put on hold, resolved)
    is honoured for good; one that was forgotten comes back to the person who
    acknowledged it after `timeout`, and the chain runs again from there.
    """
    if timeout is None or moved_since:
        return None
    step = EscalationStep(index=-1, rotation="acknowledgement timeout", after=timeout)
    return step_due_at(step, acked_at, add_working)


def on_duty_in(oncall: OnCallPlan, names: Iterable[str], instant: datetime) -> tuple[str, ...]:
    """Everyone on duty in any of the rotations `names` at `instant`, in their order, each once."""
    paged: list[str] = []
    for name in names:
        for member in on_duty(oncall.rotation(name), oncall.overrides, instant):
            if member not in paged:
                paged.append(member)
    return tuple(paged)


def next_due_at(oncall: OnCallPlan, paged_at: datetime, acked_at: datetime | None,
                sent: Collection[int], *, add_working: AddWorking | None = None) -> datetime | None:
    """When the next unsent step falls due, or None when the chain is finished.

    Lets a running escalation clock sleep until there is something to do.
    """
    if acked_at is not None:
        return None
    pending = [step_due_at(s, paged_at, add_working) for s in oncall.escalation if s.index not in sent]
    return min(pending, default=None)
