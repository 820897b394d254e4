"""What a committed command hands back: the fresh ticket, the history row it wrote, and what else it did.

Frozen structs: a screen may keep one without it changing under it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from data.models import History, Notification, Ticket


class WriteResult(msgspec.Struct, frozen=True):
    """A committed write: the ticket as it now is, the history row it appended, any warnings."""

    ticket: Ticket
    history: History
    warnings: tuple[str, ...] = ()


MoveResult = WriteResult


class ChangeResult(msgspec.Struct, frozen=True):
    """A triage, route, assign or rank: the fresh ticket and what changed (field -> (old, new))."""

    ticket: Ticket
    history: History | None
    """None when nothing changed (nothing was written)."""
    changes: dict[str, tuple[Any, Any]]
    warnings: tuple[str, ...] = ()


class Suggestion(msgspec.Struct, frozen=True):
    """Whom to ask (None: nobody available) and why."""

    ticket: Ticket
    handle: str | None
    open_work: dict[str, int]
    last_asked: str | None
    history: History | None


class Page(msgspec.Struct, frozen=True):
    """One escalation step sent for a ticket: who was paged, for which step, when."""

    key: str
    step: int
    """The step's index in the config's `escalation` list (0 = the first)."""
    rotation: str
    paged: tuple[str, ...]
    """Who was on duty in `rotation` when the step fell due, longest-serving first."""
    due_at: dt.datetime
    """When the step fell due (naive UTC, like every instant in the database)."""
    at: dt.datetime
    """When it was sent (naive UTC); later than `due_at` if the clock was not running."""


class ReplyResult(msgspec.Struct, frozen=True):
    """What an inbound reply did: its comment, the move back (if it was Pending), the assignee's mail."""

    ticket: Ticket
    comment: History
    moved: MoveResult | None = None
    notified: Notification | None = None
    duplicate: bool = False
    """The same message (by Message-ID) was recorded before: nothing was written again."""
    not_moved: str = ""
    """Why a Pending ticket stayed where it was (In Progress at its WIP limit); empty when it moved or needn't."""
    held: bool = False
    """From an unknown sender: `comment` is the held entry (kind "held"); nothing moved, nobody was mailed."""


class Reminder(msgspec.Struct, frozen=True):
    """One reminder `remind_due` wrote: to whom, for which target of which ticket."""

    key: str
    target: str
    """`first_response` or `update_every`."""
    recipient: str
    """The team handle reminded."""
    state: str
    """The target's state when reminded: warning, or breached when nothing looked during the margin."""
    due: dt.datetime
