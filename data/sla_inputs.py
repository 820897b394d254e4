"""What the response targets need from the database, for many tickets at once.

The SLA rules (`app.sla.targets`) work on plain values: a ticket's creation, its
priority, its moves and the instants of its messages to the requester. This
module reads exactly those, a fixed number of queries per batch of tickets
however many tickets the batch holds: one for the tickets, one for their
moves, one for their messages. Never a query per ticket: the board asks for
the ~40 cards it shows, `ticket list --sla` and the reminder loop walk every
open ticket in chunks of `CHUNK` ids.

Like the rest of `data/`, this knows no rule: it does not know which column
is Closed (the caller passes the states to leave out) nor how a move pauses a
clock (`app.sla.targets.clock_periods` decides that). Instants are naive UTC, as
stored.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Collection, Iterator, Sequence

import msgspec

from data.models import History, Notification, Ticket
from data.statements import Prepared

CHUNK = 500
"""Tickets per batch: well under SQLite's limit on bound parameters, and few round trips."""

MESSAGE_KINDS = ("status", "reply", "response")
"""Notification kinds that count as a message to the requester (a status-change mail, a team member's reply)."""

MOVE_KINDS = ("create", "move")
"""History kinds that put a ticket in a column (an undo is recorded as a move)."""

REPLIED = "requester replied"
"""The reason of a comment that records the requester's (not automatic) reply."""

REMINDER = "reminder"
"""The History kind of a reminder sent for a response target."""


class SlaRow(msgspec.Struct, frozen=True):
    """One ticket's SLA inputs as stored (naive UTC)."""

    id: int
    key: str
    title: str
    assignee: str | None
    state: str
    created: dt.datetime
    priority: int | None
    first_response: dt.datetime | None
    moves: tuple[tuple[dt.datetime, str, str | None], ...] = ()
    """(at, to_state, hold_reason) of the ticket's creation and every move, oldest first."""
    messages: tuple[dt.datetime, ...] = ()
    """When each message to the requester was queued, oldest first."""
    replies: tuple[dt.datetime, ...] = ()
    """When each reply from the requester was recorded (they end a Pending pause), oldest first."""


def sla_rows(ticket_ids: Sequence[int]) -> dict[int, SlaRow]:
    """SLA inputs for `ticket_ids` (unknown ids are left out): three queries, whatever the count.

    For more than `CHUNK` ids use `iter_open_rows` or call this per chunk.
    """
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        return {}
    return _assemble(TICKETS.tuples(**_slots(ids)), ids)


def iter_open_rows(exclude_states: Collection[str] = (), chunk: int = CHUNK) -> Iterator[list[SlaRow]]:
    """Every ticket not in `exclude_states` (the final column), a chunk of rows at a time, by id.

    Keyset pagination on the primary key: each chunk costs the same three
    indexed queries, so 100,000 tickets are 200 chunks, never one query per
    ticket nor one result set held in memory.
    """
    after = 0
    while True:
        query = Ticket.select(*_TICKET_FIELDS).where(Ticket.id > after)
        if exclude_states:
            query = query.where(Ticket.state.not_in(list(exclude_states)))
        tickets = list(query.order_by(Ticket.id).limit(chunk).tuples())
        if not tickets:
            return
        ids = [t[0] for t in tickets]
        rows = _assemble(tickets, ids)
        yield [rows[i] for i in ids]
        after = ids[-1]


_TICKET_FIELDS = (Ticket.id, Ticket.key, Ticket.title, Ticket.assignee, Ticket.state, Ticket.created, Ticket.priority,
                  Ticket.first_response)


def _slots(ids: Sequence[int]) -> dict[str, int]:
    """The ids as the named parameters of the statements below (one placeholder each)."""
    return {f"id{n}": ticket_id for n, ticket_id in enumerate(ids)}


def _tickets(**ids):
    return Ticket.select(*_TICKET_FIELDS).where(Ticket.id.in_(list(ids.values())))


