"""`ticket list --limit 20` with each single filter, as a whole process, against `python -c pass`.

    python bench/bench_list.py [--db sqlite:///FILE] [--count 1000000] [--runs 5]

Each figure is the median of `--runs` fresh processes (`python -m app ...
ticket list --limit 20 FILTER`): interpreter start, imports, the config, the
database opened, the query and the printing, as a script pays it. The
baseline is `python -c pass` timed alternately in the same run. Without
`--db`, the cached seeded board of `--count` tickets (bench/seed.py) is used.
The `--sla` filters are bench/bench_sla.py's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import process, result  # noqa: E402
from seed import cached  # noqa: E402

TARGET = 0.5
FILTERS = {"no filter": [], "--state ready": ["--state", "ready"], "--assignee alice": ["--assignee", "alice"],
           "--untriaged": ["--untriaged"], "--after SET-500000": ["--after", "SET-500000"],
           "--state closed --after": ["--state", "closed", "--after", "SET-999000"],
           "--query login": ["--query", "login"]}


def timed(command: list[str]) -> tuple[float, float]:
    return process(command, env={**os.environ, "TRIAGEBOARD_USER": "alice"}, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = args.db or f"sqlite:///{cached(args.count)}"
    filters = dict(FILTERS)
    app = [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db, "ticket", "list",
           "--limit", "20"]
    baseline: list[float] = []
    for name, extra in filters.items():
        timed(app + extra)  # the file cache warm, as for a script run twice
        runs, cpu = [], []
        for _ in range(args.runs):
            baseline.append(timed([sys.executable, "-c", "pass"])[0])
            wall, used = timed(app + extra)
            runs.append(wall)
            cpu.append(used)
        median = statistics.median(runs)
        result(f"ticket list --limit 20 {name} ({args.count:,})",
               f"{median:.3f} s (best {min(runs):.3f}; CPU {statistics.median(cpu):.3f})",
               f"{statistics.median(baseline):.3f} s python -c pass", f"< {TARGET} s", median < TARGET)


if __name__ == "__main__":
    main()
