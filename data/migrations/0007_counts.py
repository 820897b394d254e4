"""Cards per column kept in a table of their own, so the board's first paint does not count the tickets;
and an index for the untriaged filter.

`ticket_count` holds one row per (state, triage incomplete) with how many
tickets are there; triggers on `ticket` keep it in the statement that writes
the ticket, so any writer (the service, an import, a test's raw UPDATE) keeps
it right. SQLite's row triggers are a few microseconds an insert. PostgreSQL
uses statement triggers over transition tables: one grouped upsert per
statement, with the rows it changes taken in (state, incomplete) order, so
two moves in opposite directions never deadlock on it. The rebuild
(`data.counts.rebuild`) fills it from the tickets.
"""

INCOMPLETE = ("CASE WHEN {t}.actionable IS NULL OR {t}.actionable <> 'yes' OR {t}.priority IS NULL "
              "OR {t}.acknowledged = FALSE THEN 1 ELSE 0 END")
"""Mirrors `data.triage.triage_incomplete` (a test keeps them in step)."""

SQLITE = [
    "CREATE TABLE ticket_count (state VARCHAR(255) NOT NULL, incomplete INTEGER NOT NULL, "
    "n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (state, incomplete)) WITHOUT ROWID",
    f"""CREATE TRIGGER ticket_count_insert AFTER INSERT ON ticket BEGIN
        INSERT INTO ticket_count (state, incomplete, n) VALUES (new.state, {INCOMPLETE.format(t='new')}, 1)
        ON CONFLICT (state, incomplete) DO UPDATE SET n = n + 1;
    END""",
    f"""CREATE TRIGGER ticket_count_delete AFTER DELETE ON ticket BEGIN
        UPDATE ticket_count SET n = n - 1
        WHERE state = old.state AND incomplete = {INCOMPLETE.format(t='old')};
    END""",
    f"""CREATE TRIGGER ticket_count_update AFTER UPDATE OF state, actionable, priority, acknowledged ON ticket
    WHEN old.state IS NOT new.state OR {INCOMPLETE.format(t='old')} <> {INCOMPLETE.format(t='new')} BEGIN
        UPDATE ticket_count SET n = n - 1
        WHERE state = old.state AND incomplete = {INCOMPLETE.format(t='old')};
        INSERT INTO ticket_count (state, incomplete, n) VALUES (new.state, {INCOMPLETE.format(t='new')}, 1)
        ON CONFLICT (state, incomplete) DO UPDATE SET n = n + 1;
    END""",
]

_PG_DELTA = """
    INSERT INTO ticket_count (state, incomplete, n)
    SELECT state, incomplete, SUM(d) FROM ({parts}) AS delta
    GROUP BY state, incomplete HAVING SUM(d) <> 0
    ORDER BY state, incomplete
    ON CONFLICT (state, incomplete) DO UPDATE SET n = ticket_count.n + EXCLUDED.n;
"""
_PG_NEW = f"SELECT t.state, {INCOMPLETE.format(t='t')} AS incomplete, 1 AS d FROM new_rows t"
_PG_OLD = f"SELECT t.state, {INCOMPLETE.format(t='t')} AS incomplete, -1 AS d FROM old_rows t"

POSTGRESQL = [
    "CREATE TABLE ticket_count (state VARCHAR(255) NOT NULL, incomplete INTEGER NOT NULL, "
    "n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (state, incomplete))",
    f"""CREATE FUNCTION ticket_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_PG_DELTA.format(parts=_PG_NEW)} RETURN NULL; END $$""",
    f"""CREATE FUNCTION ticket_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_PG_DELTA.format(parts=_PG_OLD)} RETURN NULL; END $$""",
    f"""CREATE FUNCTION ticket_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_PG_DELTA.format(parts=_PG_OLD + ' UNION ALL ' + _PG_NEW)} RETURN NULL; END $$""",
    "CREATE TRIGGER ticket_count_insert AFTER INSERT ON ticket REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION ticket_count_inserted()",
    "CREATE TRIGGER ticket_count_delete AFTER DELETE ON ticket REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION ticket_count_deleted()",
    "CREATE TRIGGER ticket_count_update AFTER UPDATE ON ticket REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ticket_count_updated()",
]

INDEX = (f"CREATE INDEX ticket_triage_incomplete ON ticket (state, ({INCOMPLETE.format(t='ticket')}), sort_key, rank)"
         .replace("ticket.", ""))
"""The untriaged filter's index (`ticket list --untriaged`, the board's `U`): the column's cards with
triage to do, in priority of work, without walking the triaged ones. The expression is the one
`data.triage.triage_incomplete` sends, column names unqualified, so both planners match it."""

REDUNDANT = "DROP INDEX IF EXISTS history_ticket_id"
"""`history (ticket_id)` is a prefix of `history (ticket_id, at)`, which serves every lookup it did;
keeping both cost each imported history row one more index insert."""

REBUILD = [
    "DELETE FROM ticket_count",
    f"INSERT INTO ticket_count (state, incomplete, n) SELECT state, {INCOMPLETE.format(t='ticket')}, COUNT(*) "
    "FROM ticket GROUP BY 1, 2",
]


def up(migrator, db):
    from peewee import SqliteDatabase

    for statement in (SQLITE if isinstance(db, SqliteDatabase) else POSTGRESQL) + [INDEX, REDUNDANT] + REBUILD:
        db.execute_sql(statement)


def down(migrator, db):
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        for name in ("insert", "delete", "update"):
            db.execute_sql(f"DROP TRIGGER ticket_count_{name}")
    else:
        for name, function in (("insert", "inserted"), ("delete", "deleted"), ("update", "updated")):
            db.execute_sql(f"DROP TRIGGER ticket_count_{name} ON ticket")
            db.execute_sql(f"DROP FUNCTION ticket_count_{function}()")
    db.execute_sql("DROP INDEX ticket_triage_incomplete")
    db.execute_sql("CREATE INDEX history_ticket_id ON history (ticket_id)")
    db.execute_sql("DROP TABLE ticket_count")
