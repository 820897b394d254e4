"""How long the cycle report takes on a board of 100,000 tickets.

Builds a temporary SQLite database of N tickets created evenly over two years
(create row plus 2-7 moves each: the happy path, QA loops, holds, solved-by-
support and reopens; the newest few hundred still open), then times the report
for the current cycle and for one a year back. Absolute times depend on the
machine, so each is also given as a ratio to `SELECT COUNT(*) FROM ticket`
and to a full scan of the history table, both measured in the same run.
"database" is `fetch_period` including turning rows into Python values;
"compute" is `compute_report`.

    python bench/bench_report.py [N]
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config.settings import load_config  # noqa: E402
from app.reports.cycles import cycle_number, cycle_period  # noqa: E402
from app.reports.metrics import compute_report  # noqa: E402
from data import History, Ticket, open_database  # noqa: E402
from data.reporting import fetch_period  # noqa: E402

KINDS = ("incident", "escalation", "bug", "bug", "bug", "question", "feature")
HANDLES = ("alice", "bob", "carol", "dan", "erin", "frank", "grace", None)


def _path(rng: random.Random) -> list[str]:
    """One ticket's columns after To Do."""
    roll = rng.random()
    if roll < 0.15:
        return ["closed"]  # solved by support
    path = ["ready", "in_progress"]
    if rng.random() < 0.25:
        path += ["on_hold", "in_progress"]
    path.append("resolved")
    if rng.random() < 0.1:
        path += ["in_progress", "resolved"]  # QA: not fixed
    path.append("closed")
    if rng.random() < 0.03:
        path += ["in_progress", "resolved", "closed"]  # reopened
    return path


def build(db, count: int, now: dt.datetime, seed: int = 8) -> None:
    rng = random.Random(seed)
    first = now - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / count
    tickets, history = [], []
    for number in range(1, count + 1):
        created = first + step * number
        at, state = created, "todo"
        moves = [("create", created, None, "todo")]
        for target in _path(rng):
            at = at + dt.timedelta(hours=rng.uniform(1, 96))
            if at >= now:
                break
            moves.append(("move", at, state, target))
            state = target
        tickets.append({"key": f"SET-{number}", "number": number, "title": f"ticket {number}",
                        "kind": rng.choice(KINDS), "assignee": rng.choice(HANDLES), "state": state,
                        "rank": float(number), "sort_key": 0, "state_entered": moves[-1][1],
                        "created": created, "updated": moves[-1][1]})
        history.append(moves)
    with db.atomic():
        _insert(db, Ticket, tickets)
        _insert(db, History, [{"ticket": number, "at": at, "kind": kind, "from_state": src, "to_state": dst}
                              for number, moves in enumerate(history, start=1) for kind, at, src, dst in moves])


def _insert(db, model, rows: list[dict]) -> None:
    """One prepared INSERT run over every row: peewee's insert_many builds SQL text per batch."""
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    defaults = {f.name: f.default() if callable(f.default) else f.default for f in fields}
    sql = (f'INSERT INTO "{model._meta.table_name}" ({", ".join(f.column_name for f in fields)}) '
           f'VALUES ({", ".join("?" for _ in fields)})')
    values = ([f.db_value(row.get(f.name, defaults[f.name])) for f in fields] for row in rows)
    db.cursor().executemany(sql, ([str(v) if isinstance(v, dt.datetime) else v for v in row] for row in values))


def timed(function, repeat: int = 5) -> tuple[float, object]:
    """Best of `repeat` runs: the figure least disturbed by the rest of the machine."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    config = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    now = dt.datetime(2027, 3, 10, 12, 0)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database("sqlite:///" + str(Path(tmp) / "bench.db"))
        started = time.perf_counter()
        build(db, count, now)
        print(f"built {count:,} tickets, {History.select().count():,} history rows "
              f"in {time.perf_counter() - started:.1f} s")
        db.execute_sql("ANALYZE")
        baseline, _ = timed(lambda: db.execute_sql("SELECT COUNT(*) FROM ticket").fetchone())
        scan, _ = timed(lambda: db.execute_sql("SELECT COUNT(*) FROM history WHERE reason = 'x'").fetchone())
        print(f"baselines: SELECT COUNT(*) FROM ticket {baseline * 1000:.2f} ms; "
              f"a full scan of history {scan * 1000:.1f} ms")
        stale_from = config.report.stale_rule(config.sla.calendar.add_working)
        current = cycle_number(config.report, now, config.board.timezone)
        for label, number in (("current cycle", current), ("a year back", current - 26)):
            period = cycle_period(config.report, number, config.board.timezone)
            query, facts = timed(lambda: fetch_period(period.start_utc, period.end_utc, config.workflow.keys, config.workflow.final))
            compute, report = timed(lambda: compute_report(facts.tickets, period, config.workflow, config.report,
                                                           now=now, closed_elsewhere=facts.closed_elsewhere,
                                                           stale_from=stale_from))
            print(f"{label} (cycle {number}, {period.start}..{period.end}): "
                  f"{len(facts.tickets):,} tickets fetched, {facts.closed_elsewhere:,} counted; "
                  f"throughput {report.throughput}, median lead {report.lead_time.median_hours:.1f} h")
            print(f"  database {query * 1000:.1f} ms ({query / baseline:.0f}x COUNT(*) FROM ticket, "
                  f"{query / scan:.2f}x a history scan), "
                  f"compute {compute * 1000:.1f} ms, total {(query + compute) * 1000:.1f} ms")
        db.close()


if __name__ == "__main__":
    main()
