"""`ticket list --sla at-risk|warning|breached --limit 20` as a whole process, at 1,000,000 tickets.

    python bench/bench_sla.py [--sizes 100000,1000000] [--runs 5]

Each board is bench/seed.py's cached one (`cached(N)`): the import's bulk path
it seeds through fills the stored due instants (`WritePath._with_due`) and the
search index. Should a board's instants be stale anyway (another `sla:`
calendar in config.yaml), `triageboard sla rebuild` brings them up to date
first, timed and reported once. The baseline in the same run is `python -c
pass`: the figure is the command's wall time, most of which is the interpreter
starting. Target: < 0.5 s at 1,000,000 (issue 16). One `result(...)` line per
figure, for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import process, result  # noqa: E402
from seed import cached  # noqa: E402

TARGET = 0.5
WHICH = ("at-risk", "warning", "breached")


def triageboard(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db_url, *args]


def wall(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    return process(command, env=env, cwd=ROOT)


def prepare(count: int, env: dict[str, str]) -> str:
    url = f"sqlite:///{cached(count)}"
    stale = subprocess.run([sys.executable, "-c", (
        "import sys; sys.path.insert(0, '.');"
        "from app.config.settings import load_config; from app.sla.source import digest_of;"
        "from data.db import open_database; from data.sla_due import stale_count;"
        f"open_database({url!r}); print(stale_count(digest_of(load_config('config.yaml')), 1))")],
        capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout.strip()
    if stale != "0":
        seconds = wall(triageboard(url, "sla", "rebuild"), env)[0]
        print(f"sla rebuild at {count:,} tickets: {seconds:.1f} s (once: they were stale)",
              file=sys.stderr)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "alice"}
    env.pop("TRIAGEBOARD_NOW", None)
    baseline = [sys.executable, "-c", "pass"]
    for size in (int(s) for s in args.sizes.split(",")):
        url = prepare(size, env)
        for which in WHICH:
            command = triageboard(url, "ticket", "list", "--sla", which, "--limit", "20")
            wall(command, env), wall(baseline, env)  # warm the file cache
            measured, cpu, base = [], [], []
            for _ in range(args.runs):
                seconds, used = wall(command, env)
                measured.append(seconds)
                cpu.append(used)
                base.append(wall(baseline, env)[0])
            m, b = statistics.median(measured), statistics.median(base)
            result(f"ticket list --limit 20 --sla {which} ({size:,})",
                   f"{m:.3f} s (best {min(measured):.3f}; CPU {statistics.median(cpu):.3f})",
                   f"{b:.3f} s python -c pass", f"< {TARGET} s", m < TARGET)


if __name__ == "__main__":
    main()
