"""Create a board of 100,000 tickets (default) for the benchmarks, in one transaction.

    python bench/seed.py --db sqlite:////tmp/bench.db [--count 100000] [--config config.yaml]
    python bench/seed.py --cached 1000000      # prints the path of a cached seeded SQLite file

Rows go in through the import's bulk path (`Service.bulk_insert`: one
prepared INSERT per table run by the driver, a "create" history row per
ticket, one transaction per million tickets), so the benchmarks time the same code a user's
import runs. Every ticket is triaged, so the gate into Ready never refuses a
benchmark move. The database must be new.

`--cached N` (and `cached(N)` for the other scripts) keeps the seeded SQLite
file under bench/.cache/, keyed by the count and the schema version (the
migrations present), so `run_all.py` seeds 1,000,000 tickets once, not per
script. Scripts that write copy it first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config.settings import load_config  # noqa: E402
from app.board.ordering import BUG_CLASSES, sort_key  # noqa: E402
from app.service import Service  # noqa: E402
from data.db import MIGRATIONS, open_database  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
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


BATCH = 1_000_000
"""Tickets per transaction. One transaction for a million: about 2.5 GB of rows' dicts at once, but in
batches of 200,000 the second one had not ended after 9 minutes (the first took 2): once the file holds
pages from before the transaction, each row's INSERT (its counts trigger keeps a statement journal)
spent its time in SQLite's statement savepoint (`sqlite3PagerSavepoint`), growing with the file."""


def insert(config, db, count: int) -> int:
    """`count` tickets through the import's bulk path, then ANALYZE for the planner."""
    service = Service(config)
    inserted = 0
    batch: list[dict] = []
    for row in rows(config, count):
        batch.append(row)
        if len(batch) == BATCH:
            inserted += service.bulk_insert(batch)
            batch = []
    inserted += service.bulk_insert(batch)
    db.execute_sql("ANALYZE")
    return inserted


def schema_version() -> str:
    """The migrations a database made now carries (their names and text) and the rules version of its stored
    SLA instants: a file from another schema, or whose instants an older triageboard computed, is not reused."""
    from app.sla.due import RULES_VERSION

    digest = hashlib.sha1(f"sla rules {RULES_VERSION}".encode())
    for path in sorted(MIGRATIONS.glob("[0-9]*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def cached(count: int, config_path: str | Path = ROOT / "config.yaml") -> Path:
    """A seeded SQLite file of `count` tickets under bench/.cache (seeded now if absent). Copy it before writing."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"seed-{count}-{schema_version()}.db"
    if not path.exists():
        partial = path.with_suffix(".partial.db")
        seed(f"sqlite:///{partial}", count, str(config_path))
        partial.rename(path)
    return path


def seed(url: str, count: int, config_path: str) -> float:
    config = load_config(config_path)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    db = open_database(url)
    begun = time.perf_counter()
    inserted = insert(config, db, count)
    took = time.perf_counter() - begun
    if url.startswith("sqlite:///"):
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"seeded {inserted:,} tickets in {took:.1f} s into {url}", file=sys.stderr)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--cached", type=int, metavar="COUNT", help="print the path of a cached seeded file")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    args = parser.parse_args()
    if args.cached:
        print(cached(args.cached, args.config))
        return
    if not args.db:
        parser.error("give --db URL or --cached COUNT")
    seed(args.db, args.count, args.config)


if __name__ == "__main__":
    main()
