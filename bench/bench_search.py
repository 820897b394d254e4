"""Time from a `/` query being applied to its matching cards painted, at 1,000,000 tickets, against an empty app.

    python bench/bench_search.py [--db sqlite:///FILE] [--count 1000000] [--runs 9]

Without `--db`, the board is bench/seed.py's cached one (`cached(count)`, the
one every benchmark shares; its bulk path builds the search index). The run
only reads it.

Drives `TriageApp` headless at 160x45 in this process, as bench_move.py does.
The filter line is opened with `/`; each query is then handed to the board as
the line hands it over once typing pauses (`FilterBar.Changed`, so the query's
check, the worker and the paint all count; the pause itself, `DEBOUNCE`, is
the user's and is not). Figures, each the median of `--runs` after one
untimed warm-up:

- painted: to the end of the first screen refresh in which every column has
  repainted after the board took the filter's first pages in;
- counted: to the exact counts in the headers (the board shows "32+" until
  then, for a column whose first page is full); no target, shown for honesty.

The baseline, measured in the same run (before and after the board, in
turn), is an empty Textual app handling one message that changes one line of
text, timed from the post to the end of the refresh that painted it: what any
update costs in Textual on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from textual.app import App, ComposeResult  # noqa: E402
from textual.message import Message  # noqa: E402
from textual.widgets import Static  # noqa: E402

from app.config.settings import load_config  # noqa: E402
from results import result  # noqa: E402
from seed import cached  # noqa: E402

QUERIES = (
    ("login", "a word on a fifth of the tickets"),
    ("logi", "the same, still being typed (a prefix)"),
    ("123456", "a word on one ticket (its number)"),
    ("login page", "two words, together on 4 % of the tickets"),
    ('"login page" -email', "a phrase and a negated word"),
    ("assignee:bob priority:P1", "two field terms"),
    ("login is:untriaged", "a word and a flag"),
)
TARGET_MS = 150.0
SIZE = (160, 45)


class Painted:
    """Stamps the end of the first screen refresh by which every watched widget has rendered since `arm()`."""

    def __init__(self, screen, widgets: dict[str, object]) -> None:
        self.event = asyncio.Event()
        self.at = 0.0
        self.names = set(widgets)
        self.rendered: set[str] | None = None
        refresh = screen._compositor_refresh

        def compositor_refresh() -> None:
            refresh()
            if self.rendered is not None and self.names <= self.rendered:
                self.at = time.perf_counter()
                self.rendered = None
                self.event.set()

        screen._compositor_refresh = compositor_refresh
        for name, widget in widgets.items():
            render = widget.render_lines

            def render_lines(crop, render=render, name=name):
                if self.rendered is not None:
                    self.rendered.add(name)
                return render(crop)

            widget.render_lines = render_lines

    def arm(self) -> None:
        self.event.clear()
        self.rendered = set()

    async def wait(self) -> float:
        await asyncio.wait_for(self.event.wait(), 60)
        return self.at


class Poke(Message):
    pass


class EmptyApp(App):
    def compose(self) -> ComposeResult:
        yield Static("0", id="line")

    def on_poke(self, message: Poke) -> None:
        line = self.query_one("#line", Static)
        line.update(str(int(str(line.render())) + 1))


async def baseline(runs: int) -> list[float]:
    app = EmptyApp()
    timings: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        painted = Painted(app.screen, {"line": app.query_one("#line")})
        for _ in range(runs + 1):
            painted.arm()
            started = time.perf_counter()
            app.post_message(Poke())
            timings.append((await painted.wait() - started) * 1000)
            await pilot.pause()
    return timings[1:]


async def board(db_url: str, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    from app.tui.app import TriageApp
    from widgets.column import Column
    from widgets.filter_bar import DEBOUNCE, FilterBar

    gc.disable()  # as `triageboard` runs until its first paint, then app.cli.collector freezes start-up's objects
    app = TriageApp(load_config(ROOT / "config.yaml"), db_url, user="bench")
    results: dict[str, tuple[list[float], list[float]]] = {}
    async with app.run_test(size=SIZE) as pilot:
        screen = app.board
        await app.workers.wait_for_complete()
        await pilot.press("slash")
        await pilot.pause(DEBOUNCE * 2)
        await app.workers.wait_for_complete()
        bar = screen.query_one(FilterBar)
        painted = Painted(screen, {column.state: column for column in screen.query(Column)})
        view = screen.view
        counted = asyncio.Event()
        counted_at = [0.0]
        took = view.filtered
        recounted = view.recounted

        def filtered(message) -> None:
            took(message)
            painted.arm()  # the columns repaint from here: the next refresh with all of them is the paint
            if message.exact:
                counted_at[0] = time.perf_counter()
                counted.set()

        def on_recounted(message) -> None:
            recounted(message)
            counted_at[0] = time.perf_counter()
            counted.set()

        view.filtered = filtered
        view.recounted = on_recounted

        async def apply(text: str) -> tuple[float, float]:
            if text == view._asked:  # the board has it already: nothing would be painted
                return 0.0, 0.0
            counted.clear()
            painted.event.clear()
            started = time.perf_counter()
            bar.post_message(FilterBar.Changed(bar, text))
            paint = await painted.wait()
            await asyncio.wait_for(counted.wait(), 120)
            await app.workers.wait_for_complete()  # the totals beside the filter, untimed
            await pilot.pause()
            return (paint - started) * 1000, (counted_at[0] - started) * 1000

        for text, _ in QUERIES:
            paints, counts = [], []
            for run in range(runs + 1):
                await apply("")  # every card again, untimed
                paint, count = await apply(text)
                if run:  # the first is the warm-up (the file's pages into the cache)
                    paints.append(paint)
                    counts.append(count)
            results[text] = (paints, counts)
    gc.enable()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an sqlite:/// URL made by bench/seed.py [default: seeded once and cached]")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    db_url = args.db or f"sqlite:///{cached(args.count)}"
    before = asyncio.run(baseline(args.runs))
    results = asyncio.run(board(db_url, args.runs))
    after = asyncio.run(baseline(args.runs))
    base = statistics.median(before + after)
    from widgets.filter_bar import DEBOUNCE

    print(f"search on {db_url} ({os.cpu_count()} cores); median of {args.runs}; the typing pause before a "
          f"query ({DEBOUNCE * 1000:.0f} ms) is not counted")
    for text, what in QUERIES:
        paints, counts = results[text]
        paint, count = statistics.median(paints), statistics.median(counts)
        result(f"search / {text} ({what}), cards painted ({args.count:,})", f"{paint:.1f} ms",
               f"{base:.1f} ms empty Textual app update", f"< {TARGET_MS:.0f} ms", paint < TARGET_MS)
        result(f"search / {text}, exact counts in the headers ({args.count:,})", f"{count:.1f} ms",
               f"{base:.1f} ms", "", None)


if __name__ == "__main__":
    main()
