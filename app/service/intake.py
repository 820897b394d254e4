"""Tickets from e-mail: the write that turns one mail into a new ticket, or into a reply on its ticket.

A mixin of `Service` (it uses the write path's `_write`, `_record`,
`_notify`, `create` and `receive_reply`), kept apart so the mail intake
reads as one piece. Mail is delivered at least once (a pipe retried by the
MTA, an IMAP fetch that crashed before it moved the message), so every
write here is keyed by the mail's Message-ID: the same mail twice is
recorded once.
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import msgspec

from app.notify import drafts as outbox
from app.notify.addresses import address_problem
from app.service.core import WritePath, serialize_key_allocation
from app.service.errors import NotFound
from app.service.results import ReplyResult, WriteResult
from data.models import Attachment, History, Notification, Ticket

if TYPE_CHECKING:
    from app.notify.inbound import Reply

MAX_TITLE = 300
"""A subject longer than this is cut for the title; the whole subject stays in the history entry."""
CREATED_BY_MAIL = "mail"
"""The `by` of a ticket a mail opened when the sender's address is unusable (`create` needs someone)."""


class IntakeResult(msgspec.Struct, frozen=True):
    """What one inbound mail did: a new ticket (`created`), or a reply (`reply`), or nothing new (`duplicate`)."""

    ticket: Ticket
    created: bool = False
    reply: Any = None
    """The `ReplyResult` when the mail answered an existing ticket."""
    duplicate: bool = False
    acknowledgement: Notification | None = None
    attachments: tuple[Attachment, ...] = ()
    automatic: str = ""
    """Why nothing was sent back (an auto-reply, a bounce, a list), or ""."""
    route: str = ""
    """The `intake.addresses` entry the mail was sent to, or ""."""


