"""What a column paints, and where it gets it from.

The column widget never imports `data/` or Peewee: the screen injects a
`CardSource` (attributes down) that turns database rows into these plain
`Card` values, including the derived support status, which is a rule of the
`app/` layer and not the widget's business.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import msgspec


class Card(msgspec.Struct, frozen=True):
    """One ticket as the board shows it. Every field is plain text: never markup."""

    id: int
    key: str
    title: str
    priority: str
    """A label: "P1" … "P4", or "--" while untriaged."""
    assignee: str
    status: str
    """The support status the requester sees (derived from state and hold reason)."""
    state: str
    version: int
    stale: bool = False
    """Sat in its column longer than `report.stale_after` (seed 003: push stuck work to completion)."""
    needs_ack: bool = False
    """A page waits for acknowledgement (an unacknowledged P1): the card is marked until `A`."""
    paged: tuple[str, ...] = ()
    """Who the latest escalation step paged (handles), while unacknowledged."""
    paged_rotation: str = ""
    """The rotation of that step, e.g. "SET primary"."""
    answered: bool = False
    """The requester replied and nobody on the team has looked yet: the card is marked "✉"."""
    sla_label: str = ""
    """Time left to the next response target ("3h left", "overdue 2h", "paused"); empty: none shown."""
    default_status: str = ""
    """The status the column's cards show by default (On Hold, Released): a card shows its own only if it
    differs (Pending, Solved)."""
    sla_style: str = ""
    """ok | warning | breached | paused: the `column--sla-*` class the label is painted with."""


class CardSource(Protocol):
    """Pages of one column's cards, in board order; the screen's adapter over the queries."""

    def page(self, state: str, offset: int, limit: int) -> Sequence[Card]:
        """Cards `offset` .. `offset + limit - 1` of the column `state` (fewer at the end)."""
        ...


__all__ = ["Card", "CardSource"]
