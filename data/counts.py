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

    The row trigger is set aside for the insert (`data.bulk.triggers_aside`),
    then the new tickets (ids past those already there) are added to the
    counts in one upsert. PostgreSQL's trigger already counts per statement.
    """
    from data.bulk import triggers_aside  # data.bulk is for the batch paths only

    db = database_proxy.obj
    if not is_sqlite(db) or adding < BULK_AT:
        yield
        return
    (last,) = db.execute_sql("SELECT coalesce(max(id), 0) FROM ticket").fetchone()
    with triggers_aside(_ROW_TRIGGER):
        yield
    db.execute_sql(f"INSERT INTO ticket_count (state, incomplete, n) SELECT state, {INCOMPLETE}, COUNT(*) "
                   "FROM ticket WHERE id > ? GROUP BY 1, 2 "
                   "ON CONFLICT (state, incomplete) DO UPDATE SET n = n + excluded.n", (last,))


__all__ = ["BULK_AT", "INCOMPLETE", "column_counts", "counted_once", "rebuild", "untriaged_count"]