def _history(**ids):
    # The kind is checked by the caller, not in SQL: given `kind IN (...)`, SQLite picks the (kind, at) index
    # and scans every ticket's creation (1 s a chunk at 100,000 tickets) instead of (ticket, at).
    return (History.select(History.ticket, History.kind, History.at, History.to_state, History.hold_reason,
                           History.reason)
            .where(History.ticket.in_(list(ids.values()))
                   & (History.to_state.is_null(False) | History.message_id.is_null(False)))
            .order_by(History.ticket, History.at, History.id))


def _messages(kinds: int, *, empty, **values):
    # To the requester's own address: a reply kind addressed to the assignee, or a webhook copy, is not one.
    ids = [value for name, value in values.items() if name.startswith("id")]
    return (Notification.select(Notification.ticket, Notification.created)
            .join(Ticket, on=(Notification.ticket == Ticket.id))
            .where(Notification.ticket.in_(ids) & Notification.kind.in_([values[f"kind{n}"] for n in range(kinds)])
                   & (Notification.recipient == Ticket.requester_email) & (Ticket.requester_email != empty))
            .order_by(Notification.ticket, Notification.created))


# Every write's due instants (`app.sla.source.refresh_due`) and every board page's countdowns read these
# three: Peewee built their SQL in 0.43 of the 0.48 ms a ticket's inputs took; built once per backend and
# number of ids, they read in 0.06.
TICKETS = Prepared(_tickets)
HISTORY = Prepared(_history)
MESSAGES = Prepared(_messages)


def _assemble(tickets: list[tuple], ids: list[int]) -> dict[int, SlaRow]:
    slots = _slots(ids)
    moves: dict[int, list[tuple[dt.datetime, str, str | None]]] = {}
    replies: dict[int, list[dt.datetime]] = {}
    for ticket_id, kind, at, to_state, hold_reason, reason in HISTORY.tuples(**slots):
        if kind in MOVE_KINDS and to_state is not None:
            moves.setdefault(ticket_id, []).append((at, to_state, hold_reason))
        elif kind == "comment" and reason == REPLIED:
            replies.setdefault(ticket_id, []).append(at)
    messages: dict[int, list[dt.datetime]] = {}
    kinds = {f"kind{n}": kind for n, kind in enumerate(MESSAGE_KINDS)}
    for ticket_id, created in MESSAGES.tuples(len(MESSAGE_KINDS), empty="", **kinds, **slots):
        messages.setdefault(ticket_id, []).append(created)
    rows: dict[int, SlaRow] = {}
    for ticket_id, key, title, assignee, state, created, priority, first_response in tickets:
        rows[ticket_id] = SlaRow(id=ticket_id, key=key, title=title, assignee=assignee, state=state,
                                 created=created, priority=priority, first_response=first_response,
                                 moves=tuple(moves.get(ticket_id, ())), messages=tuple(messages.get(ticket_id, ())),
                                 replies=tuple(replies.get(ticket_id, ())))
    return rows


def reminder_keys(ticket_ids: Sequence[int]) -> dict[int, set[str]]:
    """The `reminder_key`s already recorded per ticket (History kind "reminder"): one query."""
    sent: dict[int, set[str]] = {}
    if not ticket_ids:
        return sent
    # As in `_assemble`, the kind is checked here so the (ticket, at) index is the one used.
    for ticket_id, kind, detail in (History.select(History.ticket, History.kind, History.detail)
                                    .where(History.ticket.in_(list(ticket_ids))).tuples()):
        key = json.loads(detail).get("reminder_key") if kind == REMINDER and detail else None
        if key:
            sent.setdefault(ticket_id, set()).add(key)
    return sent


__all__ = ["CHUNK", "MESSAGE_KINDS", "REMINDER", "SlaRow", "iter_open_rows", "reminder_keys", "sla_rows"]
