"""Inbound mail: each recorded message's Message-ID in its own indexed column.

The duplicate check used `LIKE` over the comment's JSON detail, where an id
such as `<"é"@x>` is stored escaped (`\\"\\u00e9\\"`), so it never matched and
the same mail was recorded (and forwarded) twice. Existing comments are
backfilled from their detail.
"""
import json

from peewee import CharField


def up(migrator, db):
    migrator.add_column("history", "message_id", CharField(null=True)).run()
    migrator.add_index("history", ("message_id",), False).run()
    backfill(db)


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
    migrator.drop_index("history", "history_message_id").run()
    migrator.drop_column("history", "message_id").run()
