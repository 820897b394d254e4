"""Import of a 100,000-row CSV and export of 100,000 tickets to JSON, each as a whole process.

    python bench/bench_batch.py [--count 100000] [--runs 5]

The board is bench/seed.py's cached one; its CSV export is the import's input
(written once per run). Each import goes into a copy of an empty, migrated
database, so the figure is the import's, not the schema's creation. Every
figure is `triageboard import FILE` / `triageboard export -o FILE` from process
start to exit, median and best of `--runs`, with `python -c pass` timed
alternately as the baseline. The machine's other load hits them all alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import result  # noqa: E402
from seed import cached  # noqa: E402

TARGET = 3.0


CPU: dict[str, list[float]] = {}
"""CPU seconds (user + system) of each timed process, by command: on a shared machine the wall time
includes waiting for a core; the CPU time says what the command itself costs."""


def run(*args: str, db: str) -> float:
    env = {**os.environ, "TRIAGEBOARD_USER": "alice"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begun = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db, *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    took = time.perf_counter() - begun
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(args[0], []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return took


def baseline() -> float:
    begun = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - begun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    board = f"sqlite:///{cached(args.count)}"
    from data.db import open_database

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        source = work / "tickets.csv"
        run("export", "--format", "csv", "-o", str(source), db=board)
        empty = work / "empty.db"
        open_database(f"sqlite:///{empty}").close()
        imports, exports, base = [], [], []
        for attempt in range(args.runs):
            target = work / f"import-{attempt}.db"
            shutil.copy(empty, target)
            base.append(baseline())
            imports.append(run("import", str(source), db=f"sqlite:///{target}"))
            target.unlink()
            exports.append(run("export", "-o", str(work / "out.json"), db=board))
    for command, name, runs in (("import", f"import {args.count:,} CSV rows", imports),
                                ("export", f"export {args.count:,} tickets to JSON", exports)):
        median = statistics.median(runs)
        cpu = statistics.median(CPU[command][-len(runs):])
        result(name, f"{median:.2f} s (best {min(runs):.2f}; CPU {cpu:.2f} s)",
               f"{statistics.median(base):.3f} s python -c pass", f"< {TARGET:.0f} s", median < TARGET)


if __name__ == "__main__":
    main()
