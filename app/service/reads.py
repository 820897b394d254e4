"""The screens' reads that are not the service's writes: the outbox as the board and the detail view show it.

Screens never import `data/` (tests/tui/test_layers.py); what they read beyond
the `Service` comes through here, and they call it from a thread worker, never
on the event loop (each is one query). Read-only: nothing here takes a lock
or writes a row.
"""

from __future__ import annotations

from typing import Any

from data import outbox


def outbox_counts() -> dict[str, int]:
    """{pending, failed}: the header's mail badge (one grouped query over an indexed column)."""
    return outbox.outbox_counts()


def notifications_for(ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's outbox rows and their delivery state, oldest first, as plain rows (the detail view's table)."""
    return outbox.notifications_for(ticket_id)


__all__ = ["notifications_for", "outbox_counts"]
