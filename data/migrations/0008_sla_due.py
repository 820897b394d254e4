"""Each ticket's next due instants as columns, so `ticket list --sla` and the board's at-risk figure are queries.

`sla_warn_at` and `sla_due_at` (naive UTC) are when the card's next response
target turns to warning and to breached; `sla_digest` names the `sla:`
policy they were computed under (app.sla.due). Existing rows are filled here
when the program opening the database has told `data.sla_due` how
(`data.sla_due.use_backfill`: every `triageboard` command does, with its
config); a library caller that has not (bench/seed.py, a test) leaves them
empty, and the digest check then says `triageboard sla rebuild` is due.
"""
from peewee import CharField, DateTimeField


def up(migrator, db):
    migrator.add_column("ticket", "sla_warn_at", DateTimeField(null=True)).run()
    migrator.add_column("ticket", "sla_due_at", DateTimeField(null=True)).run()
    migrator.add_column("ticket", "sla_digest", CharField(null=True)).run()
    migrator.add_index("ticket", ("sla_warn_at",), False).run()
    migrator.add_index("ticket", ("sla_due_at",), False).run()
    migrator.add_index("ticket", ("sla_digest",), False).run()
    from data import sla_due

    sla_due.run_backfill(db)


def down(migrator, db):
    for column in ("sla_warn_at", "sla_due_at", "sla_digest"):
        migrator.drop_index("ticket", f"ticket_{column}").run()
        migrator.drop_column("ticket", column).run()
