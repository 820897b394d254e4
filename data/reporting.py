"""The queries behind the cycle report: just the tickets a period needs, in two round trips.

A board of 100,000 tickets is mostly closed work nobody has touched in
months. Those tickets matter to a report only as a number (the Closed band of
the cumulative flow diagram), so SQL counts them from an index, and only the
tickets that were open at some time in the period are fetched, with their
moves, in one query. "Moved in the period" is read from history (its "create" and "move"
rows); "not moved since" from `Ticket.state_entered`, which the one write
path keeps equal to the time of the ticket's last move (an import must set
it likewise).

Plain peewee query builder only (subqueries, IN, a correlated scalar
subquery), so SQLite and PostgreSQL run the same code.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Sequence

import msgspec
from peewee import JOIN, fn

from data.models import History, Ticket, database_proxy

MOVE_KINDS = ("create", "move")
"""History rows that change a ticket's column; the rest (triage, assign, …) do not."""


class Transition(msgspec.Struct, frozen=True):
    """One move: the shape `app.reports.metrics` reads (at, to_state, from_state)."""

    at: dt.datetime
    to_state: str
    from_state: str | None


class TicketHistory(msgspec.Struct, frozen=True):
    """One ticket and its moves before the period's end: the shape `app.reports.metrics` reads."""

    key: str
    created: dt.datetime
    moves: tuple[Transition, ...]
    created_state: str | None
    kind: str
    work_type: str | None
    assignee: str | None


class PeriodHistory(msgspec.Struct, frozen=True):
    tickets: tuple[TicketHistory, ...]
    """Every ticket open at some time in the period (or created or moved in it)."""
    closed_elsewhere: int
    """How many other tickets existed then: closed before the period and not moved during it."""


