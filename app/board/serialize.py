"""Tickets and their history as plain JSON-ready dicts.

One shape for `ticket show --json`, `ticket list --json` and `export`, so
what a script reads is what `import` accepts back.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from app.board.ordering import priority_label
from app.board.timeline import is_internal, links_of
from app.triage.rules import missing as triage_missing
from data.models import History, Ticket

TICKET_FIELDS = ("key", "title", "description", "background", "impact_statement", "extra_info",
                 "requester_name", "requester_email", "reporter", "assignee", "service", "team", "kind",
                 "bug_class", "work_type", "labels", "state", "hold_reason", "solved", "rank",
                 "impact", "urgency", "users_affected", "frequency", "service_down", "deadline",
                 "reproducible", "actionable", "acknowledged", "next_steps_sent", "eta",
                 "priority_overridden", "needs_ack", "ack_by", "version")
TICKET_TIMES = ("created", "updated", "state_entered", "ack_at", "page_started", "first_response",
                "last_requester_update")
HISTORY_FIELDS = ("by", "kind", "from_state", "to_state", "status_before", "status_after", "hold_reason",
                  "reason", "undoes", "message_id")


def iso(value: dt.datetime | None) -> str | None:
    """Database instants are naive UTC; scripts get ISO 8601 with the offset."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc).isoformat()


def parse_iso(text: str) -> dt.datetime:
    """ISO 8601 to naive UTC; a value without an offset is taken as UTC."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def history_dict(entry: History) -> dict[str, Any]:
    data = {name: getattr(entry, name) for name in HISTORY_FIELDS}
    data["id"] = entry.id
    data["at"] = iso(entry.at)
    data["detail"] = json.loads(entry.detail) if entry.detail else None
    data["internal"] = is_internal(entry.kind)  # a note: the requester never saw it
    return data


def attachment_dict(row: Any) -> dict[str, Any]:
    """A file a mail brought (`data.models.Attachment`); `path` is relative to `intake.attachments_dir`."""
    return {"name": row.name, "path": row.path or None, "size": row.size, "content_type": row.content_type,
            "note": row.note or None, "message_id": row.message_id, "created": iso(row.created)}


def ticket_dict(ticket: Ticket, *, support_status: str, history: list[History] | None = None) -> dict[str, Any]:
    data = {name: getattr(ticket, name) for name in TICKET_FIELDS}
    data["priority"] = priority_label(ticket.priority) if ticket.priority else None
    data["support_status"] = support_status
    # Derived, for scripts: what still blocks To Do -> Ready ([] when triage is complete).
    data["triage_missing"] = list(triage_missing(actionable=ticket.actionable, priority=ticket.priority,
                                                 acknowledged=ticket.acknowledged, impact=ticket.impact,
                                                 urgency=ticket.urgency))
    data["parent"] = ticket.parent.key if ticket.parent_id else None
    for name in TICKET_TIMES:
        data[name] = iso(getattr(ticket, name))
    if history is not None:
        data["history"] = [history_dict(h) for h in history]
        data["links"] = [{**link, "at": iso(link["at"])} for link in links_of(history)]
    return data
