"""Enter: a card's fields and its full history, oldest first.

The board loads a `TicketDetail` (plain strings) in a thread and hands it
down; the modal only lays it out. Every value goes through `Text`/`Content`
built from plain strings, so a title like `[bold]x[/]` shows as typed, and through
`shown`, so its control characters show escaped (`␛`), never raw; the description
keeps its newlines.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from app.board.ordering import priority_label
from app.service import Service
from app.service.reads import notifications_for
from widgets.safe_text import shown


class HistoryLine(msgspec.Struct, frozen=True):
    at: str
    by: str
    change: str
    """e.g. "To Do → Ready", or the kind of a non-move entry ("create", "triage")."""
    status: str
    """Support status before → after, when the entry changed it."""
    reason: str


class NotificationLine(msgspec.Struct, frozen=True):
    """One outbox message of the ticket and how its delivery stands."""

    created: str
    kind: str
    recipient: str
    subject: str
    state: str
    """"queued", "queued (retry 2 at 10:05)", "sent 10:01" or "failed after 8 attempts"."""
    last_error: str


class TicketDetail(msgspec.Struct, frozen=True):
    key: str
    title: str
    fields: tuple[tuple[str, str], ...]
    description: str
    history: tuple[HistoryLine, ...]
    notifications: tuple[NotificationLine, ...] = ()
    zone: str = "UTC"
    """The board's time zone: every time above is on its wall clock."""


def _local(value: dt.datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored naive-UTC instant on the board's wall clock (the team reads its own time)."""
    if value is None:
        return ""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(tz).strftime(fmt)


def load_detail(service: Service, key: str) -> TicketDetail:
    """Read one ticket and its history into plain values (runs in a worker thread)."""
    ticket = service.get(key)
    workflow = service.workflow
    tz = service.config.board.tz

    def title(state: str | None) -> str:
        if not state:
            return ""
        try:
            return workflow.column(state).title
        except KeyError:
            return state

    lines = []
    for entry in service.history(ticket):
        reason = entry.reason or ""
        if entry.kind == "move":
            change = f"{title(entry.from_state)} → {title(entry.to_state)}"
            if entry.hold_reason:
                change += f" ({entry.hold_reason})"
            if entry.undoes:
                change += " [undo]"
        elif entry.kind == "create":
            change = f"created in {title(entry.to_state)}"
        elif entry.kind == "comment":
            change, reason = comment_line(entry.detail)
        elif entry.kind == "held":
            change = f"held #{entry.id}: from an unknown sender"
            reason = comment_line(entry.detail)[1]
        else:
            change = entry.kind
        before, after = entry.status_before or "", entry.status_after or ""
        status = f"{before} → {after}" if before and after and before != after else (after if not before else "")
        lines.append(HistoryLine(at=_local(entry.at, tz), by=entry.by or "", change=change,
                                 status=status, reason=reason))
    fields = (
        ("State", title(ticket.state)),
        ("Support status", service.status_of(ticket)),
        ("Priority", priority_label(ticket.priority)),
        ("Kind", ticket.kind + (f" ({ticket.bug_class})" if ticket.bug_class else "")),
        ("Assignee", ticket.assignee or "—"),
        ("Service", ticket.service or "—"),
        ("Requester", " ".join(p for p in (ticket.requester_name, f"<{ticket.requester_email}>"
                                            if ticket.requester_email else "") if p) or "—"),
        ("Version", str(ticket.version)),
    )
    return TicketDetail(key=ticket.key, title=ticket.title, fields=fields, description=ticket.description,
                        history=tuple(lines),
                        notifications=tuple(notification_line(row, tz) for row in notifications_for(ticket.id)),
                        zone=service.config.board.timezone)


def comment_line(detail: str) -> tuple[str, str]:
    """A comment (a requester's reply) as (change, text): its words on one line, whatever it held."""
    try:
        values = json.loads(detail) if detail else {}
    except ValueError:
        values = {}
    if not isinstance(values, dict):
        values = {}
    change = "comment (automatic)" if values.get("automatic") else "comment"
    text = " ".join(str(values.get("body") or values.get("subject") or "").split())
    if values.get("not_moved"):
        text += f" [not moved: {values['not_moved']}]"
    return change, text


def notification_line(row: dict, tz: ZoneInfo = ZoneInfo("UTC")) -> NotificationLine:
    status, attempts = row["status"], row["attempts"] or 0
    if status == "sent":
        state = f"sent {_local(row['sent_at'], tz)}" if row["sent_at"] else "sent"
    elif status == "failed":
        state = f"failed after {attempts} attempt{'s' if attempts != 1 else ''}"
    elif attempts:
        when = f" at {_local(row['next_attempt'], tz, '%H:%M')}" if row["next_attempt"] else ""
        state = f"queued (retry {attempts + 1}{when})"
    else:
        state = "queued"
    return NotificationLine(created=_local(row["created"], tz),
                            kind=row["kind"] or "", recipient=row["recipient"] or "",
                            subject=" ".join((row["subject"] or "").split()), state=state,
                            last_error=" ".join((row["last_error"] or "").split()))


class CardDetailScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="dialog.close")]

    def __init__(self, detail: TicketDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        detail = self.detail
        with Vertical(classes="dialog dialog--wide", id="detail"):
            yield Label(Content(shown(f"{detail.key}  {detail.title}")), classes="dialog--title", id="detail-title")
            yield Static(Content("\n".join(f"{name:>15}: {shown(value)}" for name, value in detail.fields)),
                         id="detail-fields")
            if detail.description:
                yield Static(Content(shown(detail.description, multiline=True)), id="detail-description")
            yield Label(f"History ({len(detail.history)})", classes="dialog--subtitle")
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="history")
            table.add_columns(f"when ({detail.zone})", "who", "change", "support status", "reason")
            for line in detail.history:
                table.add_row(*(Text(shown(value)) for value in (line.at, line.by, line.change, line.status, line.reason)))
            yield table
            yield Label(f"Notifications ({len(detail.notifications)})", classes="dialog--subtitle")
            sent: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="notifications")
            sent.add_columns(f"written ({detail.zone})", "kind", "to", "subject", "delivery", "last error")
            for note in detail.notifications:
                sent.add_row(*(Text(shown(value)) for value in (note.created, note.kind, note.recipient, note.subject,
                                                         note.state, note.last_error)))
            yield sent

    def action_close(self) -> None:
        self.dismiss(None)