def _parse_instant(value: dt.datetime | str) -> dt.datetime:
    """SQLite hands back text, PostgreSQL datetimes; rows are read raw because
    peewee's per-value conversion was most of the report's time."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _groups(start: dt.datetime, end: dt.datetime, columns: Sequence[str], final: str):
    """(wanted ids, closed-elsewhere counts) for [start, end) in naive UTC.

    Every ticket created before the end is in one of three groups:
    - moved (or created) in the period: wanted;
    - not moved since the start (`state_entered` before it): its column now
      is its column throughout, so it is wanted when that is not the final
      column and counted otherwise;
    - created before the start and moved only after the end: its column
      through the period is the one it had at the start, found by a
      correlated lookup of its last move before the start (an index seek on
      history (ticket, at), run only for this small group): wanted when
      open, counted when closed.
    Each group is its own index range (`state IN (...)` lets the
    (state, state_entered, created) index serve a condition on the later
    columns), so no query reads every ticket row.
    """
    open_columns = [c for c in columns if c != final]
    moved_in = (History.select(History.ticket)
                .where(History.kind.in_(MOVE_KINDS), History.at >= start, History.at < end))
    untouched_open = Ticket.select(Ticket.id).where(Ticket.state.in_(open_columns), Ticket.state_entered < start)
    before = History.alias("before")
    state_at_start = (before.select(before.to_state)
                      .where(before.ticket == Ticket.id, before.kind.in_(MOVE_KINDS), before.at < start)
                      .order_by(before.at.desc(), before.id.desc()).limit(1))
    moved_later = (Ticket.state.in_(list(columns)) & (Ticket.state_entered >= end) & (Ticket.created < start)
                   & Ticket.id.not_in(moved_in))
    # A ticket with no row before the start (an import without a "create" row) is fetched:
    # the metrics then place it in the first column from its creation.
    later_open = Ticket.select(Ticket.id).where(moved_later & (fn.COALESCE(state_at_start, "") != final))
    wanted = moved_in | untouched_open | later_open
    counts = (Ticket.select(fn.COUNT(Ticket.id)).where(Ticket.state == final, Ticket.state_entered < start),
              Ticket.select(fn.COUNT(Ticket.id)).where(moved_later & (state_at_start == final)))
    return wanted, counts


def fetch_period(start: dt.datetime, end: dt.datetime, columns: Sequence[str], final: str) -> PeriodHistory:
    """The tickets and moves that a report over [start, end) needs, plus the count of the rest.

    `columns` are the workflow's column keys, `final` the last of them. One
    query for the tickets and their moves (a left join, so a ticket without
    history rows still comes back), two counts. Moves after `end` are left
    out: nothing after the period changes its figures.
    """
    wanted, counts = _groups(start, end, columns, final)
    on = (History.ticket == Ticket.id) & History.kind.in_(MOVE_KINDS) & (History.at < end)
    query = (Ticket.select(Ticket.id, Ticket.key, Ticket.created, Ticket.kind, Ticket.work_type, Ticket.assignee,
                           History.kind, History.at, History.from_state, History.to_state)
             .join(History, JOIN.LEFT_OUTER, on=on)
             .where(Ticket.id.in_(wanted), Ticket.created < end)
             .order_by(Ticket.id, History.at, History.id))
    tickets: list[TicketHistory] = []
    current: list[tuple] = []

    def flush() -> None:
        ticket_id, key, created, kind, work_type, assignee = current[0][:6]
        created_state = None
        transitions = []
        for row in current:
            row_kind, at, from_state, to_state = row[6:]
            if row_kind == "create" and created_state is None:
                created_state = to_state
            elif row_kind == "move" and to_state:
                transitions.append(Transition(_parse_instant(at), to_state, from_state))
        tickets.append(TicketHistory(key=key, created=_parse_instant(created), moves=tuple(transitions),
                                     created_state=created_state, kind=kind, work_type=work_type,
                                     assignee=assignee))
        current.clear()

    for row in database_proxy.execute(query):
        if current and current[0][0] != row[0]:
            flush()
        current.append(row)
    if current:
        flush()
    closed = sum(count.scalar() or 0 for count in counts)
    return PeriodHistory(tickets=tuple(tickets), closed_elsewhere=closed)


def titles(keys: Sequence[str], chunk: int = 500) -> dict[str, str]:
    """Key -> title for the `--csv` rows; titles stay out of `fetch_period`, whose join repeats them per move."""
    found: dict[str, str] = {}
    keys = list(keys)
    for first in range(0, len(keys), chunk):
        query = Ticket.select(Ticket.key, Ticket.title).where(Ticket.key.in_(keys[first:first + chunk]))
        found.update(query.tuples())
    return found


class LoadFacts(msgspec.Struct, frozen=True):
    """What the fairness figures read of one period (see `app.reports.fairness`)."""

    pages: tuple[tuple[str, ...], ...]
    """Who each escalation step sent in the period paged."""
    asked: tuple[tuple[str, str | None, str], ...]
    """(kind, work_type, reporter) of each ticket created in the period."""
    assigned: tuple[tuple[str, str | None, str], ...]
    """(kind, work_type, assignee) for each ticket assigned in the period, once per ticket and person;
    an assignment later undone, and the undo itself, are left out."""


def fetch_load(start: dt.datetime, end: dt.datetime) -> LoadFacts:
    """Three queries over [start, end) (naive UTC) for `LoadFacts`."""
    in_period = (History.at >= start) & (History.at < end)
    pages = tuple(tuple(json.loads(detail).get("paged", ())) for (detail,) in
                  History.select(History.detail).where(in_period & (History.kind == "page")).tuples()
                  if detail)
    asked = tuple(Ticket.select(Ticket.kind, Ticket.work_type, Ticket.reporter)
                  .where((Ticket.created >= start) & (Ticket.created < end)).tuples())
    undone = History.select(History.undoes).where(History.undoes.is_null(False))
    rows = (History.select(History.ticket, History.detail, Ticket.kind, Ticket.work_type)
            .join(Ticket, on=(History.ticket == Ticket.id))
            .where(in_period & (History.kind == "assign") & History.undoes.is_null()
                   & History.id.not_in(undone))
            .tuples())
    seen: set[tuple[int, str]] = set()
    assigned = []
    for ticket_id, detail, kind, work_type in rows:
        to = json.loads(detail).get("to") if detail else None
        if to and (ticket_id, to) not in seen:
            seen.add((ticket_id, to))
            assigned.append((kind, work_type, to))
    return LoadFacts(pages=pages, asked=asked, assigned=tuple(assigned))


__all__ = ["LoadFacts", "MOVE_KINDS", "PeriodHistory", "TicketHistory", "Transition", "fetch_load", "fetch_period",
           "titles"]


def ids_by_key(keys: list[str], chunk: int = 500) -> dict[str, int]:
    """Ticket ids for keys, a chunk of keys per query (the report knows keys, the SLA inputs want ids)."""
    from data.models import Ticket

    found: dict[str, int] = {}
    for start in range(0, len(keys), chunk):
        query = Ticket.select(Ticket.key, Ticket.id).where(Ticket.key.in_(keys[start:start + chunk]))
        found.update(dict(query.tuples()))
    return found

