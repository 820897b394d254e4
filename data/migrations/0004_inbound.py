"""Inbound mail: each recorded message's Message-ID in its own indexed column; a random thread token per ticket.

The duplicate check used `LIKE` over the comment's JSON detail, where an id
such as `<"é"@x>` is stored escaped (`\\"\\u00e9\\"`), so it never matched and
the same mail was recorded (and forwarded) twice. Existing comments are
backfilled from their detail.

A ticket's thread id was `<set-1.thread@domain>`, guessable from its key; it
now carries `ticket.thread_token`, random, given to every existing ticket here.
`ticket.answered` marks a card whose requester replied until a team member looks.
"""
import json
import secrets

from peewee import BooleanField, CharField


def up(migrator, db):
    migrator.add_column("history", "message_id", CharField(null=True)).run()
    migrator.add_index("history", ("message_id",), False).run()
    backfill(db)
    migrator.add_column("ticket", "thread_token", CharField(default="")).run()
    migrator.add_column("ticket", "answered", BooleanField(default=False)).run()
    ids = [row_id for (row_id,) in db.execute_sql("SELECT id FROM ticket").fetchall()]
    for row_id in ids:
        db.execute_sql(f"UPDATE ticket SET thread_token = {db.param} WHERE id = {db.param}",
                       (secrets.token_hex(8), row_id))


def backfill(db):
    """Copy each comment's Message-ID from its JSON detail into the column."""
    rows = db.execute_sql("SELECT id, detail FROM history WHERE kind = 'comment' AND detail <> ''").fetchall()
    found = []
    for row_id, detail in rows:
        try:
            message_id = json.loads(detail).get("message_id")
        except (ValueError, AttributeError):
            continue
        if message_id:
            found.append((message_id, row_id))
    param = db.param
    for message_id, row_id in found:
        db.execute_sql(f"UPDATE history SET message_id = {param} WHERE id = {param}", (message_id, row_id))


def down(migrator, db):
    migrator.drop_column("ticket", "thread_token").run()
    migrator.drop_column("ticket", "answered").run()
    migrator.drop_index("history", "history_message_id").run()
    migrator.drop_column("history", "message_id").run()
