"""Response-target statuses for many tickets: the batched queries meet the pure rules here.

`data.sla_inputs` reads the stored values a page (or a chunk) at a time;
`app.sla.targets` turns them into `SlaStatus`es. This is the one place the two
meet, like `app.board.source` for the cards, so the board, `ticket show`,
`ticket list --sla` and the reminder loop all compute a ticket's targets the
same way.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Callable, Iterator, Sequence

import msgspec

from app.config.settings import Config
from app.sla.due import config_digest, due_columns, fresh_due_columns
from app.sla.targets import Move, SlaStatus, TicketTimes, clock_periods, evaluate, from_db
from app.board.workflow import Workflow
from data import sla_due
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


# -- the stored due instants (app.sla.due, data.sla_due) ---------------------

AUTO_REBUILD = 2000
"""Tickets computed under another `sla:` policy or older rules (`app.sla.due.RULES_VERSION`) that
`due_freshness` recomputes on the spot (about a second); past that, it says to run `triageboard sla
rebuild` instead of making a command wait minutes."""

STALE = ("SLA due times were computed for a different sla: config or by an older triageboard"
         " — run triageboard sla rebuild")


def digest_of(config: Config) -> str:
    return config_digest(config.sla, config.workflow)


def due_rows(config: Config, ticket_ids: Sequence[int], now: datetime) -> list[sla_due.Due]:
    """What the stored columns of these tickets should hold now: three queries a chunk, then the pure rules."""
    digest = digest_of(config)
    result: list[sla_due.Due] = []
    ids = list(dict.fromkeys(ticket_ids))
    for start in range(0, len(ids), CHUNK):
        rows = list(sla_rows(ids[start:start + CHUNK]).values())
        result.extend((row.id, *due, digest) for row, due in zip(rows, rows_due(config, rows, now)))
    return result


BATCH_FROM = 32
"""Fresh rows from which `rows_due` lays out a `WorkingTimeIndex`: for one write's ticket it costs more than it saves."""


def rows_due(config: Config, rows: Sequence[SlaRow], now: datetime | None = None
             ) -> list[tuple[datetime | None, datetime | None]]:
    """`row_due` of each row: those holding nothing but their creation (what an import leaves) in one batch.

    Such a row's inputs are exactly `fresh_due_columns`'s, so a rebuild after an import
    skips the day-by-day calendar walk for most of its tickets.
    """
    fresh = [row for row in rows if _is_fresh(row)]
    if len(fresh) < BATCH_FROM:
        return [row_due(config, row, now) for row in rows]
    computed = dict(zip((row.id for row in fresh), fresh_due_columns(
        config.sla, config.workflow, [(row.created, row.state, row.priority, row.first_response) for row in fresh],
        now)))
    return [computed[row.id] if row.id in computed else row_due(config, row, now) for row in rows]


def _is_fresh(row: SlaRow) -> bool:
    return not row.messages and not row.replies and row.moves == ((row.created, row.state, None),)


def row_due(config: Config, row: SlaRow, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """(sla_warn_at, sla_due_at) of one row of inputs: what every write stores, and what `check` holds them to."""
    if row.state == config.workflow.final:
        return None, None
    return due_columns(ticket_times(config.workflow, row), config.sla, now)


def refresh_due(config: Config, ticket_ids: Sequence[int], now: datetime) -> None:
    """Recompute and store the due instants of the tickets a write touched, inside its transaction."""
    sla_due.store(due_rows(config, ticket_ids, now))


class Mismatch(msgspec.Struct, frozen=True):
    id: int
    key: str
    stored: tuple
    computed: tuple


def rebuild(config: Config, now: datetime, chunk: int = CHUNK,
            progress: Callable[[int], None] | None = None) -> int:
    """Recompute every ticket's stored instants: one transaction per batch, so writers wait a batch at most.

    Closed tickets are emptied in one statement first. Returns the open tickets recomputed.
    """
    final, digest = config.workflow.final, digest_of(config)
    with sla_due.batch(()):
        sla_due.clear_final(final, digest)
    done, after = 0, 0
    while True:
        ids = sla_due.open_ids(final, after, chunk)
        if not ids:
            return done
        with sla_due.batch(ids):
            sla_due.store(due_rows(config, ids, now))
        done += len(ids)
        after = ids[-1]
        if progress is not None:
            progress(done)


def check(config: Config, now: datetime, chunk: int = CHUNK) -> Iterator[Mismatch]:
    """Every ticket whose stored instants differ from what the pure rules compute now (or from the policy)."""
    final, digest = config.workflow.final, digest_of(config)
    for ticket_id, key in sla_due.final_mismatches(final, digest, limit=10 ** 9):
        yield Mismatch(ticket_id, key, (), (None, None, digest))
    for rows in iter_open_rows(exclude_states=(final,), chunk=chunk):
        held = sla_due.stored([row.id for row in rows])
        for row in rows:  # one by one, never the batch path: this is what checks it
            computed = (*row_due(config, row, now), digest)
            if held.get(row.id) != computed:
                yield Mismatch(row.id, row.key, held.get(row.id, ()), computed)


def due_freshness(config: Config, now: datetime, auto: int = AUTO_REBUILD) -> str | None:
    """None when the stored instants are of this config; `STALE` (one line) when too many are not.

    A few stale tickets (a small board, or a config change on a quiet one) are
    recomputed here and now, so most teams never see the message; a read-only
    database cannot be, and gets the message.
    """
    stale = sla_due.stale_count(digest_of(config), auto + 1)
    if stale == 0:
        return None
    if stale <= auto:
        try:
            rebuild(config, now)
            return None
        except Exception:  # noqa: BLE001 - a read-only or busy database: say so instead
            return STALE
    return STALE


def progress_line() -> Callable[[int], None]:
    """A progress callback writing "recomputed N tickets" over one line of stderr."""
    def show(done: int) -> None:
        print(f"\rrecomputed {done:,} tickets", end="", file=sys.stderr, flush=True)
    return show


__all__ = ["AUTO_REBUILD", "Mismatch", "STALE", "aware", "check", "digest_of", "due_freshness", "due_rows",
           "open_statuses", "progress_line", "rebuild", "refresh_due", "row_due", "rows_due", "statuses", "ticket_times"]
