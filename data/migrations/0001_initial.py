"""The first schema: tickets, history and the notification outbox.

A frozen copy of the models as they were at this version, so later changes to
`data/models.py` never alter what this script creates.
"""
import datetime

from peewee import *


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Ticket(Base):
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
        bug_class = CharField(null=True)
        work_type = CharField(null=True)
        labels = TextField(default="")
        parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
        impact = CharField(null=True)
        urgency = CharField(null=True)
        users_affected = CharField(null=True)
        frequency = CharField(null=True)
        service_down = BooleanField(null=True)
        deadline = CharField(null=True)
        reproducible = CharField(null=True)
        actionable = CharField(null=True)
        acknowledged = BooleanField(default=False)
        next_steps_sent = BooleanField(default=False)
        eta = CharField(null=True)
        priority = SmallIntegerField(null=True)
        priority_overridden = BooleanField(default=False)
        state = CharField()
        hold_reason = CharField(null=True)
        solved = BooleanField(default=False)
        rank = FloatField()
        sort_key = IntegerField()
        state_entered = DateTimeField()
        needs_ack = BooleanField(default=False)
        ack_at = DateTimeField(null=True)
        ack_by = CharField(null=True)
        page_started = DateTimeField(null=True)
        first_response = DateTimeField(null=True)
        last_requester_update = DateTimeField(null=True)
        created = DateTimeField()
        updated = DateTimeField()
        version = IntegerField(default=1)

        class Meta:
            indexes = (
                (("state", "sort_key", "rank"), False),
                (("state", "rank"), False),
                (("assignee", "state"), False),
            )

    class History(Base):
        ticket = ForeignKeyField(Ticket, backref="history", on_delete="CASCADE")
        at = DateTimeField(index=True)
        by = CharField(default="")
        kind = CharField()
        from_state = CharField(null=True)
        to_state = CharField(null=True)
        status_before = CharField(null=True)
        status_after = CharField(null=True)
        hold_reason = CharField(null=True)
        reason = TextField(default="")
        detail = TextField(default="")
        undoes = IntegerField(null=True)

        class Meta:
            indexes = ((("ticket", "at"), False), (("kind", "at"), False))

    class Notification(Base):
        ticket = ForeignKeyField(Ticket, null=True, backref="notifications", on_delete="CASCADE")
        kind = CharField()
        recipient = TextField()
        subject = TextField()
        body = TextField()
        message_id = CharField(unique=True)
        created = DateTimeField()
        attempts = IntegerField(default=0)
        next_attempt = DateTimeField()
        last_error = TextField(default="")
        sent_at = DateTimeField(null=True)
        status = CharField(default="pending")

        class Meta:
            indexes = ((("status", "next_attempt"), False),)

    db.create_tables([Ticket, History, Notification])
