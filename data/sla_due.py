"""The stored due instants (migration 0008): the SLA filters as SQL, and the statements that keep them.

`ticket.sla_warn_at` / `ticket.sla_due_at` are when a card's next response
target turns to warning and to breached (naive UTC); `ticket.sla_digest`
names the policy they were computed under. What they mean and how they are
computed is `app.sla.due`; this module only reads and writes them, and knows
no rule (the caller passes the final column and the digest).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Callable, Iterator, Literal, Sequence

from peewee import Database, Expression

from data.db import is_sqlite
from data.models import Ticket, database_proxy

Which = Literal["warning", "breached", "at-risk"]

Due = tuple[int, "dt.datetime | None", "dt.datetime | None", str]
"""(ticket id, sla_warn_at, sla_due_at, sla_digest), as stored."""


def condition(which: Which, now: dt.datetime) -> Expression:
    """The tickets whose card reads `which` at `now` (naive UTC), over the indexed columns.

    A ticket whose columns are empty (nothing can come due) matches none of them.
    """
    now = now.replace(tzinfo=None) if now.tzinfo is None else now.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if which == "breached":
        return Ticket.sla_due_at < now
    if which == "warning":
        return (Ticket.sla_warn_at <= now) & (Ticket.sla_due_at >= now)
    if which == "at-risk":
        return Ticket.sla_warn_at <= now
    raise ValueError(f"unknown SLA filter {which!r} (warning, breached or at-risk)")


FEW = 1000
"""Up to this many matches in a column, `ticket list --sla` sorts just them (`few_in`); beyond, walking
the column in board order finds its first page of them within a few hundred rows."""


def few_in(state: str, which: Expression, at_most: int = FEW) -> list[int] | None:
    """The ids of the tickets in column `state` that `which` (a `condition`) holds for; None: more than `at_most`.

    Read from the `(state, sla_warn_at, sla_due_at)` / `(state, sla_due_at)`
    indexes alone (migration 0011): a range, never the column's rows.
    """
    ids = [ticket_id for (ticket_id,) in Ticket.select(Ticket.id).where((Ticket.state == state) & which)
           .limit(at_most + 1).tuples()]
    return ids if len(ids) <= at_most else None


def store(rows: Sequence[Due]) -> None:
    """Write computed instants (inside the caller's transaction): one prepared statement, many rows."""
    if not rows:
        return
    db = database_proxy.obj
    param = db.param
    field_warn, field_due = Ticket.sla_warn_at, Ticket.sla_due_at
    sql = (f"UPDATE ticket SET sla_warn_at = {param}, sla_due_at = {param}, sla_digest = {param} "
           f"WHERE id = {param}")
    db.cursor().executemany(sql, [(field_warn.db_value(warn), field_due.db_value(due), digest, ticket_id)
                                  for ticket_id, warn, due, digest in rows])


def stored(ticket_ids: Sequence[int]) -> dict[int, tuple[dt.datetime | None, dt.datetime | None, str | None]]:
    """{id: (sla_warn_at, sla_due_at, sla_digest)} for these tickets: one query."""
    if not ticket_ids:
        return {}
    return {ticket_id: (warn, due, digest) for ticket_id, warn, due, digest in
            Ticket.select(Ticket.id, Ticket.sla_warn_at, Ticket.sla_due_at, Ticket.sla_digest)
            .where(Ticket.id.in_(list(ticket_ids))).tuples()}


def _stale(digest: str) -> Expression:
    # Three index probes, not `<>` (which no index serves): answered in microseconds at a million rows.
    return Ticket.sla_digest.is_null() | (Ticket.sla_digest < digest) | (Ticket.sla_digest > digest)


def stale_count(digest: str, at_most: int) -> int:
    """How many tickets were computed under another policy (or never), counting no further than `at_most`."""
    query = Ticket.select(Ticket.id).where(_stale(digest)).limit(at_most)
    return Ticket.select().from_(query.alias("stale")).count()


def open_ids(final: str, after: int, chunk: int) -> list[int]:
    """The next `chunk` ids past `after` outside the final column, in id order (a rebuild's batch)."""
    return [ticket_id for (ticket_id,) in Ticket.select(Ticket.id)
            .where((Ticket.id > after) & (Ticket.state != final)).order_by(Ticket.id).limit(chunk).tuples()]


def clear_final(final: str, digest: str) -> int:
    """Closed tickets owe nothing: empty their columns in one statement, stamped with `digest`."""
    return (Ticket.update(sla_warn_at=None, sla_due_at=None, sla_digest=digest)
            .where((Ticket.state == final) & (_stale(digest) | Ticket.sla_warn_at.is_null(False)))
            .execute())


def final_mismatches(final: str, digest: str, limit: int = 100) -> list[tuple[int, str]]:
    """Closed tickets whose columns are not empty or not of `digest`: (id, key)."""
    return list(Ticket.select(Ticket.id, Ticket.key)
                .where((Ticket.state == final) & (_stale(digest) | Ticket.sla_warn_at.is_null(False)
                                                  | Ticket.sla_due_at.is_null(False)))
                .order_by(Ticket.id).limit(limit).tuples())


def count_final_mismatches(final: str, digest: str) -> int:
    return (Ticket.select().where((Ticket.state == final) & (_stale(digest) | Ticket.sla_warn_at.is_null(False)
                                                             | Ticket.sla_due_at.is_null(False))).count())


@contextmanager
def batch(ticket_ids: Sequence[int]) -> Iterator[None]:
    """One transaction for a rebuild's batch, with its tickets held against concurrent writers.

    A write committing between the batch's read and its update would have its
    fresh instants overwritten by stale ones: SQLite's BEGIN IMMEDIATE takes
    the write lock up front, PostgreSQL locks the rows (the write path's own
    SELECT … FOR UPDATE then waits for the batch).
    """
    db = database_proxy.obj
    with (db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic()):
        if not is_sqlite(db) and ticket_ids:
            list(Ticket.select(Ticket.id).where(Ticket.id.in_(list(ticket_ids))).for_update().tuples())
        yield


def at_risk_rows(now: dt.datetime, final: str) -> Iterator[tuple]:
    """(id, state, key, title, assignee, priority, sla_warn_at, sla_due_at) of every open card at risk at `now`.

    One indexed range scan (`sla_warn_at <= now`): its cost is the cards at risk, not the board.
    """
    return iter(Ticket.select(Ticket.id, Ticket.state, Ticket.key, Ticket.title, Ticket.assignee, Ticket.priority,
                              Ticket.sla_warn_at, Ticket.sla_due_at)
                .where(condition("at-risk", now) & (Ticket.state != final)).tuples())


# -- the migration's backfill ------------------------------------------------

_backfill: Callable[[Database], None] | None = None


def use_backfill(fill: Callable[[Database], None] | None) -> None:
    """How migration 0008 fills existing rows: `data/` cannot read `config.yaml`, so the program tells it."""
    global _backfill
    _backfill = fill


def run_backfill(db: Database) -> None:
    """Called by migration 0008 inside the upgrade's transaction; without a `use_backfill`, rows stay empty."""
    if _backfill is not None:
        _backfill(db)


__all__ = ["Due", "Which", "at_risk_rows", "batch", "clear_final", "condition", "count_final_mismatches",
           "final_mismatches", "open_ids", "run_backfill", "stale_count", "store", "stored", "use_backfill"]
