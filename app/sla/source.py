"""Response-target statuses for many tickets: the batched queries meet the pure rules here.

`data.sla_inputs` reads the stored values a page (or a chunk) at a time;
`app.sla.targets` turns them into `SlaStatus`es. This is the one place the two
meet, like `app.board.source` for the cards, so the board, `ticket show`,
`ticket list --sla` and the reminder loop all compute a ticket's targets the
same way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator, Sequence

from app.config.settings import Config
from app.sla.targets import Move, SlaStatus, TicketTimes, clock_periods, evaluate, from_db
from app.board.workflow import Workflow
from data.sla_inputs import CHUNK, SlaRow, iter_open_rows, sla_rows


def ticket_times(workflow: Workflow, row: SlaRow) -> TicketTimes:
    """A stored row as the plain, aware values `app.sla.targets.evaluate` takes."""
    moves = [Move(at=from_db(at), to_state=state, hold_reason=hold) for at, state, hold in row.moves]
    return TicketTimes(created=from_db(row.created), priority=row.priority,
                       periods=clock_periods(workflow, moves, [from_db(r) for r in row.replies]), first_response=from_db(row.first_response),
                       messages=tuple(from_db(m) for m in row.messages))


def aware(now: datetime) -> datetime:
    """The service's clock gives naive UTC; the rules want an aware instant."""
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def statuses(config: Config, ticket_ids: Sequence[int], now: datetime) -> dict[int, SlaStatus]:
    """Each ticket's targets at `now`: three queries for the lot (the board's visible cards).

    Unknown ids are left out. Past `CHUNK` ids, the work is split into chunks.
    """
    result: dict[int, SlaStatus] = {}
    now = aware(now)
    ids = list(ticket_ids)
    for start in range(0, len(ids), CHUNK):
        for ticket_id, row in sla_rows(ids[start:start + CHUNK]).items():
            result[ticket_id] = evaluate(config.sla, ticket_times(config.workflow, row), now)
    return result


def open_statuses(config: Config, now: datetime, chunk: int = CHUNK) -> Iterator[tuple[SlaRow, SlaStatus]]:
    """Every ticket outside the final column with its targets at `now`, in id order, a chunk at a time."""
    now = aware(now)
    for rows in iter_open_rows(exclude_states=(config.workflow.final,), chunk=chunk):
        for row in rows:
            yield row, evaluate(config.sla, ticket_times(config.workflow, row), now)


__all__ = ["aware", "open_statuses", "statuses", "ticket_times"]
