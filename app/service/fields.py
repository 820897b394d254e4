"""What several commands share about a ticket's fields: the values they accept, where a new card
ranks, and how a changed triage answer reads in its history row.
"""

from __future__ import annotations

from typing import Any

from peewee import fn

from app.board.ordering import BUG_CLASSES
from app.config.settings import KINDS, Config
from app.service.errors import Refused
from data.models import Ticket
from data.statements import Prepared

WORK_TYPES = ("support", "project", "adhoc")


def validate_fields(config: Config, *, service: str | None = None, kind: str | None = None,
                    bug_class: str | None = None, assignee: str | None = None, work_type: str | None = None) -> None:
    """Refuse a value the board does not know, naming the ones it does (None: not given)."""
    if service is not None and config.services and service not in config.services:
        raise Refused(f"unknown service {service!r} (services: {', '.join(config.services)})")
    if kind is not None and kind not in KINDS:
        raise Refused(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    if bug_class is not None and bug_class not in BUG_CLASSES:
        raise Refused(f"unknown bug class {bug_class!r} (classes: {', '.join(BUG_CLASSES)})")
    if assignee is not None and config.member(assignee) is None:
        raise Refused(f"unknown team member {assignee!r} (team: {', '.join(config.handles)})")
    if work_type is not None and work_type not in WORK_TYPES:
        raise Refused(f"unknown work type {work_type!r} (types: {', '.join(WORK_TYPES)})")


TRIAGE_FIELDS = ("impact", "urgency", "users_affected", "frequency", "service_down", "deadline", "reproducible",
                 "actionable", "acknowledged", "next_steps_sent", "eta", "description", "background",
                 "impact_statement", "extra_info", "priority", "priority_overridden")
"""The ticket fields a triage answer sets (and its undo puts back)."""


def as_recorded(name: str, old: Any, new: Any) -> list[Any]:
    """A change as its history row keeps it: a priority as "P2", not 2."""
    if name == "priority":
        return [f"P{old}" if old else None, f"P{new}" if new else None]
    return [old, new]


def summary(changes: dict[str, tuple[Any, Any]]) -> str:
    """One line for the history view: "set impact high, urgency soon, priority P2"."""
    parts = []
    for name, (old, new) in changes.items():
        if name == "priority_overridden":
            continue  # the notes say "overridden" or "override cleared"
        label = name.replace("_", " ")
        shown = {True: "yes", False: "no"}.get(new, new) if isinstance(new, bool) else as_recorded(name, old, new)[1]
        parts.append(label if isinstance(new, str) and len(new) > 30 else f"{label} {shown if shown is not None else '-'}")
    return "set " + ", ".join(parts)


HIGHEST_RANK = Prepared(lambda *, state: Ticket.select(fn.MAX(Ticket.rank)).where(Ticket.state == state))


def next_rank(state: str) -> float:
    """Bottom of the column: one past the highest rank there (an indexed MAX)."""
    highest = HIGHEST_RANK.execute(state=state).fetchone()[0]
    return (highest or 0.0) + 1.0

