"""Tickets from e-mail: the files a mail brought to a ticket.

The bytes stay on disk (`intake.attachments_dir`); this table lists them on
the ticket, so `ticket show` and the export name them. A frozen copy of the
model as it is at this version.
"""
import datetime

from peewee import *


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Ticket(Base):
        class Meta:
            table_name = "ticket"

    class Attachment(Base):
        ticket = ForeignKeyField(Ticket, backref="attachments", on_delete="CASCADE")
        name = TextField()
        path = TextField(default="")
        size = IntegerField(default=0)
        content_type = TextField(default="application/octet-stream")
        note = TextField(default="")
        message_id = CharField(null=True)
        created = DateTimeField(default=datetime.datetime.utcnow)

    db.create_tables([Attachment])


def down(migrator, db):
    db.execute_sql("DROP TABLE attachment")
