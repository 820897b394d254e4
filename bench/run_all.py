"""Every benchmark, one table: figure, measured, baseline (from the same run), target, met.

    python bench/run_all.py [--quick]

Seeds the 100,000 and 1,000,000-ticket boards once (bench/seed.py caches them
under bench/.cache, keyed by count and schema version), then runs each script
below as its own process; each prints `RESULT` lines (bench/results.py) that
become the table's rows. A new benchmark is one line in BENCHES: its script
and arguments. `--quick` runs each with fewer repetitions.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results import parse  # noqa: E402
from seed import cached  # noqa: E402

BENCHES: list[tuple[str, list[str], list[str]]] = [
    # (script, arguments, arguments with --quick)
    ("bench_list.py", ["--count", "1000000", "--runs", "5"], ["--count", "1000000", "--runs", "2"]),
    ("bench_batch.py", ["--count", "100000", "--runs", "5"], ["--count", "100000", "--runs", "2"]),
    ("bench_startup.py", ["--count", "1000000", "--runs", "5"], ["--count", "1000000", "--runs", "2"]),
    ("bench_move.py", ["--count", "1000000", "--moves", "200"], ["--count", "1000000", "--moves", "40"]),
    ("bench_sla.py", ["--sizes", "1000000", "--runs", "5"], ["--sizes", "1000000", "--runs", "2"]),
    ("bench_search.py", ["--count", "1000000", "--runs", "9"], ["--count", "1000000", "--runs", "3"]),
    ("bench_detail.py", ["--runs", "7"], ["--runs", "2"]),
    ("bench_team.py", ["--count", "1000000", "--boards", "10", "--moves", "50"],
     ["--count", "1000000", "--boards", "10", "--moves", "15"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for count in (100_000, 1_000_000):
        print(f"board of {count:,}: {cached(count)}", flush=True)
    rows: list[dict] = []
    for script, full, quick in BENCHES:
        command = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"running {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, capture_output=True, text=True)
        found = parse(done.stdout)
        if done.returncode != 0 or not found:
            found = [{"figure": script, "measured": f"failed ({done.returncode}): "
                      f"{(done.stderr.strip().splitlines() or ['no result'])[-1][:60]}",
                      "baseline": "", "target": "", "met": False}]
        for row in found:  # as each script ends: the whole run takes a quarter of an hour
            print(f"  {row['figure']}: {row['measured']} (target {row['target'] or '-'})", flush=True)
        rows.extend(found)
    headers = ("figure", "measured", "baseline", "target", "met")
    table = [[str(row[h]) if h != "met" else {None: "-", True: "yes", False: "no"}[row["met"]]
             for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in table:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths)))


if __name__ == "__main__":
    main()
