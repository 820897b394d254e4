"""`ticket list --sla at-risk --limit 20` as a whole process, at 100,000 and 1,000,000 tickets.

    python bench/bench_sla.py [--dir /tmp/triageboard-bench] [--sizes 100000,1000000] [--runs 5]

Each board is made by bench/seed.py (when its file is not there yet), then
its stored due instants are brought up to date (`triageboard sla rebuild`,
timed and reported, once: seed.py writes rows without them). The baseline in
the same run is `python -c pass`: the figure is the command's wall time, most
of which is the interpreter starting. Target: < 0.5 s at 1,000,000 (issue 16).

Prints one row per figure as bench/run_all.py reads them:

    ROW<TAB>figure<TAB>measured<TAB>baseline<TAB>target<TAB>met
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
TARGET = 0.5


def triageboard(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db_url, *args]


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds


def prepare(path: Path, count: int, env: dict[str, str]) -> str:
    url = f"sqlite:///{path}"
    if not path.exists():
        print(f"seeding {count:,} tickets into {path} …", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "bench" / "seed.py"), "--db", url, "--count", str(count)],
                       check=True, cwd=ROOT)
    stale = subprocess.run([sys.executable, "-c", (
        "import sys; sys.path.insert(0, '.');"
        "from app.config.settings import load_config; from app.sla.source import digest_of;"
        "from data.db import open_database; from data.sla_due import stale_count;"
        f"open_database({url!r}); print(stale_count(digest_of(load_config('config.yaml')), 1))")],
        capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout.strip()
    if stale != "0":
        seconds = wall(triageboard(url, "sla", "rebuild"), env)
        print(f"sla rebuild at {count:,} tickets: {seconds:.1f} s (once; seed.py leaves the columns empty)",
              file=sys.stderr)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/triageboard-bench")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "alice"}
    env.pop("TRIAGEBOARD_NOW", None)
    for size in (int(s) for s in args.sizes.split(",")):
        url = prepare(directory / f"bench-{size}.db", size, env)
        command = triageboard(url, "ticket", "list", "--sla", "at-risk", "--limit", "20")
        baseline = [sys.executable, "-c", "pass"]
        wall(command, env), wall(baseline, env)  # warm the file cache
        measured, base = [], []
        for _ in range(args.runs):
            measured.append(wall(command, env))
            base.append(wall(baseline, env))
        m, b = statistics.median(measured), statistics.median(base)
        figure = f"ticket list --sla at-risk --limit 20 at {size:,}"
        print(f"{figure}: median {m:.3f} s, python -c pass {b:.3f} s ({m / b:.1f}x); target < {TARGET} s"
              f"  (runs: {', '.join(f'{t:.3f}' for t in measured)})", file=sys.stderr)
        print("\t".join(("ROW", figure, f"{m:.3f} s", f"{b:.3f} s", f"< {TARGET} s",
                         "yes" if m < TARGET else "no")), flush=True)


if __name__ == "__main__":
    main()
