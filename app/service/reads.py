"""The screens' reads that are not the service's writes: the outbox as the board and the detail view show it.

Screens never import `data/` (tests/tui/test_layers.py); what they read beyond
the `Service` comes through here, and they call it from a thread worker, never
on the event loop (each is one query). Read-only: nothing here takes a lock
or writes a row.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Callable, Sequence

from app.board.workflow import Workflow
from app.service.errors import NotFound
from data import listing, outbox
from data.models import Ticket
from data.triage import untriaged_condition


def outbox_counts() -> dict[str, int]:
    """{pending, failed}: the header's mail badge (one grouped query over an indexed column)."""
    return outbox.outbox_counts()


def notifications_for(ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's outbox rows and their delivery state, oldest first, as plain rows (the detail view's table)."""
    return outbox.notifications_for(ticket_id)


def ticket_list(workflow: Workflow, *, state: str | None = None, assignee: str | None = None,
                untriaged: bool = False, open_only: bool = False, after: str | None = None,
                limit: int | None = None, where: Sequence = (),
                narrow: Callable[[str], list[int] | None] | None = None) -> list[Ticket]:
    """`ticket list`: tickets in board order (column, then priority of work), filtered and limited in SQL.

    `where` holds further conditions on `Ticket` (the stored SLA due instants',
    a compiled search's); `narrow` is `data.listing.board_order`'s, for a
    filter few tickets pass. `after` is a ticket key: the list starts just past it
    (keyset paging). Reads only what it returns.
    """
    states = [s for s in workflow.keys if (state is None or s == state) and not (open_only and s == workflow.final)]
    conditions = list(where)
    if assignee:
        conditions.append(Ticket.assignee == assignee)
    if untriaged:
        conditions.append(untriaged_condition(workflow.initial))
    start = None
    if after is not None:
        start = listing.position(after.strip().upper())
        if start is None:
            raise NotFound(f"no ticket {after!r}")
    chunk = 500 if limit is None else max(1, min(limit, 500))
    rows = listing.board_order(states, conditions, start, chunk, narrow)
    return list(rows if limit is None else islice(rows, max(0, limit)))


__all__ = ["notifications_for", "outbox_counts", "ticket_list"]
