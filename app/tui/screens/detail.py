"""Enter: a card's fields, its links and its conversation, oldest first, newest last.

The board loads a `TicketDetail` (plain strings) in a thread and hands it
down; the modal only lays it out. The conversation is the ticket's history as
`app.board.timeline` reads it (the same entries as `ticket show`): the
requester's mails and our replies in full, internal notes marked as such in
words and by their frame (`widgets.conversation`), moves, triage, edits
(before → after) and links one line each. Every value goes through
`Content` built from plain strings, so a title like `[bold]x[/]` shows as
typed, and through `shown`, so its control characters show escaped (`␛`),
never raw; a mail keeps its newlines.

The timeline is one widget (`widgets.conversation.Conversation`, a log that
paints only the lines in view), not a widget per entry: see there why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from app.board.ordering import priority_label
from app.service import Service
from app.service.reads import notifications_for
from widgets.conversation import Conversation
from widgets.safe_text import shown

if TYPE_CHECKING:
    from app.tui.screens.board_conversation import ConversationKeys


class HistoryLine(msgspec.Struct, frozen=True):
    """One entry of the conversation, as shown."""

    at: str
    by: str
    change: str
    """The headline: "To Do → Ready", "mail from rita@…: subject", "reply to rita@…", "note (internal)"."""
    status: str
    """Support status before → after, when the entry changed it."""
    reason: str
    kind: str = ""
    """The history kind (move, comment, reply, note, edit, link, triage, …)."""
    audience: str = "team"
    """"requester" (a mail from or to them), "internal" (a note) or "team" (a board event)."""
    text: str = ""
    """A mail's, a reply's or a note's words, several lines; empty for an event."""


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
    links: tuple[tuple[str, str], ...] = ()
    """(label, url), oldest first."""
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

    history = service.history(ticket)
    lines = []
    for entry, line in zip(history, service.conversation(ticket)):
        reason = entry.reason or ""
        if line.kind in ("move", "link", "edit", "reply") or reason == line.headline.partition(": ")[2]:
            reason = ""  # the headline says it already
        before, after = entry.status_before or "", entry.status_after or ""
        status = f"{before} → {after}" if before and after and before != after else (after if not before else "")
        lines.append(HistoryLine(at=_local(entry.at, tz), by=entry.by or "", change=line.headline,
                                 status=status, reason=reason, kind=line.kind, audience=line.audience,
                                 text=line.text))
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
        *targets_of(service, ticket),
    )
    links = tuple((link["label"], link["url"]) for link in service.links(ticket))
    return TicketDetail(key=ticket.key, title=ticket.title, fields=fields, description=ticket.description,
                        history=tuple(lines), links=links,
                        notifications=tuple(notification_line(row, tz) for row in notifications_for(ticket.id)),
                        zone=service.config.board.timezone)


