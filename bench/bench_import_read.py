"""Time `import`'s read and check of a CSV (`app.board.transfer._read_csv`), the part before any SQL.

    python bench/bench_import_read.py FILE.csv [FILE.csv ...] [--runs 5]

Each file is read once (as `import_file` reads it) and checked `--runs` times
against an empty board (a fresh SQLite file, so the board's highest number is
one query that finds nothing). Prints the median wall and CPU (user + system)
seconds per file; the target is issue #16's share of a 3 s import of 100,000
rows, 0.3 s.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.board.transfer import _read_csv  # noqa: E402
from app.config.settings import load_config  # noqa: E402
from data.db import open_database  # noqa: E402
from results import result  # noqa: E402

TARGET_S = 0.3


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
            walls, cpus = [], []
            for _ in range(args.runs):
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                rows = _read_csv(config, text, str(path))
                cpus.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
                del rows
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(f"{path.name}: wall {wall:.3f} s, cpu {cpu:.3f} s (median of {args.runs}; "
                  f"walls {', '.join(f'{w:.3f}' for w in walls)})")
            result(f"import read+check ({path.name})", f"{wall:.3f} s (cpu {cpu:.3f})", "1.0 s",
                   f"< {TARGET_S} s", wall < TARGET_S)
        db.close()


if __name__ == "__main__":
    main()
