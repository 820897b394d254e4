"""The queries triage needs: the untriaged filter and count, open work, who was asked last.

Each is one indexed query, so the board header can show the untriaged count
and `a` can suggest an assignee without loading tickets into Python.
"""

from __future__ import annotations

import json

from peewee import SQL, fn

from data import counts
from data.models import History, Ticket

ORDERINGS = {
    "work": (Ticket.sort_key, Ticket.rank, Ticket.id),
    "manual": (Ticket.rank, Ticket.id),
}
"""A column's order: Mattermost's priority of work then manual rank, or manual rank alone."""


def column_order(mode: str = "work") -> tuple:
    """The ORDER BY for a column in `mode` ("work" or "manual")."""
    return ORDERINGS[mode]


def triage_incomplete():
    """Tickets with triage to do, in any column.

    Mirrors `app.triage.rules.missing` (a test keeps them in step): not judged
    actionable, no priority, or the requester not acknowledged. Written as the
    counts' SQL expression (`data.counts.INCOMPLETE`) so the planners use the
    migration's index on it: `--untriaged` at a million tickets read the whole
    To Do column to find twenty.
    """
    return SQL(f"({counts.INCOMPLETE})") == 1


def untriaged_condition(initial_state: str):
    """Tickets in the first column with triage to do."""
    return (Ticket.state == initial_state) & triage_incomplete()


def untriaged_count(initial_state: str) -> int:
    """How many tickets still need triage (for the board header): a row of the counts table (`data.counts`)."""
    return counts.untriaged_count(initial_state)


def open_work_counts(final_state: str) -> dict[str, int]:
    """Assigned tickets not yet in the final column, per handle."""
    query = (Ticket.select(Ticket.assignee, fn.COUNT(Ticket.id))
             .where(Ticket.assignee.is_null(False) & (Ticket.state != final_state))
             .group_by(Ticket.assignee).tuples())
    return {handle: count for handle, count in query}


def last_asked() -> str | None:
    """The handle most recently asked: the latest suggestion or assignment, on any ticket."""
    entry = (History.select(History.kind, History.detail)
             .where(History.kind.in_(("suggest", "assign")))
             .order_by(History.at.desc(), History.id.desc()).first())
    if entry is None or not entry.detail:
        return None
    detail = json.loads(entry.detail)
    return detail.get("asked") if entry.kind == "suggest" else detail.get("to")


__all__ = ["ORDERINGS", "column_order", "last_asked", "open_work_counts", "triage_incomplete", "untriaged_condition",
           "untriaged_count"]