class Intake(WritePath):
    """`Service.receive_mail`: the one entry point of `triageboard inbound` and `triageboard fetch-mail`."""

    create: Callable[..., WriteResult]
    find_reply_ticket: Callable[[Reply], Ticket | None]
    receive_reply: Callable[[Reply], ReplyResult]
    """A new ticket from `app.service.creation`, a reply's ticket and its recording from `app.service.replies`,
    which `Service` supplies: a mail either opens a ticket as a person would or is a reply. Declared, not
    imported, so intake builds on the write path alone; each joins the mail's transaction."""

    def mail_recorded(self, message_id: str) -> Ticket | None:
        """The ticket a mail with this Message-ID was already recorded on (opened it, replied, or was held)."""
        if not message_id:
            return None
        entry = (History.select(History.ticket).where((History.message_id == message_id)
                                                      & History.kind.in_(("create", "comment", "held")))
                 .order_by(History.id).first())
        return Ticket.get_by_id(entry.ticket_id) if entry is not None else None

    def receive_mail(self, mail: Reply, raw: bytes = b"") -> IntakeResult:
        """Record `mail`: on its ticket when it answers one, else as a new ticket (with `intake:` configured).

        One transaction: the ticket, its history entry (carrying the
        Message-ID), its attachments' rows and the acknowledgement mail.
        The attachments' bytes are written to disk before it, under a folder
        named by the Message-ID, so a retry overwrites rather than adds.
        """
        intake = self.config.intake
        saved: list[dict[str, Any]] = []
        if intake is not None and self.find_reply_ticket(mail) is None and not self.mail_recorded(mail.message_id):
            saved = save_attachments(mail, raw, Path(intake.attachments_dir), intake.max_attachment_bytes)

        def work() -> IntakeResult:
            serialize_key_allocation()  # two deliveries of one new mail at once: the second sees the first
            opened = self._opened_by(mail.message_id)
            if opened is not None:
                return IntakeResult(opened, duplicate=True, attachments=tuple(opened.attachments))
            if self.find_reply_ticket(mail) is not None:
                result: ReplyResult = self.receive_reply(mail)
                return IntakeResult(result.ticket, reply=result, duplicate=result.duplicate,
                                    automatic=mail.automatic_why)
            if intake is None:
                raise NotFound("no ticket matches this message (no known Message-ID in In-Reply-To/References, "
                               "no [KEY] in the subject); add an `intake:` section to config.yaml to open "
                               "tickets from such mail")
            return self._open_from_mail(mail, saved)

        return self._write(work)

    def _opened_by(self, message_id: str) -> Ticket | None:
        if not message_id:
            return None
        entry = (History.select(History.ticket).where((History.message_id == message_id) & (History.kind == "create"))
                 .first())
        return Ticket.get_by_id(entry.ticket_id) if entry is not None else None

    def _open_from_mail(self, mail: Reply, saved: list[dict[str, Any]]) -> IntakeResult:
        intake = self.config.intake
        found = intake.route(mail.recipients)
        address, route = found if found is not None else ("", None)
        sender = mail.sender if not address_problem(mail.sender) else ""
        # A robot's mail is recorded, but without a requester address nothing (no status mail) goes back to it.
        requester = "" if mail.automatic else sender
        name = mail.sender_name or ("" if requester else mail.sender)
        subject = mail.subject.strip()
        title = subject[:MAX_TITLE] if subject else f"(no subject) mail from {mail.sender or 'an unknown sender'}"
        fields: dict[str, Any] = {}
        if route is not None:
            fields = {k: v for k, v in (("kind", route.kind), ("priority", route.priority),
                                        ("service", route.service), ("team", route.team)) if v is not None}
        ticket = self.create(title=title, description=mail.original, requester_email=requester,
                             requester_name=name[:200], by=sender or CREATED_BY_MAIL, **fields)
        created = ticket.history.where(History.kind == "create").get()
        notes = [f"from e-mail to {address}" if address else "from e-mail"]
        if not mail.original.strip():
            notes.append("the mail had no text part")
        if mail.automatic:
            notes.append(f"automatic mail ({mail.automatic_why}): nothing is sent back")
        if sender != mail.sender:
            notes.append(f"the sender's address {mail.sender!r} is not usable: nothing is sent back")
        History.update(message_id=mail.message_id or None, reason="; ".join(notes),
                       detail=_json({"from": mail.sender, "name": mail.sender_name, "subject": mail.subject,
                                     "message_id": mail.message_id, "to": list(mail.recipients),
                                     "route": address or None, "automatic": mail.automatic_why or None})
                       ).where(History.id == created.id).execute()
        now = self.clock()
        rows = tuple(Attachment.create(ticket=ticket, message_id=mail.message_id or None, created=now, **item)
                     for item in saved)
        ack = None
        if intake.acknowledge and requester:
            ack = self._notify(ticket, outbox.acknowledgement(
                key=ticket.key, title=ticket.title, recipient=requester,
                requester_name=mail.sender_name or "there", link=self.requester_link(ticket), **self.mail_options))
            if ack is not None and intake.ack_counts_as_response:
                Ticket.update(first_response=now, last_requester_update=now).where(Ticket.id == ticket.id).execute()
                ticket.first_response = ticket.last_requester_update = now
        return IntakeResult(ticket, created=True, acknowledgement=ack, attachments=rows,
                            automatic=mail.automatic_why, route=address)


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def safe_name(name: str, index: int) -> str:
    """A file name that stays in its folder: no separators, no controls, no leading dot, at most 120 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join("_" if (unicodedata.category(c).startswith("C") or c in '/\\:*?"<>|') else c for c in name)
    name = name.strip().lstrip(".").strip()
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:120]
    return name or f"attachment-{index + 1}"


def save_attachments(mail: Reply, raw: bytes, root: Path, limit: int) -> list[dict[str, Any]]:
    """Write the mail's attachments under `root/<mail>/`; the rows `Attachment` is created with.

    One larger than `limit` is not saved (its row says so), and the whole
    mail is kept beside the others as `original.eml`, so nothing it carried
    is lost. OSError (a full disk) propagates: the caller refuses the mail.
    """
    if not mail.attachments:
        return []
    digest = hashlib.sha256((mail.message_id or "").encode() or raw).hexdigest()[:20]
    folder = root / digest
    folder.mkdir(parents=True, exist_ok=True)
    rows, used, skipped = [], set(), False
    for index, item in enumerate(mail.attachments):
        name = safe_name(item.name, index)
        stored = name if name.lower() not in used else f"{index + 1}-{name}"
        used.add(stored.lower())
        row = {"name": item.name or name, "size": len(item.data), "content_type": item.content_type[:200]}
        if len(item.data) > limit:
            skipped = True
            rows.append({**row, "path": "", "note": f"not saved: larger than the limit of {limit:,} bytes "
                                                    f"(the whole mail is kept in {digest}/original.eml)"})
            continue
        (folder / stored).write_bytes(item.data)
        rows.append({**row, "path": f"{digest}/{stored}", "note": ""})
    if skipped and raw:
        (folder / "original.eml").write_bytes(raw)
    return rows

