"""Queries over the notification outbox: claiming, marking, counting.

Delivery is at least once. A sender first *claims* a due row by pushing its
`next_attempt` past a lease with a conditional UPDATE (so two `notify`
processes on one team database never send the same row at the same time),
then sends, then marks it sent. A crash after the server accepted the mail
but before the mark leaves the row pending; when the lease runs out it is
sent again with the same Message-ID, which is how a recipient (or a mail
server) recognises the duplicate. Nothing here knows about SMTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from peewee import fn

from data.models import History, Notification, Ticket, database_proxy

PENDING, SENT, FAILED, SUPERSEDED = "pending", "sent", "failed", "superseded"
WEBHOOK = "webhook"
"""The recipient of a row for the chat webhook rather than a mailbox (`app.notify.drafts.WEBHOOK`)."""
CHAT = "chat:"
"""Recipients `chat:<name>` are posted to a `notify.chat` target (`app.notify.chat.PREFIX`), like the webhook."""


def due(now: dt.datetime, limit: int = 100, *, webhook: bool | None = None) -> list[Notification]:
    """Pending rows whose next attempt has come, oldest first; only webhook or only mail rows when asked."""
    where = (Notification.status == PENDING) & (Notification.next_attempt <= now)
    if webhook is not None:
        posted = (Notification.recipient == WEBHOOK) | Notification.recipient.startswith(CHAT)
        where &= posted if webhook else ~posted
    return list(Notification.select().where(where)
                .order_by(Notification.next_attempt, Notification.id).limit(limit))


def supersede_status_mails(ticket_id: int, now: dt.datetime) -> list[Notification]:
    """Mark the ticket's undelivered status mails superseded (kept for the record); the rows so marked.

    Only rows no sender holds (`next_attempt` has come, as `claim` requires):
    a claimed row may be on its way, and counts as seen. The UPDATE repeats
    the condition, so a claim and a supersede of one row never both win.
    """
    rows = list(Notification.select().where((Notification.ticket == ticket_id) & (Notification.kind == "status")
                                            & (Notification.status == PENDING) & (Notification.next_attempt <= now))
                .order_by(Notification.id))
    taken = []
    for row in rows:
        if (Notification.update(status=SUPERSEDED)
                .where((Notification.id == row.id) & (Notification.status == PENDING)
                       & (Notification.next_attempt == row.next_attempt)).execute()) == 1:
            taken.append(row)
    return taken


def claim(row: Notification, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take `row` for one delivery attempt; False when another sender took it first."""
    until = now + lease
    taken = (Notification.update(next_attempt=until)
             .where((Notification.id == row.id) & (Notification.status == PENDING)
                    & (Notification.next_attempt == row.next_attempt))
             .execute())
    if taken == 1:
        row.next_attempt = until
    return taken == 1


