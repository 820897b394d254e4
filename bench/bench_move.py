"""Median time from a move key press to the committed and repainted board.

    python bench/bench_move.py --db sqlite:////tmp/bench.db [--moves 200]

Works on a copy of the database (the moves are real). Drives `TriageApp`
headless through the pilot: the cursor sits on the top card of Ready, and
the benchmark presses H (Ready -> To Do) and L (To Do -> Ready) in turn, so
each move is allowed and the cursor follows the same card. A move is timed
from the key press until the board has handled the committed result and
repainted (the next screen refresh after it); the background recount of all
headers that follows is waited out untimed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import load_config  # noqa: E402
from app.tui import TriageApp  # noqa: E402


async def run(db_url: str, moves: int) -> list[float]:
    app = TriageApp(load_config(ROOT / "config.yaml"), db_url, user="bench")
    timings: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        board = app.board
        await pilot.press("l")  # to Ready
        await pilot.pause()
        for n in range(moves):
            applied = len(board.undo_stack)  # the board appends when it applies a committed move
            started = time.perf_counter()
            await pilot.press("H" if n % 2 == 0 else "L")
            while len(board.undo_stack) == applied:
                await asyncio.sleep(0.0002)
            painted = asyncio.Event()
            board.call_after_refresh(painted.set)
            await asyncio.wait_for(painted.wait(), 10)
            timings.append(time.perf_counter() - started)
            await app.workers.wait_for_complete()  # the recount, untimed
            await pilot.pause()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an sqlite:/// URL made by bench/seed.py")
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    source = Path(args.db.removeprefix("sqlite:///"))
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "bench.db"
        shutil.copy(source, copy)
        timings = asyncio.run(run(f"sqlite:///{copy}", args.moves))
    ms = sorted(t * 1000 for t in timings)
    print(f"{len(ms)} moves: median {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9)]:.1f} ms, "
          f"min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms (target: median < 15 ms)")


if __name__ == "__main__":
    main()
