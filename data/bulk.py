"""Many rows at storage speed: one prepared INSERT run over the rows by the driver, ids reserved up front.

Peewee's `insert_many` builds the SQL text of every row in Python (28 of the
32 s a 100,000-row import took); here the statement is written once and the
DB-API driver binds each row: `executemany` on SQLite (the sqlite3 module
steps one prepared statement), `psycopg2.extras.execute_values` on PostgreSQL
(pages of rows per round trip). Values go in as Python gives them (str, int,
float, bool, naive UTC datetime, None), as Peewee itself hands them to the
driver for these columns.

Callers run inside the write path's transaction (`WritePath._write`), which
on SQLite holds the write lock from the start: that is what makes
`reserve_ids`' MAX(id) + 1 safe there. PostgreSQL takes the ids from the
table's own sequence, so concurrent creates never collide with them.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, Sequence

from data.db import is_sqlite
from data.models import database_proxy

PAGE = 2000
"""Rows per `execute_values` statement on PostgreSQL."""


def reserve_ids(table: str, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, in increasing order."""
    if count <= 0:
        return []
    db = database_proxy.obj
    if is_sqlite(db):
        start = (db.execute_sql(f'SELECT MAX(id) FROM "{table}"').fetchone()[0] or 0) + 1
        return list(range(start, start + count))
    cursor = db.execute_sql(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                            "FROM generate_series(1, %s)", (count,))
    return sorted(row[0] for row in cursor)


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence],
                constants: Mapping[str, Any] | None = None) -> None:
    """INSERT every row (a sequence of values in `columns` order) with one prepared statement.

    `constants` are columns every row gives the same value (the model's
    defaults an import leaves alone): written into the statement once, as the
    database's own quoting renders them, instead of bound again for each row.
    Binding was half of SQLite's cost for 100,000 tickets of 53 columns.
    """
    db = database_proxy.obj
    fixed = dict(constants or {})
    names = ", ".join(f'"{name}"' for name in (*columns, *fixed))
    cursor = db.cursor()
    if is_sqlite(db):
        given = ", ".join(("?",) * len(columns) + tuple(_sqlite_literal(db, v) for v in fixed.values()))
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({given})', rows)
        return
    from psycopg2.extras import execute_values

    template = "(" + ", ".join(("%s",) * len(columns) + tuple(
        cursor.mogrify("%s", (value,)).decode().replace("%", "%%") for value in fixed.values())) + ")"
    execute_values(cursor, f'INSERT INTO "{table}" ({names}) VALUES %s', rows, template=template, page_size=PAGE)


def _sqlite_literal(db, value: Any) -> str:
    """`value` as SQLite itself quotes it (`quote()`), after the driver's own adaptation of a bound value."""
    (literal,) = db.execute_sql("SELECT quote(?)", (value,)).fetchone()
    return literal


@contextmanager
def bulk_session() -> Iterator[None]:
    """SQLite, for this connection around the import's transaction (they cannot change inside one).

    Each inserted row fires the counts trigger (migration 0007), and a
    statement with a trigger keeps a statement journal: in a temporary file
    that was 60 of the 100 us a row took; `temp_store = MEMORY` keeps it in
    memory. A larger page cache keeps the indexes of 100,000 rows in memory.
    """
    db = database_proxy.obj
    if not is_sqlite(db) or db.in_transaction():
        yield
        return
    from data.db import SQLITE_PRAGMAS

    db.execute_sql("PRAGMA temp_store = MEMORY")
    db.execute_sql("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        db.execute_sql("PRAGMA temp_store = DEFAULT")
        db.execute_sql(f"PRAGMA cache_size = {SQLITE_PRAGMAS['cache_size']}")


REBUILD_AT = 10_000
"""Rows from which an insert at least as large as its table builds the table's indexes afresh (SQLite)."""


@contextmanager
def indexes_aside(table: str, adding: int) -> Iterator[None]:
    """SQLite, inside the caller's transaction: build `table`'s secondary indexes once after a large insert.

    Inserting 100,000 tickets into their ten indexes one row at a time was
    60% of the ticket INSERT; dropping them and creating them again from the
    sorted rows costs less than half of that when the insert is at least as
    large as the table already was. Unique indexes stay, so a duplicate is
    still refused by its row; an error rolls the DROPs back with the rest.
    """
    db = database_proxy.obj
    if not is_sqlite(db) or adding < REBUILD_AT:
        yield
        return
    (present,) = db.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()
    indexes = [] if present > adding else db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
        "AND sql NOT LIKE 'CREATE UNIQUE%'", (table,)).fetchall()
    for name, _ in indexes:
        db.execute_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        db.execute_sql(sql)


@contextmanager
def triggers_aside(*names: str) -> Iterator[None]:
    """SQLite, inside the caller's transaction: these row triggers dropped for a bulk insert, then created again.

    A statement that fires a row trigger pays for it on every row, and keeps a
    statement journal for every row besides (the import's ticket INSERT took
    a third longer with its two). The caller does the triggers' work in one
    statement over all the rows instead (`data.counts.counted_once`,
    `data.search.deferred_indexing`). It is DDL in the transaction: an error
    rolls the DROP back with the rows, and no other connection ever sees the
    table without its triggers, since SQLite's write lock is held throughout.
    PostgreSQL's triggers here run per statement already: nothing is set aside there.
    """
    db = database_proxy.obj
    if not is_sqlite(db) or not names:
        yield
        return
    marks = ", ".join("?" * len(names))
    found = db.execute_sql(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
                           names).fetchall()
    for name, _ in found:
        db.execute_sql(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in found:
        db.execute_sql(sql)


def analyze(count: int) -> None:
    """PostgreSQL: fresh planner statistics for the tables a bulk insert of `count` tickets grew.

    Until autovacuum comes round, the planner would take a table that just
    grew by 100,000 rows for an empty one and pick plans for that (a nested
    loop over the whole table). ANALYZE samples a fixed number of rows, so it
    costs a fraction of a second whatever the size; below 1,000 tickets it is
    left to autovacuum. SQLite plans from its indexes without statistics.
    """
    db = database_proxy.obj
    if count >= 1000 and not is_sqlite(db):
        db.execute_sql("ANALYZE ticket")
        db.execute_sql("ANALYZE history")


def stream(query, size: int = 2000) -> Iterator[tuple]:
    """The rows of a Peewee query as plain tuples, read from the database as they are consumed.

    SQLite steps the statement row by row; on PostgreSQL a server-side
    (named) cursor fetches `size` rows a round trip, where a plain cursor
    would hold the whole result in memory first. Run it inside a
    transaction (`db.atomic()`): the named cursor lives there, and several
    streams then read one snapshot. Values come back as the driver gives
    them (SQLite: datetimes as text, flags as 0/1).
    """
    db = database_proxy.obj
    sql, params = query.sql()
    if is_sqlite(db):
        yield from db.execute_sql(sql, params)
        return
    global _cursors
    _cursors += 1
    # WITH HOLD: peewee runs psycopg2 in autocommit and sends BEGIN itself, and psycopg2 refuses a
    # plain named cursor it thinks is outside a transaction; read to the end before the commit, the
    # cursor is never materialised.
    cursor = db.connection().cursor(name=f"triageboard_stream_{_cursors}", withhold=True)
    cursor.itersize = size
    try:
        cursor.execute(sql, params)
        yield from cursor
    finally:
        cursor.close()


_cursors = 0


__all__ = ["analyze", "bulk_session", "indexes_aside", "insert_rows", "reserve_ids", "stream", "triggers_aside"]
