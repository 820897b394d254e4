"""The requester's page: each ticket gets a random `page_secret` that signs its requester links.

Kept apart from `thread_token`, which every mail's thread id shows: a secret that
travels in headers cannot sign anything. Existing tickets get one here.
"""
import secrets

from peewee import CharField


def up(migrator, db):
    migrator.add_column("ticket", "page_secret", CharField(default="")).run()
    ids = [row_id for (row_id,) in db.execute_sql("SELECT id FROM ticket").fetchall()]
    for row_id in ids:
        db.execute_sql(f"UPDATE ticket SET page_secret = {db.param} WHERE id = {db.param}",
                       (secrets.token_urlsafe(24), row_id))


def down(migrator, db):
    migrator.drop_column("ticket", "page_secret").run()
