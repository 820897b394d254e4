"""What a requester does from their page (`/r/<token>`): read the public conversation, reply, say fixed or not.

One capability on the write path (`app.service.core.WritePath`), composed into
`Service`. The page is the requester speaking, so each write goes the way the
same words by mail would: a reply is an inbound reply (`receive_reply`: a
Pending ticket goes back to work, the assignee hears), "It's fixed" is the
requester's confirmation (`solve`: Released becomes Solved, the assignee
hears), "Not fixed" is the reopening loop of seed 000 (`move` back to In
Progress, reason "reopened by requester", the assignee hears). History names
the requester's address as who did it.

What the page may show is decided here, not in a template: the requester's own
mails, the team's replies to them, and status changes in support-status words.
Notes, triage, assignments, held mail, links and addresses never leave this module.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable

import msgspec

from app.notify import drafts as outbox
from app.service.core import WritePath
from app.service.errors import NotFound, Refused
from app.service.results import MoveResult, ReplyResult, WriteResult
from data.models import History, Ticket

if TYPE_CHECKING:
    from app.board.timeline import TimelineEntry

REOPENED = "reopened by requester"
MAX_REPLY = 20_000
"""The longest reply the page takes (characters); a mail may be longer, a form needn't be."""
PUBLIC_STATUS_KINDS = ("create", "move", "solve")


class PublicEntry(msgspec.Struct, frozen=True):
    at: dt.datetime
    """Naive UTC, as stored."""
    kind: str
    """"requester" (their own mail or page reply), "team" (a reply to them) or "status"."""
    who: str
    """"You", the team member's name, or "" for a status change."""
    text: str


class PublicView(msgspec.Struct, frozen=True):
    """Everything the requester's page shows, and nothing else."""

    key: str
    title: str
    status: str
    """The support status (Open, In Progress, Pending, Released, Solved, …)."""
    released: bool
    """In the final column and not yet Solved: the page offers It's fixed / Not fixed."""
    entries: tuple[PublicEntry, ...]


class Public(WritePath):
    """The requester's page: see the module docstring."""

    conversation: Callable[[Ticket], list[TimelineEntry]]
    receive_reply: Callable[..., ReplyResult]
    move: Callable[..., MoveResult]
    solve: Callable[..., MoveResult]
    """`Service` takes these from `conversation`, `replies` and `moves`; declared, not imported, so the
    requester's writes stand on the write path alone and join one transaction."""

    # -- reading -----------------------------------------------------------

    def ticket_for_link(self, token: str) -> Ticket:
        """The ticket a requester's link opens; `NotFound` for a forged or foreign one, `links.Expired` for an old one."""
        from app.web import links

        key = links.claimed_key(token)
        ticket = Ticket.get_or_none(Ticket.key == key) if key else None
        if ticket is None or not links.verify(token, ticket.key, ticket.page_secret or "",
                                              self.config.serve.link_seconds):
            raise NotFound("this link does not open a request")
        return ticket

    def public_view(self, ticket: Ticket) -> PublicView:
        statuses = {row.id: (row.status_before, row.status_after) for row in
                    History.select(History.id, History.status_before, History.status_after)
                    .where((History.ticket == ticket) & History.kind.in_(PUBLIC_STATUS_KINDS))}
        entries = []
        for entry in self.conversation(ticket):
            shown = self._public(entry, statuses.get(entry.id))
            if shown is not None:
                entries.append(shown)
        return PublicView(key=ticket.key, title=ticket.title, status=self.status_of(ticket),
                          released=ticket.state == self.workflow.final and not ticket.solved,
                          entries=tuple(entries))

    def _public(self, entry: TimelineEntry, status: tuple[str | None, str | None] | None) -> PublicEntry | None:
        if entry.kind == "comment" and entry.text.strip() and not entry.headline.endswith("(automatic reply)"):
            return PublicEntry(entry.at, "requester", "You", entry.text)
        if entry.kind == "reply" and entry.audience == "requester":
            member = self.config.member(entry.by)
            return PublicEntry(entry.at, "team", f"{member.name if member else 'Support'} (support team)", entry.text)
        if entry.kind == "create":
            return PublicEntry(entry.at, "status", "", "Request received")
        if entry.kind in ("move", "solve") and status is not None:
            before, after = status
            if before and after and before != after:
                return PublicEntry(entry.at, "status", "", f"{before} → {after}")
        return None

    # -- writing -----------------------------------------------------------

    def requester_reply(self, key: str, text: str, *, nonce: str) -> ReplyResult:
        """The page's reply form, recorded as the requester's mail would be (one per `nonce`: a form sent twice
        is recorded once, as a mail delivered twice is)."""
        from app.notify.inbound import Reply  # the mail parser's struct: only when a requester writes

        text = (text or "").replace("\r\n", "\n").strip()
        if not text:
            raise Refused("write something to send")
        if "\x00" in text or len(text) > MAX_REPLY:
            raise Refused(f"a reply is at most {MAX_REPLY:,} characters of text")
        ticket = self.get(key)
        domain = self.config.notify.domain
        reply = Reply(sender=ticket.requester_email, sender_name=ticket.requester_name or "",
                      subject="Reply on the request's page", message_id=f"<web.{nonce}@{domain}>",
                      references=(outbox.thread_id(ticket.key, domain, ticket.thread_token or ""),), text=text)
        if not ticket.requester_email:
            raise Refused("this request has no requester address to reply as")
        return self.receive_reply(reply)

    def requester_fixed(self, key: str) -> MoveResult:
        """"It's fixed": Released becomes Solved, by the requester; the assignee hears (`solve`)."""
        ticket = self.get(key)
        return self.solve(ticket.key, by=ticket.requester_email or "requester")

    def requester_not_fixed(self, key: str) -> MoveResult:
        """"Not fixed": a Released ticket goes back to In Progress, reason "reopened by requester"; the assignee hears."""

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key)
            if ticket.state != self.workflow.final or ticket.solved:
                raise Refused(f"{ticket.key} is not released, so there is nothing to reopen")
            moved = self.move(ticket.key, self.workflow.active, by=ticket.requester_email or "requester",
                              reason=REOPENED)  # joins this transaction
            member = self.config.member(moved.ticket.assignee) if moved.ticket.assignee else None
            if member is not None:
                self._notify(moved.ticket, outbox.reopened(
                    key=ticket.key, title=ticket.title, recipient=member.email, name=member.name,
                    column=self.workflow.column(self.workflow.active).title,
                    requester_name=ticket.requester_name, **self.mail_options))
            return moved

        return self._write(work)

    def send_page_link(self, key: str, address: str) -> WriteResult | None:
        """Mail a fresh page link to the ticket's requester, only if `address` is theirs (None otherwise).

        The caller shows the same words either way, so the page never tells whether an address is on a ticket.
        """
        address = (address or "").strip().lower()

        def work() -> WriteResult | None:
            try:
                ticket = self._fetch_for_write(key)
            except NotFound:
                return None
            if not address or address != (ticket.requester_email or "").strip().lower():
                return None
            link = self.requester_link(ticket)
            draft = outbox.page_link(key=ticket.key, title=ticket.title, requester_email=ticket.requester_email,
                                     requester_name=ticket.requester_name, link=link, **self.mail_options)
            if draft is None:
                return None
            now = self.clock()
            self._notify(ticket, draft)
            return WriteResult(ticket, self._record(ticket, "page_link", ticket.requester_email, now,
                                                    reason="the requester asked for a fresh link to their page"))

        return self._write(work)
