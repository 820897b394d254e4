"""Time from a move key to the committed and repainted board, against a no-op key.

    python bench/bench_move.py [--db sqlite:////tmp/bench.db | --count 1000000] [--moves 200]

Works on a copy of the database (the moves are real). Drives `TriageApp`
headless: the cursor sits on the top card of Ready and the benchmark sends
H (Ready -> To Do) and L (To Do -> Ready) in turn, so each move is allowed
and the cursor follows the same card. Keys are posted as the terminal driver
posts them (`App.simulate_key`), not through the test pilot, whose own
settling waits would dominate the figure.

Two figures per move, each the median:
- applied: key event to the board having the committed move in hand (the
  transaction done, the two columns re-queried and marked for repaint);
- painted: to the end of the first screen refresh that has repainted both
  columns and the status line (which describes the moved card). Textual paints
  a dirty screen on its update timer, at most 60 frames a second; after a
  quiet moment (as between a user's keys) that tick comes at once, so this is
  the move's own work, not frame pacing.

The baseline in the same run is a key the board does nothing with, timed the
same way, so the ratio says what a move costs over merely pressing a key.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config.settings import load_config  # noqa: E402
from app.tui.app import TriageApp  # noqa: E402
from widgets.column import Column  # noqa: E402
from widgets.status_line import StatusLine  # noqa: E402


class Signalling(list):
    """The board's undo stack: stamps the moment the board appends a move it has applied, and the
    end of the first screen refresh by which both columns and the status line have been repainted since.

    The board appends inside its handler of the committed move, on the event
    loop; the refresh is seen by wrapping the screen's compositor refresh and
    the columns' `render_lines`. The benchmark waits on an event meanwhile,
    leaving the loop idle as it is for a user (a loop polling the list would
    keep the interpreter from the move's worker). `call_after_refresh` is no
    use here: it can fire before the columns have told the screen they are
    dirty.
    """

    def __init__(self, items, screen, states: set[str]) -> None:
        super().__init__(items)
        self.painted = asyncio.Event()
        self.applied_at = self.painted_at = 0.0
        self.states = states
        self.rendered: set[str] | None = None
        refresh = screen._compositor_refresh

        def compositor_refresh() -> None:
            refresh()
            if self.rendered is not None and self.states <= self.rendered:
                self.painted_at = time.perf_counter()
                self.rendered = None
                self.painted.set()

        screen._compositor_refresh = compositor_refresh
        watched = [(column, column.state) for column in screen.query(Column) if column.state in states]
        if "status" in states:
            watched.append((screen.query_one(StatusLine), "status"))
        for widget, name in watched:
            render = widget.render_lines

            def render_lines(crop, render=render, name=name):
                if self.rendered is not None:
                    self.rendered.add(name)
                return render(crop)

            widget.render_lines = render_lines

    def append(self, item) -> None:
        super().append(item)
        self.applied_at = time.perf_counter()
        self.rendered = set()


async def _painted(screen) -> None:
    event = asyncio.Event()
    screen.call_after_refresh(event.set)
    await asyncio.wait_for(event.wait(), 10)


async def run(db_url: str, moves: int) -> tuple[list[float], list[float], list[float]]:
    # As `triageboard` runs (app.cli.launch.main): the collector is off until the board's first paint, which
    # then freezes what start-up made and turns it back on (app.cli.collector.started), so later collections
    # never walk the board's modules, styles and first pages; without this the moves would be timed
    # with a collector the real process does not have.
    gc.disable()
    app = TriageApp(load_config(ROOT / "config.yaml"), db_url, user="bench")
    applied_ms: list[float] = []
    painted_ms: list[float] = []
    idle_ms: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        board = app.board
        await pilot.press("l")  # to Ready
        await pilot.pause()
        stack = board.undo_stack = Signalling(board.undo_stack, board, {"todo", "ready", "status"})
        for n in range(moves):
            stack.painted.clear()
            started = time.perf_counter()
            app.simulate_key("H" if n % 2 == 0 else "L")
            await asyncio.wait_for(stack.painted.wait(), 10)
            applied_ms.append((stack.applied_at - started) * 1000)
            painted_ms.append((stack.painted_at - started) * 1000)
            await app.workers.wait_for_complete()  # the background recount, untimed
            await pilot.pause()

            started = time.perf_counter()
            app.simulate_key("f12")  # bound to nothing
            await _painted(board)
            idle_ms.append((time.perf_counter() - started) * 1000)
            await pilot.pause()
    return applied_ms, painted_ms, idle_ms


def describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    return (f"{name:<8} median {statistics.median(ordered):6.1f} ms  p90 {ordered[int(len(ordered) * 0.9)]:6.1f} ms  "
            f"min {ordered[0]:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an sqlite:/// URL made by bench/seed.py [default: its cached board of --count]")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results import result
    from seed import cached

    size = "" if args.db else f" ({args.count:,} tickets)"
    args.db = args.db or f"sqlite:///{cached(args.count)}"
    source = Path(args.db.removeprefix("sqlite:///"))
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "bench.db"
        shutil.copy(source, copy)
        applied, painted, idle = asyncio.run(run(f"sqlite:///{copy}", args.moves))
    print(f"{len(applied)} moves on {source}")
    print(describe("applied", applied))
    print(describe("painted", painted))
    print(describe("no-op", idle))
    print(f"move (painted) / no-op key: {statistics.median(painted) / statistics.median(idle):.2f}x; "
          f"target: move median < 15 ms")
    result(f"move, key to repaint{size}", f"{statistics.median(painted):.1f} ms",
           f"{statistics.median(idle):.1f} ms no-op key", "< 15 ms median", statistics.median(painted) < 15)


if __name__ == "__main__":
    main()
