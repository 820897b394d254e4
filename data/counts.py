"""Cards per column and the untriaged figure from `ticket_count` (migration 0007), not from the tickets.

The table holds a handful of rows whatever the size of the board, so the
first paint reads it in well under a millisecond; triggers on `ticket` keep
it in the same statement as every write (see the migration). `rebuild` fills
it again from the tickets, for a database someone edited with the triggers
off (or a doubt): `triageboard recount`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from data.db import is_sqlite
from data.models import database_proxy

INCOMPLETE = ("CASE WHEN actionable IS NULL OR actionable <> 'yes' OR priority IS NULL "
               "OR acknowledged = FALSE THEN 1 ELSE 0 END")
"""Whether a ticket has triage to do, in SQL: the migration's triggers and index have this expression, and
`data.triage.triage_incomplete` sends it (a test keeps it in step with `app.triage.rules.missing`)."""


def column_counts() -> dict[str, int]:
    """Cards per state (a state with no cards is absent): one read of a table of a few rows."""
    cursor = database_proxy.obj.execute_sql(
        "SELECT state, SUM(n) FROM ticket_count GROUP BY state HAVING SUM(n) > 0")
    return {state: int(count) for state, count in cursor}


def untriaged_count(initial_state: str) -> int:
    """Tickets in `initial_state` with triage to do."""
    db = database_proxy.obj
    row = db.execute_sql(f"SELECT n FROM ticket_count WHERE state = {db.param} AND incomplete = 1",
                         (initial_state,)).fetchone()
    return int(row[0]) if row else 0


def rebuild() -> dict[str, int]:
    """Count the tickets again into `ticket_count`, in one transaction; returns the fresh counts."""
    db = database_proxy.obj
    with db.atomic():
        db.execute_sql("DELETE FROM ticket_count")
        db.execute_sql(f"INSERT INTO ticket_count (state, incomplete, n) SELECT state, {INCOMPLETE}, COUNT(*) "
                       "FROM ticket GROUP BY 1, 2")
    return column_counts()


BULK_AT = 10_000
"""Inserted tickets from which SQLite counts them in one statement rather than by the row trigger."""

_ROW_TRIGGER = "ticket_count_insert"


@contextmanager
def counted_once(adding: int) -> Iterator[None]:
    """SQLite, inside the caller's transaction: count a large insert of tickets in one grouped statement.

    The row trigger costs little alone, but a statement that fires one keeps
    a statement journal for every row: at 100,000 imported tickets it was a
    fifth of the ticket INSERT. Here the trigger is dropped for the insert
    and created again from its own stored SQL, then the new tickets (ids
    past those already there) are added to the counts in one upsert. It is
    DDL inside the transaction: an error rolls the DROP back with the rows,
    and no other connection ever sees the table without its trigger (the
    write lock is held throughout). PostgreSQL's trigger already counts per
    statement.
    """
    db = database_proxy.obj
    found = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                           (_ROW_TRIGGER,)).fetchone() if is_sqlite(db) and adding >= BULK_AT else None
    if found is None:
        yield
        return
    (last,) = db.execute_sql("SELECT coalesce(max(id), 0) FROM ticket").fetchone()
    db.execute_sql(f"DROP TRIGGER {_ROW_TRIGGER}")
    yield
    db.execute_sql(found[0])
    db.execute_sql(f"INSERT INTO ticket_count (state, incomplete, n) SELECT state, {INCOMPLETE}, COUNT(*) "
                   "FROM ticket WHERE id > ? GROUP BY 1, 2 "
                   "ON CONFLICT (state, incomplete) DO UPDATE SET n = n + excluded.n", (last,))


__all__ = ["BULK_AT", "INCOMPLETE", "column_counts", "counted_once", "rebuild", "untriaged_count"]
