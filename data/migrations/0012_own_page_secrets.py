"""Every ticket its own requester-page secret: imports before this one gave a whole file the same one.

Bulk import filled each default once per file, so all the tickets of one
import shared one `page_secret` (migration 0010). A link stays unforgeable
without the secret, but one secret leaked would then open every ticket of
that import. Each ticket whose secret another one shares gets a fresh one
from the database's random source, in one statement; links already mailed
for those tickets stop working, and the page they lead to offers a fresh
link by mail to the ticket's requester.
"""

from data.db import is_sqlite

_SHARED = "page_secret IN (SELECT page_secret FROM ticket GROUP BY page_secret HAVING count(*) > 1)"


def up(migrator, db):
    if is_sqlite(db):
        db.execute_sql(f"UPDATE ticket SET page_secret = lower(hex(randomblob(24))) WHERE {_SHARED}")
    else:
        db.execute_sql("UPDATE ticket SET page_secret = replace(gen_random_uuid()::text || gen_random_uuid()::text,"
                       f" '-', '') WHERE {_SHARED}")


def down(migrator, db):
    pass  # the shared secrets are not worth restoring