def renew(row: Notification, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Still ours? Extend the lease just before a send; False when another sender re-claimed the row.

    The claim's token is the `next_attempt` it wrote: a later claim can only
    take a row whose lease has run out, so it always writes a later time, and
    a sender whose lease lapsed finds its token gone and leaves the row alone.
    """
    return claim(row, now, lease)


def postpone(row: Notification, error: str, retry_at: dt.datetime) -> bool:
    """Give a claimed row back, due at `retry_at`, without counting an attempt: the failure was not its own."""
    return (Notification.update(next_attempt=retry_at, last_error=error[:2000])
            .where((Notification.id == row.id) & (Notification.status == PENDING)
                   & (Notification.next_attempt == row.next_attempt))
            .execute()) == 1


def mark_sent(row: Notification, now: dt.datetime) -> None:
    """Only after the server accepted the message."""
    (Notification.update(status=SENT, sent_at=now, attempts=Notification.attempts + 1, last_error="")
     .where(Notification.id == row.id).execute())


def mark_attempt_failed(row: Notification, error: str, *, retry_at: dt.datetime | None) -> None:
    """Record a failed try: retried at `retry_at`, or given up (status failed) when it is None."""
    changes: dict[str, Any] = {"attempts": Notification.attempts + 1, "last_error": error[:2000]}
    if retry_at is None:
        changes["status"] = FAILED
    else:
        changes["next_attempt"] = retry_at
    Notification.update(**changes).where(Notification.id == row.id).execute()


def requeue_failed(now: dt.datetime) -> int:
    """Give every failed row a fresh set of attempts, due now; the last error stays visible."""
    with database_proxy.atomic():
        return (Notification.update(status=PENDING, attempts=0, next_attempt=now)
                .where(Notification.status == FAILED).execute())


def outbox_counts(*, include_sent: bool = False) -> dict[str, int]:
    """{pending, failed} (and sent when asked): the header's undelivered and failed counts."""
    statuses = (PENDING, FAILED, SENT) if include_sent else (PENDING, FAILED)
    counts = dict.fromkeys(statuses, 0)
    rows = (Notification.select(Notification.status, fn.COUNT(Notification.id))
            .where(Notification.status.in_(statuses)).group_by(Notification.status).tuples())
    for status, count in rows:
        counts[status] = count
    return counts


def chat_counts() -> dict[str, dict[str, int]]:
    """{recipient `chat:<name>`: {pending, failed, sent}}: how each chat target's posts stand."""
    counts: dict[str, dict[str, int]] = {}
    rows = (Notification.select(Notification.recipient, Notification.status, fn.COUNT(Notification.id))
            .where(Notification.recipient.startswith(CHAT))
            .group_by(Notification.recipient, Notification.status).tuples())
    for recipient, status, count in rows:
        counts.setdefault(recipient, dict.fromkeys((PENDING, FAILED, SENT), 0))[status] = count
    return counts


NOTIFICATION_FIELDS = ("id", "kind", "recipient", "subject", "status", "attempts", "last_error", "sent_at",
                       "created", "next_attempt", "message_id")


def notifications_for(ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's notifications and their delivery state, oldest first, as plain rows."""
    query = (Notification.select().where(Notification.ticket == ticket_id)
             .order_by(Notification.created, Notification.id))
    return [{name: getattr(row, name) for name in NOTIFICATION_FIELDS} for row in query]


def failed_rows(limit: int = 50) -> list[Notification]:
    return list(Notification.select().where(Notification.status == FAILED)
                .order_by(Notification.id.desc()).limit(limit))


def ticket_for_message_ids(message_ids: Iterable[str]) -> Ticket | None:
    """The ticket one of our stored Message-IDs belongs to (the newest match wins).

    Ours are the mails we sent, and the requester's mails recorded on a
    ticket (the one that opened it, their replies): a requester who answers
    their own first mail ("forgot the attachment") lands on its ticket.
    """
    ids = [m for m in message_ids if m]
    if not ids:
        return None
    row = (Notification.select(Notification.ticket).where(Notification.message_id.in_(ids)
                                                          & Notification.ticket.is_null(False))
           .order_by(Notification.id.desc()).first())
    if row is not None:
        return Ticket.get_by_id(row.ticket_id)
    entry = (History.select(History.ticket).where(History.message_id.in_(ids)
                                                  & History.kind.in_(("create", "comment")))
             .order_by(History.id.desc()).first())
    return Ticket.get_by_id(entry.ticket_id) if entry is not None else None


MAX_REFERENCES = 20
"""Earlier messages a mail's References names (the thread id first, then the newest of them)."""


def earlier_message_ids(ticket_id: int, before_row_id: int, recipient: str) -> list[str]:
    """The conversation with `recipient` before outbox row `before_row_id`, oldest first: our mails and theirs.

    Ours are the mails sent or still to go ahead of this one (not superseded
    or failed ones, which never arrived); theirs are the mails of theirs
    recorded on the ticket (the one that opened it, their replies).
    """
    ours = (Notification.select(Notification.message_id, Notification.created)
            .where((Notification.ticket == ticket_id) & (Notification.id < before_row_id)
                   & (Notification.recipient == recipient) & Notification.status.in_((SENT, PENDING)))
            .tuples())
    theirs = (History.select(History.message_id, History.at)
              .where((History.ticket == ticket_id) & History.kind.in_(("create", "comment"))
                     & History.message_id.is_null(False))
              .tuples())
    # At one instant theirs comes first: our mail then is the answer to it (the acknowledgement of a new ticket).
    merged = sorted([(at, 1, mid) for mid, at in ours] + [(at, 0, mid) for mid, at in theirs])
    return list(dict.fromkeys(mid for _, _, mid in merged if mid))[-MAX_REFERENCES:]
