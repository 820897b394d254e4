"""The adapter between the board's queries and the column widgets.

`data.board_queries` returns plain rows; the columns want `widgets.Card`
values with the support status already derived. This is the one place the
two meet, so the widgets never import `data/` and the queries never learn a
rule of the workflow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Sequence

from app.metrics import is_stale, stale_cutoff
from app.ordering import priority_label
from app.workflow import Workflow, support_status
from data import board_queries
from data.triage import triage_incomplete, untriaged_count
from data.board_queries import CardRow, Order
from data.models import utcnow
from widgets.card import Card


@dataclass
class BoardSource:
    """Pages of cards for every column, under the board's current filter and orders."""

    workflow: Workflow
    text_filter: str = ""
    orders: dict[str, Order] = field(default_factory=dict)
    """Per column: "priority" (Mattermost's priority of work, the default) or "rank" (manual)."""
    stale_rule: Callable[[dt.datetime], dt.datetime] | None = None
    """`report.stale_after` as "entered at" -> "stale from" (app.reports.stale_rule); None: no marks."""
    clock: Callable[[], dt.datetime] = utcnow
    stale_only: bool = False
    """The stale filter: only cards past the threshold (never the final column's)."""
    paging: Callable[[Sequence[CardRow]], dict[str, tuple[str, tuple[str, ...]]]] | None = None
    """Who is paged now for a page of rows, in one query (`Service.paging_now_for`); None: no page marks."""
    untriaged_only: bool = False
    """The untriaged filter: only first-column cards with triage to do (every other column is empty)."""

    def _entered_before(self) -> dt.datetime | None:
        if not self.stale_only or self.stale_rule is None:
            return None
        return stale_cutoff(self.clock(), self.stale_rule)

    def _hidden(self, state: str) -> bool:
        """Under the stale filter the final column is empty: finished work is never stuck."""
        return ((self.stale_only and state == self.workflow.final)
                or (self.untriaged_only and state != self.workflow.initial))

    def _where(self):
        return triage_incomplete() if self.untriaged_only else None

    def order_of(self, state: str) -> Order:
        return self.orders.get(state, "priority")

    def card(self, row: CardRow, now: dt.datetime | None = None,
             paging: tuple[str, tuple[str, ...]] = ("", ())) -> Card:
        stale = (self.stale_rule is not None and row.state_entered is not None and row.state != self.workflow.final
                 and is_stale(row.state_entered, now or self.clock(), self.stale_rule))
        return Card(id=row.id, key=row.key, title=row.title, priority=priority_label(row.priority),
                    assignee=row.assignee or "", state=row.state, version=row.version,
                    status=support_status(self.workflow, row.state, row.hold_reason, row.solved), stale=stale,
                    needs_ack=bool(row.needs_ack) and row.ack_at is None, paged=paging[1], paged_rotation=paging[0])

    def page(self, state: str, offset: int, limit: int) -> list[Card]:
        if self._hidden(state):
            return []
        rows = board_queries.column_page(state, offset, limit, self.order_of(state), self.text_filter or None,
                                         self._entered_before(), self._where())
        now = self.clock()
        paging = self.paging(rows) if self.paging is not None else {}  # no query unless a card waits for an ack
        return [self.card(row, now, paging.get(row.key, ("", ()))) for row in rows]

    def counts(self) -> dict[str, int]:
        """Cards per column under the filter: one grouped query; absent columns are 0."""
        found = board_queries.column_counts(self.text_filter or None, self._entered_before(), self._where())
        return {key: 0 if self._hidden(key) else found.get(key, 0) for key in self.workflow.keys}

    def position_of(self, state: str, ticket_id: int) -> int | None:
        if self._hidden(state):
            return None
        return board_queries.position_of(state, ticket_id, self.order_of(state), self.text_filter or None,
                                         self._entered_before(), self._where())

    def untriaged_count(self) -> int:
        """First-column tickets with triage to do, whatever the board's filters (the header's figure)."""
        return untriaged_count(self.workflow.initial)
