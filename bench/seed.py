"""Create a board of 100,000 tickets (default) for the benchmarks, in one transaction.

    python bench/seed.py --db sqlite:////tmp/bench.db [--count 100000] [--config config.yaml]

Rows go in with the DB-API's `executemany` over one prepared INSERT, with a
"create" history row per ticket, in one transaction: peewee's `insert_many`
spends its time building SQL text (about 3 s per 1,000 rows on a loaded
2-core box), the driver none. Every ticket is triaged, so the gate into
Ready never refuses a benchmark move. The database must be new (ids are
assigned here).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import load_config  # noqa: E402
from app.board.ordering import BUG_CLASSES, sort_key  # noqa: E402
from app.board.workflow import support_status  # noqa: E402
from data.db import open_database  # noqa: E402
from data.models import Ticket  # noqa: E402

SHARES = {"todo": 0.25, "ready": 0.15, "in_progress": 0.0, "on_hold": 0.10, "resolved": 0.15, "closed": 0.35}
"""In Progress keeps within its WIP limit (4 cards); the rest is spread like a real backlog."""
WORDS = ("login", "checkout", "payment", "certificate", "course", "grade", "email", "mobile", "sync", "report",
         "timeout", "blank", "page", "error", "slow", "export", "import", "video", "quiz", "enrolment")


def rows(config, count: int, seed: int = 42):
    rng = random.Random(seed)
    workflow = config.workflow
    states = [key for key in workflow.keys if SHARES.get(key, 0) > 0]
    weights = [SHARES[key] for key in states]
    handles = list(config.handles) + [None, None]
    start = dt.datetime(2026, 1, 1)
    ranks: dict[str, float] = {}
    for n in range(1, count + 1):
        state = "in_progress" if n <= 4 else rng.choices(states, weights)[0]
        kind = rng.choices(("incident", "escalation", "bug", "question", "feature"), (1, 2, 12, 4, 2))[0]
        bug_class = rng.choice(BUG_CLASSES) if kind == "bug" else None
        priority = rng.choice((1, 2, 3, 4, 4, 3, None)) if state == "todo" else rng.choice((1, 2, 3, 4))
        hold = rng.choice(("requester", "external")) if workflow.column(state).is_hold else None
        created = start + dt.timedelta(minutes=7 * n)
        ranks[state] = ranks.get(state, 0.0) + 1.0
        yield dict(key=f"{config.board.key}-{n}", number=n,
                   title=" ".join(rng.sample(WORDS, 4)).capitalize() + f" #{n}",
                   kind=kind, bug_class=bug_class, priority=priority, assignee=rng.choice(handles),
                   service=rng.choice(config.services) if config.services else None,
                   state=state, hold_reason=hold, rank=ranks[state], sort_key=sort_key(kind, bug_class, priority),
                   state_entered=created, created=created, updated=created, actionable="yes", acknowledged=True,
                   reporter="bench")


def insert(config, db, count: int) -> int:
    defaults = {f.column_name: (f.default() if callable(f.default) else f.default)
                for f in Ticket._meta.sorted_fields if f.default is not None}
    tickets = [{**defaults, **row} for row in rows(config, count)]
    columns = list(tickets[0])
    param = db.param
    ticket_sql = (f"INSERT INTO ticket (id, {', '.join(columns)}) "
                  f"VALUES ({', '.join([param] * (len(columns) + 1))})")
    history_sql = (f"INSERT INTO history (ticket_id, at, by, kind, to_state, status_after, reason, detail) "
                   f"VALUES ({', '.join([param] * 8)})")
    with db.atomic():
        cursor = db.cursor()
        cursor.executemany(ticket_sql, [(n, *row.values()) for n, row in enumerate(tickets, 1)])
        cursor.executemany(history_sql, [
            (n, row["created"], "bench", "create", row["state"],
             support_status(config.workflow, row["state"], row["hold_reason"]), "", "")
            for n, row in enumerate(tickets, 1)])
    return len(tickets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "config.yaml"))
    args = parser.parse_args()
    config = load_config(args.config)
    if args.db.startswith("sqlite:///"):
        path = Path(args.db.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    db = open_database(args.db)
    begun = time.perf_counter()
    inserted = insert(config, db, args.count)
    print(f"seeded {inserted:,} tickets in {time.perf_counter() - begun:.1f} s into {args.db}")


if __name__ == "__main__":
    main()
