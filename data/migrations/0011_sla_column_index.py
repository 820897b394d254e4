"""The stored due instants indexed within each column, so `ticket list --sla` finds a column's few matches.

`ticket list` reads each column in board order with the `(state, sort_key,
rank)` index and stops at `--limit`; a filter that few tickets of a column
pass (`--sla warning`, `--sla breached` on a healthy board) made that walk
read every open ticket: 0.85 s at 100,000, seconds at 1,000,000. With these
the column's matching ids come from an index range (`data.sla_due.few_in`),
and only those are sorted. Plain CREATE INDEX: no table rebuild, the
triggers stay.

On SQLite a database already analyzed (an import, bench/seed.py) has
statistics for every other index and none for these: the planner then took
them for the best index for `state = ?` and sorted whole columns for the
board's plain reads (0.7 s for `ticket list --limit 20` at 100,000). The two
indexes are analyzed here (each alone: a scan of the index, not the table).
"""

from data.db import is_sqlite

INDEXES = {"ticket_state_sla_warn_at_sla_due_at": "state, sla_warn_at, sla_due_at",
           "ticket_state_sla_due_at": "state, sla_due_at"}


def up(migrator, db):
    for name, columns in INDEXES.items():
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON ticket ({columns})")
    if is_sqlite(db) and db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        for name in INDEXES:
            db.execute_sql(f"ANALYZE {name}")


def down(migrator, db):
    for name in INDEXES:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
