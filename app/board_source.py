"""The adapter between the board's queries and the column widgets.

`data.board_queries` returns plain rows; the columns want `widgets.Card`
values with the support status already derived. This is the one place the
two meet, so the widgets never import `data/` and the queries never learn a
rule of the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ordering import priority_label
from app.workflow import Workflow, support_status
from data import board_queries
from data.board_queries import CardRow, Order
from widgets.card import Card


@dataclass
class BoardSource:
    """Pages of cards for every column, under the board's current filter and orders."""

    workflow: Workflow
    text_filter: str = ""
    orders: dict[str, Order] = field(default_factory=dict)
    """Per column: "priority" (Mattermost's priority of work, the default) or "rank" (manual)."""

    def order_of(self, state: str) -> Order:
        return self.orders.get(state, "priority")

    def card(self, row: CardRow) -> Card:
        return Card(id=row.id, key=row.key, title=row.title, priority=priority_label(row.priority),
                    assignee=row.assignee or "", state=row.state, version=row.version,
                    status=support_status(self.workflow, row.state, row.hold_reason, row.solved))

    def page(self, state: str, offset: int, limit: int) -> list[Card]:
        rows = board_queries.column_page(state, offset, limit, self.order_of(state), self.text_filter or None)
        return [self.card(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Cards per column under the filter: one grouped query; absent columns are 0."""
        found = board_queries.column_counts(self.text_filter or None)
        return {key: found.get(key, 0) for key in self.workflow.keys}

    def position_of(self, state: str, ticket_id: int) -> int | None:
        return board_queries.position_of(state, ticket_id, self.order_of(state), self.text_filter or None)
