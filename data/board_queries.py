"""The queries the board paints from: grouped counts and one page of a column at a time.

A column may hold 100,000 cards, so nothing here loads a whole column. A
page is `LIMIT/OFFSET` over the `(state, sort_key, rank)` index (priority of
work) or the `(state, rank)` index (manual order); the id is the last
tie-breaker so the order is total and a page boundary never repeats or drops
a card. Rows come back as plain frozen structs (msgspec): the UI never sees a
Peewee model, and nothing here knows about Textual.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

import msgspec
from peewee import SQL, BooleanField, DateTimeField, fn

from data import counts
from data.models import Ticket
from data.statements import Prepared

Order = Literal["priority", "rank"]

ORDERS: tuple[str, ...] = ("priority", "rank")


class CardRow(msgspec.Struct, frozen=True):
    """What a board card needs, and no more (no description, no triage answers)."""

    id: int
    key: str
    title: str
    priority: int | None
    assignee: str | None
    state: str
    hold_reason: str | None
    solved: bool
    kind: str
    version: int
    sort_key: int
    rank: float
    state_entered: dt.datetime | None = None
    """When the card entered its column: the board marks it stale after `report.stale_after`."""
    needs_ack: bool = False
    ack_at: dt.datetime | None = None
    """A page (`needs_ack`) waits for acknowledgement while `ack_at` is None: the board marks the card."""
    answered: bool = False
    """The requester replied and no team member has looked since."""


_CARD_FIELDS = (Ticket.id, Ticket.key, Ticket.title, Ticket.priority, Ticket.assignee, Ticket.state,
                Ticket.hold_reason, Ticket.solved, Ticket.kind, Ticket.version, Ticket.sort_key, Ticket.rank,
                Ticket.state_entered, Ticket.needs_ack, Ticket.ack_at, Ticket.answered)


def _matches(text_filter: str | None, entered_before: dt.datetime | None = None, where=None):
    """The filter: a case-insensitive substring of the key, title or assignee (LIKE wildcards escaped),
    and, for the stale filter, cards that entered their column before `entered_before`; `where` is
    any further condition (the untriaged filter's)."""
    text = (text_filter or "").strip()
    condition = where
    if text:
        matched = Ticket.key.contains(text) | Ticket.title.contains(text) | Ticket.assignee.contains(text)
        condition = matched if condition is None else (condition & matched)
    if entered_before is not None:
        old = Ticket.state_entered < entered_before
        condition = old if condition is None else (condition & old)
    return condition


def _ordering(order: Order) -> tuple:
    if order == "priority":
        return (Ticket.sort_key, Ticket.rank, Ticket.id)
    if order == "rank":
        return (Ticket.rank, Ticket.id)
    raise ValueError(f"unknown order {order!r} (orders: {', '.join(ORDERS)})")


def column_counts(text_filter: str | None = None, entered_before: dt.datetime | None = None,
                  where=None) -> dict[str, int]:
    """Cards per state, in ONE grouped query (a state with no cards is absent).

    Unfiltered, from the counts table (`data.counts`): a few rows whatever the
    size of the board; a filter counts its matches with the index.
    """
    condition = _matches(text_filter, entered_before, where)
    if condition is None:
        return counts.column_counts()
    query = Ticket.select(Ticket.state, fn.COUNT(SQL("*"))).group_by(Ticket.state)  # *: SQLite counts index entries
    query = query.where(condition)
    return {state: count for state, count in query.tuples()}


def start_counting() -> Future[dict[str, int]]:
    """`column_counts()`, unfiltered, in a thread and on a connection of its own, starting now.

    A read of the counts table (it was 15 ms of counting at 100,000 tickets,
    150 at a million): a board starts it as soon as its database is open, and
    it runs on the other core while Textual is imported.
    """
    def count() -> dict[str, int]:
        with Ticket._meta.database.connection_context():
            return column_counts()

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="board-counts")
    future = executor.submit(count)
    executor.shutdown(wait=False)
    return future


def column_count(state: str, text_filter: str | None = None, entered_before: dt.datetime | None = None,
                 where=None) -> int:
    """Cards in one state (filtered when a filter is given)."""
    query = Ticket.select().where(Ticket.state == state)
    condition = _matches(text_filter, entered_before, where)
    if condition is not None:
        query = query.where(condition)
    return query.count()


def column_page(state: str, offset: int, limit: int, order: Order = "priority",
                text_filter: str | None = None, entered_before: dt.datetime | None = None,
                where=None) -> list[CardRow]:
    """Cards `offset` .. `offset + limit - 1` of a column, in board order."""
    condition = _matches(text_filter, entered_before, where)
    if condition is None:  # the board's usual page: the same statement every time, new parameters
        cursor = PAGE.execute(order, state=state, limit=limit, offset=max(0, offset))
        return [_card_row(row) for row in cursor]
    query = (Ticket.select(*_CARD_FIELDS).where(Ticket.state == state).where(condition)
             .order_by(*_ordering(order)).limit(limit).offset(max(0, offset)))
    return [CardRow(*row) for row in query.tuples()]


