"""Inbound replies: a requester's mail on its ticket, and the mail from strangers held until a team member accepts it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from peewee import fn

from app.notify import drafts as outbox
from app.service.core import WritePath
from app.service.errors import NotFound, Refused
from app.service.results import MoveResult, ReplyResult
from data import outbox as outbox_data
from data.models import History, Ticket
from data.sla_inputs import REPLIED

if TYPE_CHECKING:
    from app.notify.inbound import Reply  # the email parser: imported by `triageboard inbound`, not by the board

HELD = "held"
"""The History kind of a mail from an unknown sender, kept until a team member accepts it."""


class Replies(WritePath):
    """Recording a reply as a comment, taking a Pending ticket back to work, telling the assignee."""

    move: Callable[..., MoveResult]
    """The board's own move, which `Service` takes from `app.service.moves`: a reply moves its ticket
    back under the same rules as a person (a full In Progress keeps it Pending). Declared, not
    imported, so that replies build on the write path alone; the move joins the reply's transaction."""

    def find_reply_ticket(self, reply: Reply) -> Ticket | None:
        """The ticket a reply belongs to: a stored Message-ID, a thread id with its token, then guessable anchors."""
        ticket = outbox_data.ticket_for_message_ids(reply.references)
        if ticket is not None:
            return ticket
        for key, token in reply.thread_tokens.items():  # an unguessable thread id of ours
            ticket = Ticket.get_or_none((Ticket.key == key) & (Ticket.thread_token == token))
            if ticket is not None:
                return ticket
        # Guessable anchors (an old thread id, the subject's [KEY]): the sender check
        # in `receive_reply` holds such a mail unless it is from a participant.
        for key in reply.thread_keys + reply.subject_keys:
            ticket = Ticket.get_or_none(Ticket.key == key)
            if ticket is not None:
                return ticket
        return None

    def receive_reply(self, reply: Reply) -> ReplyResult:
        """Record a requester's reply as a comment; a Pending ticket goes back to work; the assignee hears.

        One transaction: the comment, the move (through `move`, reason
        "requester replied") and the assignee's mail commit together or not
        at all. The reply is the requester speaking, not the team responding,
        so the SLA stamps (first response, last update to the requester) are
        left as they were even though the move mails the requester. An
        auto-reply or bounce is recorded and nothing else, so an
        out-of-office cannot bounce a ticket around. A message already
        recorded (same Message-ID) is not recorded twice: mail is delivered
        at least once, to us too.
        """

        def work() -> ReplyResult:
            ticket = self.find_reply_ticket(reply)
            if ticket is None:
                raise NotFound("no ticket matches this message (no known Message-ID in In-Reply-To/References, "
                               "no [KEY] in the subject)")
            earlier = self._comment_with_message_id(ticket, reply.message_id)
            if earlier is not None:
                return ReplyResult(ticket, earlier, duplicate=True, held=earlier.kind == HELD)
            if not self.is_participant(ticket, reply.sender):
                now = self.clock()
                entry = self._record(ticket, HELD, reply.sender or reply.sender_name or "unknown sender", now,
                                     reason="from an unknown sender: not applied until a team member accepts it",
                                     detail=_reply_detail(reply), message_id=reply.message_id or None)
                return ReplyResult(ticket, entry, held=True)
            return self._apply_reply(ticket, reply)

        return self._write(work)

    def seen(self, key: str, *, by: str) -> Ticket | None:
        """A team member opened the ticket's detail: its "answered" mark goes (None: nothing to clear)."""
        if self.config.member(by) is None:
            return None

        def work() -> Ticket | None:
            ticket = self._fetch_for_write(key)
            if not ticket.answered:
                return None
            now = self.clock()
            self._save(ticket, {"answered": False}, None, now)
            self._record(ticket, "seen", by, now, reason="looked at the requester's reply")
            return ticket

        return self._write(work)

    def is_participant(self, ticket: Ticket, address: str) -> bool:
        """The requester, a team member, or a sender a team member accepted on this ticket before.

        A stranger's mail (a forged `In-Reply-To`, a `[KEY]` in the subject)
        is held instead: it never moves the ticket, never reaches the
        requester and is not forwarded to the assignee.
        """
        address = (address or "").strip().lower()
        if not address:
            return False
        if address == (ticket.requester_email or "").strip().lower():
            return True
        if any(address == (m.email or "").strip().lower() for m in self.config.team):
            return True
        return (History.select().where((History.ticket == ticket) & (History.kind == "comment")
                                       & (fn.LOWER(History.by) == address)).exists())

    def accept_held(self, key: str, entry_id: int, *, by: str) -> ReplyResult:
        """A team member accepts a held mail: recorded as the requester's reply, its sender now a participant."""
        if self.config.member(by) is None:
            raise Refused(f"unknown team member {by!r} (team: {', '.join(self.config.handles)})")

        from app.notify.inbound import Reply

        def work() -> ReplyResult:
            ticket = self._fetch_for_write(key)
            held = History.get_or_none((History.id == entry_id) & (History.ticket == ticket) & (History.kind == HELD))
            if held is None:
                raise NotFound(f"{ticket.key} has no held message {entry_id}")
            values = json.loads(held.detail) if held.detail else {}
            if self._comment_with_message_id(ticket, held.message_id or "", kinds=("comment",)) is not None \
                    or History.select().where((History.ticket == ticket) & (History.kind == "comment")
                                              & History.detail.contains(f'"accepted": {entry_id}, ')).exists():
                raise Refused(f"{ticket.key}: held message {entry_id} was already accepted")
            reply = Reply(sender=values.get("from", ""), sender_name=values.get("name", ""),
                          subject=values.get("subject", ""), message_id=values.get("message_id", ""),
                          references=(), text=values.get("body", ""), automatic=bool(values.get("automatic")))
            return self._apply_reply(ticket, reply, accepted=(entry_id, by))

        return self._write(work)

    def _apply_reply(self, ticket: Ticket, reply: Reply, accepted: tuple[int, str] | None = None) -> ReplyResult:
        """The requester's reply and its effects: the comment, the move back from Pending, the assignee's mail."""
        now = self.clock()
        sender = reply.sender or reply.sender_name or "unknown sender"
        detail = _reply_detail(reply)
        if accepted is not None:
            detail.update(accepted=accepted[0], accepted_by=accepted[1])
        moved = None
        if not reply.automatic and self.workflow.column(ticket.state).is_hold and ticket.hold_reason == "requester":
            stamps = {"first_response": ticket.first_response,
                      "last_requester_update": ticket.last_requester_update}
            try:
                moved = self.move(ticket.key, self.workflow.active, by=sender, reason="requester replied")
            except Refused as exc:  # e.g. In Progress is full: keep the reply, tell the assignee
                detail["not_moved"] = str(exc)
            else:
                ticket = moved.ticket
                Ticket.update(**stamps).where(Ticket.id == ticket.id).execute()
                for name, value in stamps.items():
                    setattr(ticket, name, value)
        comment = self._record(ticket, "comment", sender, now, detail=detail, message_id=reply.message_id or None,
                               reason="" if reply.automatic else REPLIED)
        if reply.automatic:
            return ReplyResult(ticket, comment)
        Ticket.update(answered=True).where(Ticket.id == ticket.id).execute()
        ticket.answered = True
        member = self.config.member(ticket.assignee) if ticket.assignee else None
        notified = None
        if member is not None:
            notified = self._notify(ticket, outbox.reply_received(
                key=ticket.key, title=ticket.title, recipient=member.email, name=member.name,
                sender=sender, sender_name=reply.sender_name,
                subject=reply.subject, text=reply.text, status=self.status_of(ticket), **self.mail_options))
        return ReplyResult(ticket, comment, moved, notified, not_moved=detail.get("not_moved", ""))

    def _comment_with_message_id(self, ticket: Ticket, message_id: str,
                                 kinds: tuple[str, ...] = ("comment", HELD)) -> History | None:
        """The reply (or held mail) already recorded with this Message-ID, the accepted reply first."""
        if not message_id:
            return None
        return (History.select().where((History.message_id == message_id) & (History.ticket == ticket)
                                       & History.kind.in_(kinds)).order_by(History.kind, History.id).first())


def _reply_detail(reply: Reply) -> dict[str, Any]:
    return {"from": reply.sender or reply.sender_name or "unknown sender", "name": reply.sender_name,
            "subject": reply.subject, "message_id": reply.message_id, "body": reply.text,
            "automatic": reply.automatic, "original": reply.original}
