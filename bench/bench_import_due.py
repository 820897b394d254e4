"""The stored due instants of an import's fresh tickets: one batch (`fresh_due_columns`) against `row_due` per row.

    python bench/bench_import_due.py [--size 100000] [--runs 3]

The inputs are those of bench/seed.py's cached board (`cached(N)`): each
ticket's creation, column and priority, as `Creation._due_of` hands them over
for a CSV's rows. Both ways must give the same instants (checked here too);
the figure is the CPU time of the batch, the baseline the per-row path it
replaces. Target: 0.2 s at 100,000 (issue 16: the whole import in < 3 s).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import result  # noqa: E402
from seed import cached  # noqa: E402

TARGET = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from app.config.settings import load_config
    from app.sla.due import fresh_due_columns
    from app.sla.source import row_due
    from data.sla_inputs import SlaRow

    config = load_config(ROOT / "config.yaml")
    with sqlite3.connect(cached(args.size)) as db:
        tickets = [(datetime.fromisoformat(created), state, priority, None)
                   for created, state, priority in db.execute("SELECT created, state, priority FROM ticket")]
    now = datetime(2026, 12, 14, 9, 30)

    def batch():
        return fresh_due_columns(config.sla, config.workflow, tickets, now)

    def per_row():
        return [row_due(config, SlaRow(id=0, key="", title="", assignee=None, state=state, created=created,
                                       priority=priority, first_response=first, moves=((created, state, None),)), now)
                for created, state, priority, first in tickets]

    def cpu(work) -> tuple[float, list]:
        begun = time.process_time()
        done = work()
        return time.process_time() - begun, done

    fast, fast_done = min((cpu(batch) for _ in range(args.runs)), key=lambda r: r[0])
    slow, slow_done = cpu(per_row)
    if fast_done != slow_done:
        raise SystemExit("fresh_due_columns and row_due disagree")
    result(f"import due instants, {args.size:,} tickets (CPU)", f"{fast:.3f} s", f"{slow:.2f} s (row_due per row)",
           f"< {TARGET} s", fast < TARGET)


if __name__ == "__main__":
    main()
