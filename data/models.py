"""Peewee models: tickets, their history and the notification outbox.

The models are bound at run time through `database_proxy` (peewee's
`DatabaseProxy`), so one code path serves the embedded SQLite file and a
team's PostgreSQL. The schema itself is created and changed only by the
numbered scripts in `data/migrations/`; these classes describe the newest
version of it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from peewee import (BooleanField, CharField, DatabaseProxy, DateTimeField, FloatField, ForeignKeyField,
                    IntegerField, Model, SmallIntegerField, TextField)

database_proxy = DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC: every instant in the database is UTC without an offset."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_thread_token() -> str:
    return secrets.token_hex(8)


def new_page_secret() -> str:
    return secrets.token_urlsafe(24)


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Ticket(BaseModel):
    """One request: the DevOps state is the column; the support status is derived."""

    key = CharField(unique=True)
    number = IntegerField(index=True)
    title = TextField()
    description = TextField(default="")
    background = TextField(default="")
    impact_statement = TextField(default="")
    extra_info = TextField(default="")
    requester_name = TextField(default="")
    requester_email = TextField(default="")
    reporter = TextField(default="")
    assignee = CharField(null=True)
    service = CharField(null=True)
    team = CharField(null=True)
    kind = CharField(default="bug")
    bug_class = CharField(null=True)  # hotfix | release | customer | other (Mattermost's bug order)
    work_type = CharField(null=True)  # support | project | adhoc; None means the kind's default
    labels = TextField(default="")
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")

    # Triage answers (None = not answered yet).
    impact = CharField(null=True)         # critical | high | medium | low
    urgency = CharField(null=True)        # immediate | soon | normal | low
    users_affected = CharField(null=True)  # many | subset
    frequency = CharField(null=True)      # always | intermittent
    service_down = BooleanField(null=True)
    deadline = CharField(null=True)       # ISO date of an event or deadline
    reproducible = CharField(null=True)   # yes | no | untested
    actionable = CharField(null=True)     # yes | no
    acknowledged = BooleanField(default=False)
    next_steps_sent = BooleanField(default=False)
    eta = CharField(null=True)
    priority = SmallIntegerField(null=True)  # 1..4 for P1..P4
    priority_overridden = BooleanField(default=False)

    # The board.
    state = CharField()
    hold_reason = CharField(null=True)
    solved = BooleanField(default=False)
    rank = FloatField()
    sort_key = IntegerField()  # priority of work, then priority: see app.board.ordering
    state_entered = DateTimeField()

    # Acknowledgement and the response clocks.
    needs_ack = BooleanField(default=False)
    ack_at = DateTimeField(null=True)
    ack_by = CharField(null=True)
    page_started = DateTimeField(null=True)
    first_response = DateTimeField(null=True)
    last_requester_update = DateTimeField(null=True)

    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)
    version = IntegerField(default=1)
    answered = BooleanField(default=False)
    """The requester replied and no team member has looked since (migration 0004): the card is marked."""
    thread_token = CharField(default=new_thread_token)
    """The random part of the ticket's mail thread id (migration 0004), so a stranger cannot guess it."""
    page_secret = CharField(default=new_page_secret)
    """Signs the requester's links to the ticket's page (migration 0010); never shown or mailed."""
    sla_warn_at = DateTimeField(null=True)
    """When the card's next response target turns to warning (migration 0008; kept by the write path)."""
    sla_due_at = DateTimeField(null=True)
    """When it is breached; both None while nothing can come due (met, paused, closed). See app.sla.due."""
    sla_digest = CharField(null=True)
    """The `sla:` policy the two were computed under (`app.sla.due.config_digest`); None: never computed."""

    class Meta:
        indexes = (
            (("state", "sort_key", "rank"), False),
            (("state", "rank"), False),
            (("assignee", "state"), False),
            (("state", "state_entered", "created"), False),  # the cycle report (migration 0002)
            (("updated",), False),  # live boards on SQLite: what changed since (migration 0003)
            (("sla_warn_at",), False),  # `--sla at-risk|warning` (migration 0008)
            (("sla_due_at",), False),  # `--sla breached`
            (("sla_digest",), False),  # which rows an `sla:` change left behind
            (("state", "sla_warn_at", "sla_due_at"), False),  # a column's few `--sla` matches (migration 0011)
            (("state", "sla_due_at"), False),
        )


class History(BaseModel):
    """Every change to a ticket, appended and never edited.

    `kind` is "move" for a state transition (from/to and the support status
    before and after are set), or "create", "triage", "assign", "ack", "page",
    "comment", "suggest", … with the particulars in `detail` (JSON).
    """

    ticket = ForeignKeyField(Ticket, backref="history", on_delete="CASCADE", index=False)
    """Indexed by (ticket, at) below; its own index went in migration 0007 (a prefix of that one)."""
    at = DateTimeField(default=utcnow, index=True)
    by = CharField(default="")
    kind = CharField()
    from_state = CharField(null=True)
    to_state = CharField(null=True)
    status_before = CharField(null=True)
    status_after = CharField(null=True)
    hold_reason = CharField(null=True)
    reason = TextField(default="")
    detail = TextField(default="")
    undoes = IntegerField(null=True)  # the History id an undo compensates
    message_id = CharField(null=True)
    """The Message-ID of the mail a comment records (migration 0004): the duplicate check's exact key."""

    class Meta:
        indexes = (
            (("ticket", "at"), False),
            (("kind", "at"), False),
            (("message_id",), False),
        )


class Notification(BaseModel):
    """The outbox: written in the transaction that caused it, delivered later."""

    ticket = ForeignKeyField(Ticket, null=True, backref="notifications", on_delete="CASCADE")
    kind = CharField()
    recipient = TextField()
    subject = TextField()
    body = TextField()
    message_id = CharField(unique=True)
    created = DateTimeField(default=utcnow)
    attempts = IntegerField(default=0)
    next_attempt = DateTimeField(default=utcnow)
    last_error = TextField(default="")
    sent_at = DateTimeField(null=True)
    status = CharField(default="pending")  # pending | sent | failed | superseded
    status_before = CharField(null=True)
    """A status mail: the support status it says the ticket left (migration 0005)."""

    class Meta:
        indexes = ((("status", "next_attempt"), False),)


class Attachment(BaseModel):
    """A file a mail brought to a ticket (migration 0006); the bytes are on disk under `intake.attachments_dir`."""

    ticket = ForeignKeyField(Ticket, backref="attachments", on_delete="CASCADE")
    name = TextField()
    """The file name the sender gave (shown escaped; never used as a path)."""
    path = TextField(default="")
    """Where it was saved, relative to `intake.attachments_dir`; empty when it was not saved."""
    size = IntegerField(default=0)
    content_type = TextField(default="application/octet-stream")
    note = TextField(default="")
    """Why it was not saved (larger than `intake.max_attachment_bytes`), or ""."""
    message_id = CharField(null=True)
    created = DateTimeField(default=utcnow)


MODELS = (Ticket, History, Notification, Attachment)