_CONVERTED = tuple((index, field.python_value) for index, field in enumerate(_CARD_FIELDS)
                   if isinstance(field, (DateTimeField, BooleanField)))
"""The columns whose database value Peewee converts (SQLite returns dates as text and flags as 0/1);
numbers and text come back as they are, and converting all fifteen was 60% of reading a page."""


def _card_row(row: tuple) -> CardRow:
    values = list(row)
    for index, convert in _CONVERTED:
        values[index] = convert(values[index])
    return CardRow(*values)


def position_of(state: str, ticket_id: int, order: Order = "priority",
                text_filter: str | None = None, entered_before: dt.datetime | None = None,
                where=None) -> int | None:
    """The index of a card in its column's board order, or None if it is not there (moved, filtered out).

    Counts the cards ordered before it with the index, instead of scanning
    pages: the cursor can follow a card anywhere in a column of any size.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r} (orders: {', '.join(ORDERS)})")
    condition = _matches(text_filter, entered_before, where)
    if condition is None:  # the board's usual question: statements built once, new parameters
        found = KEY_OF.execute(state=state, id=ticket_id).fetchone()
        if found is None:
            return None
        sort_key, rank = found
        return sum(COUNT_BEFORE.execute(order, part, state=state, id=ticket_id, sort_key=sort_key,
                                        rank=rank).fetchone()[0] for part in range(_RANGES[order]))
    row = (Ticket.select(Ticket.sort_key, Ticket.rank)
           .where((Ticket.id == ticket_id) & (Ticket.state == state)).where(condition))
    found = row.tuples().first()
    if found is None:
        return None
    sort_key, rank = found
    total = 0
    for before in _before(order, sort_key, rank, ticket_id):
        total += Ticket.select().where((Ticket.state == state) & before).where(condition).count()
    return total


def _before(order: Order, sort_key, rank, ticket_id) -> list:
    """The conditions, one per index range, that together select the cards ordered before a card.

    Two index range counts rather than one OR: SQLite walks the (state,
    sort_key, rank) index for "sort_key < k", then only the card's own
    sort_key group for the rest.
    """
    by_rank = (Ticket.rank < rank) | ((Ticket.rank == rank) & (Ticket.id < ticket_id))
    if order == "priority":
        return [Ticket.sort_key < sort_key, (Ticket.sort_key == sort_key) & by_rank]
    if order == "rank":
        return [by_rank]
    raise ValueError(f"unknown order {order!r} (orders: {', '.join(ORDERS)})")


_RANGES: dict[str, int] = {"priority": 2, "rank": 1}
"""How many index ranges `_before` splits each order into."""


def _page(order: Order, *, state, limit, offset):
    return (Ticket.select(*_CARD_FIELDS).where(Ticket.state == state).order_by(*_ordering(order))
            .limit(limit).offset(offset))


def _key_of(*, state, id):
    return Ticket.select(Ticket.sort_key, Ticket.rank).where((Ticket.id == id) & (Ticket.state == state))


def _count_before(order: Order, part: int, *, state, id, sort_key, rank):
    before = _before(order, sort_key, rank, id)[part]
    return Ticket.select(fn.COUNT(SQL("*"))).where((Ticket.state == state) & before)


# The board's unfiltered queries, built once per backend: building the SQL was half the cost of reading
# a 32-card page on SQLite (0.5 of 1.1 ms), paid by every move for two pages and a position.
PAGE = Prepared(_page)
KEY_OF = Prepared(_key_of)
COUNT_BEFORE = Prepared(_count_before)


def rows_by_id(ticket_ids: list[int]) -> dict[int, CardRow]:
    """The card rows of these tickets, by id (unknown ids left out): one query, for a page of ids."""
    if not ticket_ids:
        return {}
    query = Ticket.select(*_CARD_FIELDS).where(Ticket.id.in_(list(ticket_ids)))
    return {row[0]: CardRow(*row) for row in query.tuples()}


def states_of(ticket_ids: list[int]) -> dict[int, tuple[str, int]]:
    """Where these tickets are now, and their versions: one query (a live board's "what moved")."""
    if not ticket_ids:
        return {}
    query = Ticket.select(Ticket.id, Ticket.state, Ticket.version).where(Ticket.id.in_(list(ticket_ids)))
    return {tid: (state, version) for tid, state, version in query.tuples()}


__all__ = ["CardRow", "ORDERS", "Order", "column_count", "column_counts", "column_page", "position_of",
           "rows_by_id", "start_counting", "states_of"]
