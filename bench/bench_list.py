"""`ticket list --limit 20` with each single filter, as a whole process, against `python -c pass`.

    python bench/bench_list.py [--db sqlite:///FILE] [--count 1000000] [--runs 5] [--with-sla]

Each figure is the median of `--runs` fresh processes (`python -m app ...
ticket list --limit 20 FILTER`): interpreter start, imports, the config, the
database opened, the query and the printing, as a script pays it. The
baseline is `python -c pass` timed alternately in the same run. Without
`--db`, the cached seeded board of `--count` tickets (bench/seed.py) is used.
`--with-sla` adds `--sla at-risk` (a Python walk of every open ticket until
the derived due column lands: minutes at a million).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import result  # noqa: E402
from seed import cached  # noqa: E402

TARGET = 0.5
FILTERS = {"no filter": [], "--state ready": ["--state", "ready"], "--assignee alice": ["--assignee", "alice"],
           "--untriaged": ["--untriaged"], "--after SET-500000": ["--after", "SET-500000"],
           "--state closed --after": ["--state", "closed", "--after", "SET-999000"]}


def timed(command: list[str]) -> float:
    env = {**os.environ, "TRIAGEBOARD_USER": "alice"}
    begun = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - begun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--with-sla", action="store_true")
    args = parser.parse_args()
    db = args.db or f"sqlite:///{cached(args.count)}"
    filters = dict(FILTERS)
    if args.with_sla:
        filters["--sla at-risk"] = ["--sla", "at-risk"]
    app = [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db, "ticket", "list",
           "--limit", "20"]
    baseline: list[float] = []
    for name, extra in filters.items():
        timed(app + extra)  # the file cache warm, as for a script run twice
        runs = []
        for _ in range(args.runs):
            baseline.append(timed([sys.executable, "-c", "pass"]))
            runs.append(timed(app + extra))
        median = statistics.median(runs)
        result(f"ticket list --limit 20 {name} ({args.count:,})", f"{median:.3f} s (best {min(runs):.3f})",
               f"{statistics.median(baseline):.3f} s python -c pass", f"< {TARGET} s", median < TARGET)


if __name__ == "__main__":
    main()