def targets_of(service: Service, ticket: Any) -> tuple[tuple[str, str], ...]:
    """The response targets as `ticket show` words them ("first response: met"), one field each."""
    if ticket.state == service.workflow.final:
        return ()
    from app.sla.labels import TARGET_TITLES, target_text
    from app.sla.source import statuses

    status = statuses(service.config, [ticket.id], service.clock()).get(ticket.id)
    if status is None:
        return ()
    return tuple((TARGET_TITLES[target.name].capitalize(), target_text(target)) for target in status.targets)


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
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="dialog.close"),
                Binding("R", "reply", "Reply", id="detail.reply"),
                Binding("N", "note", "Note", id="detail.note"),
                Binding("e", "edit", "Edit", id="detail.edit"),
                Binding("l", "link", "Link", id="detail.link"),
                Binding("f", "unfold", "Long entries in full", id="detail.unfold")]

    def __init__(self, detail: TicketDetail, actions: ConversationKeys | None = None,
                 reload: Callable[[str, Callable[[TicketDetail], None]], None] | None = None) -> None:
        """`actions` opens the reply, note, edit and link dialogs; `reload(key, then)` reads the detail
        afresh in a worker (after one of them wrote) and hands it to `then` on the event loop."""
        super().__init__()
        self.detail = detail
        self.actions = actions
        self.reload = reload

    def compose(self) -> ComposeResult:
        detail = self.detail
        with Vertical(classes="dialog dialog--wide", id="detail"):
            yield Label(Content(shown(f"{detail.key}  {detail.title}")), classes="dialog--title", id="detail-title")
            with Horizontal(id="detail-top"):
                yield Static(self._fields(), id="detail-fields")
                yield Static(self._more_fields(), id="detail-more")
            description = Static(Content(shown(detail.description, multiline=True)), id="detail-description")
            description.display = bool(detail.description)
            yield description
            yield Label(self._heading(), classes="dialog--subtitle", id="timeline-heading")
            yield Conversation(detail.history, id="timeline")
            yield Label(f"Notifications ({len(detail.notifications)})", classes="dialog--subtitle",
                        id="notifications-heading")
            sent: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="notifications")
            sent.add_columns(f"written ({detail.zone})", "kind", "to", "subject", "delivery", "last error")
            self._fill_notifications(sent)
            yield sent
            if self.actions is not None:
                yield Label("R reply · N internal note · e edit · l link · f long entries in full · "
                            "↑↓ pgup pgdn home end scroll · esc closes", classes="dialog--hint", id="detail-keys")

    def on_mount(self) -> None:
        self.query_one("#timeline", Conversation).focus()

    LEFT = 6
    """How many of the fields go in the left column; the rest (requester, version, targets) and the links
    go in the right one, so the conversation keeps the room."""

    def _fields(self) -> Content:
        return Content("\n".join(f"{name:>14}: {shown(value)}" for name, value in self.detail.fields[:self.LEFT]))

    def _more_fields(self) -> Content:
        rows = [(name, shown(value)) for name, value in self.detail.fields[self.LEFT:]]
        rows += [("Links" if i == 0 else "", f"{shown(label)} <{shown(url)}>")
                 for i, (label, url) in enumerate(self.detail.links)] or [("Links", "none (l adds one)")]
        width = max(len(name) for name, _ in rows)
        return Content("\n".join(f"{name:>{width}}{':' if name else ' '} {value}" for name, value in rows))

    def _heading(self) -> str:
        return f"Conversation ({len(self.detail.history)}, oldest first · times {self.detail.zone})"

    def _fill_notifications(self, sent: DataTable) -> None:
        for note in self.detail.notifications:
            sent.add_row(*(Text(shown(value)) for value in (note.created, note.kind, note.recipient, note.subject,
                                                     note.state, note.last_error)))

    async def show(self, detail: TicketDetail) -> None:
        """The same ticket read afresh (after a reply, a note, an edit or a link): repainted in place."""
        self.detail = detail
        self.query_one("#detail-title", Label).update(Content(shown(f"{detail.key}  {detail.title}")))
        self.query_one("#detail-fields", Static).update(self._fields())
        self.query_one("#detail-more", Static).update(self._more_fields())
        description = self.query_one("#detail-description", Static)
        description.update(Content(shown(detail.description, multiline=True)))
        description.display = bool(detail.description)
        self.query_one("#timeline-heading", Label).update(self._heading())
        timeline = self.query_one("#timeline", Conversation)
        timeline.show(detail.history)
        timeline.scroll_end(animate=False)  # what was just written is the newest
        self.query_one("#notifications-heading", Label).update(f"Notifications ({len(detail.notifications)})")
        sent = self.query_one("#notifications", DataTable)
        sent.clear()
        self._fill_notifications(sent)

    def action_unfold(self) -> None:
        timeline = self.query_one("#timeline", Conversation)
        timeline.show(self.detail.history, full=not timeline.full)

    def _refresh(self) -> None:
        if self.reload is not None:
            self.reload(self.detail.key, lambda detail: self.app.call_later(self.show, detail))

    def action_reply(self) -> None:
        if self.actions is not None:
            self.actions.action_reply(self.detail.key, self._refresh)

    def action_note(self) -> None:
        if self.actions is not None:
            self.actions.action_note(self.detail.key, self._refresh)

    def action_edit(self) -> None:
        if self.actions is not None:
            self.actions.action_edit(self.detail.key, self._refresh)

    def action_link(self) -> None:
        if self.actions is not None:
            self.actions.action_link(self.detail.key, self._refresh)

    def action_close(self) -> None:
        self.dismiss(None)
