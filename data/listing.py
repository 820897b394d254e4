"""Tickets in the board's order for `ticket list`: filtered, ordered and limited by the database.

The board's order is its columns left to right, then the priority of work
(`sort_key`, `rank`, `id`: the `(state, sort_key, rank)` index the board
pages with, `data.board_queries`). Rather than one ORDER BY over a CASE of
the states (which sorts every match before the first row comes back), each
column is read in turn with that index, a chunk at a time, and reading stops
as soon as the caller has what it asked for: `--limit 20` reads twenty rows
at a million tickets. Keyset paging (`after`) starts just past a ticket's
place in that order, so a script walking everything never re-reads a page.

Callers add conditions as Peewee expressions on `Ticket` (`where`): the
command line's filters, and later ones (a derived SLA column, a compiled
search) plug in the same way.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

from peewee import SQL, Tuple

from data.models import Ticket

Position = tuple[str, int, float, int]
"""Where a ticket stands in board order: (state, sort_key, rank, id)."""


def position(key: str) -> Position | None:
    """The board-order position of the ticket `key`, or None if there is none."""
    found = (Ticket.select(Ticket.state, Ticket.sort_key, Ticket.rank, Ticket.id)
             .where(Ticket.key == key).tuples().first())
    return None if found is None else (found[0], found[1], found[2], found[3])


def board_order(states: Sequence[str], where: Sequence = (), after: Position | None = None,
                chunk: int = 500, narrow: Callable[[str], list[int] | None] | None = None) -> Iterator[Ticket]:
    """Tickets in `states` (in that order), each column by priority of work, matching every `where`.

    Lazy: each query reads at most `chunk` rows, the next one starts where the
    last stopped (a keyset on the index, never an OFFSET). `narrow(state)`,
    for a filter few tickets may pass, gives the ids in that column that can
    match when they are few (None: many): then only they are read and sorted,
    instead of walking a column that holds none of them to its end.
    """
    columns = list(states)
    start: tuple[int, float, int] | None = None
    if after is not None:
        state, sort_key, rank, ticket_id = after
        if state not in columns:
            return
        columns = columns[columns.index(state):]
        start = (sort_key, rank, ticket_id)
    for state in columns:
        ids = narrow(state) if narrow is not None else None
        if ids is not None and not ids:
            start = None
            continue
        while True:
            query = Ticket.select().where(Ticket.state == state)
            if ids is not None:  # integers read from the index, written into the SQL (no 1,000 parameters)
                query = query.where(Ticket.id.in_(SQL("(" + ",".join(map(str, ids)) + ")")))
            for condition in where:
                query = query.where(condition)
            if start is not None:
                query = query.where(Tuple(Ticket.sort_key, Ticket.rank, Ticket.id) > Tuple(*start))
            rows = list(query.order_by(Ticket.sort_key, Ticket.rank, Ticket.id).limit(chunk))
            yield from rows
            if len(rows) < chunk:
                break
            last = rows[-1]
            start = (last.sort_key, last.rank, last.id)
        start = None


__all__ = ["Position", "board_order", "position"]
