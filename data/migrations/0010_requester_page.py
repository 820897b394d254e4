"""The requester's page: each ticket gets a random `page_secret` that signs its requester links.

Kept apart from `thread_token`, which every mail's thread id shows: a secret that
travels in headers cannot sign anything. Existing tickets get one here.

Plain `ALTER TABLE … ADD COLUMN … NOT NULL DEFAULT ''`, not the migrator's
add_column: on SQLite that rebuilds a NOT NULL column's table, which drops
every trigger on it (the search index's, the column counts'). The secrets are
filled by one statement from the database's own random source, not a row at
a time: a million tickets upgrade in seconds.
"""

from data.db import is_sqlite


def up(migrator, db):
    db.execute_sql("ALTER TABLE ticket ADD COLUMN page_secret VARCHAR(255) NOT NULL DEFAULT ''")
    if is_sqlite(db):
        db.execute_sql("UPDATE ticket SET page_secret = lower(hex(randomblob(24)))")
    else:
        db.execute_sql("UPDATE ticket SET page_secret = replace(gen_random_uuid()::text || gen_random_uuid()::text,"
                       " '-', '')")


def down(migrator, db):
    migrator.drop_column("ticket", "page_secret").run()
