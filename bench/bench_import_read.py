"""Time `import`'s read and check of a CSV (`app.board.transfer._read_csv`), the part before any SQL.

    python bench/bench_import_read.py FILE.csv [FILE.csv ...] [--runs 5]

Each file is read once (as `import_file` reads it) and checked `--runs` times
against an empty board (a fresh SQLite file, so the board's highest number is
one query that finds nothing), in turn by the column-wise reader import uses
and by the row-wise one it replaced (`_read_csv_rows`, still its reference and
fallback; run as before, with the cyclic collector on). Prints the median wall
and CPU (user + system) seconds of each; the target is issue #16's share of a
3 s import of 100,000 rows, 0.3 s.
"""

from __future__ import annotations

import argparse
import csv
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.board.transfer import MAX_FIELD, _read_csv, _read_csv_rows  # noqa: E402
from app.config.settings import load_config  # noqa: E402
from data.db import open_database  # noqa: E402
from results import result  # noqa: E402

TARGET_S = 0.3


def row_wise(config, text: str, name: str):
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        return _read_csv_rows(config, text, name)
    finally:
        csv.field_size_limit(previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    args = parser.parse_args()
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as scratch:
        db = open_database(f"sqlite:///{scratch}/empty.db")
        for path in args.files:
            text = path.read_text(encoding="utf-8-sig")
            figures = {}
            for label, read in (("columns", _read_csv), ("row-wise", row_wise)):
                walls, cpus = [], []
                for _ in range(args.runs):
                    gc.collect()
                    wall, cpu = time.perf_counter(), time.process_time()
                    rows = read(config, text, str(path))
                    cpus.append(time.process_time() - cpu)
                    walls.append(time.perf_counter() - wall)
                    del rows
                figures[label] = statistics.median(walls), statistics.median(cpus)
                print(f"{path.name} {label}: wall {figures[label][0]:.3f} s, cpu {figures[label][1]:.3f} s "
                      f"(median of {args.runs}; walls {', '.join(f'{w:.3f}' for w in walls)})")
            (wall, cpu), (before, before_cpu) = figures["columns"], figures["row-wise"]
            result(f"import read+check ({path.name})", f"{wall:.3f} s (cpu {cpu:.3f})",
                   f"{before:.3f} s (cpu {before_cpu:.3f}) row-wise", f"< {TARGET_S} s", wall < TARGET_S)
        db.close()


if __name__ == "__main__":
    main()
