"""Enter to the detail view laid out, for a ticket with 201 conversation entries against one with 1.

    python bench/bench_detail.py [--runs 7] [--notes 100] [--replies 100] [--chars 5000]

A fresh SQLite board holds two tickets, written through the service as a
user would: a long one (its "create" entry, `--notes` internal notes and
`--replies` replies to its requester, each `--chars` characters of prose, so
also that many mails in its outbox) and a short one (its "create" entry
only). `TriageApp` runs headless at 160x45 in this process, as
bench/bench_move.py does; the cursor is put on a card, then each run is timed
from the `enter` key to the end of the first screen refresh of the detail view
(its read in the worker, the screen's compose, layout and paint), and closed
with `escape`. The baseline is the short ticket's detail, measured alternately
in the same run. No target in issue 16: the figure is the ratio, and the view
should read as well as the short one (`met` is None).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.config.settings import load_config  # noqa: E402
from results import result  # noqa: E402

SIZE = (160, 45)
SENTENCE = ("The learner still sees a blank page after logging in from the mobile app, and the grade sync "
            "reports a timeout on the course export. ")


def prose(chars: int, n: int) -> str:
    text = f"Entry {n}. " + SENTENCE * (chars // len(SENTENCE) + 1)
    return "\n\n".join(text[i:i + 600].strip() for i in range(0, chars, 600))[:chars]


def seed(config, url: str, notes: int, replies: int, chars: int) -> tuple[str, str]:
    """The long ticket (top of To Do: the one incident at P1) and the short one, below it; their keys."""
    from app.service import Service
    from data.db import open_database
    from data.models import Ticket

    open_database(url)
    service = Service(config)
    long = service.create(title="Hub will not start after the update", by="bench", kind="incident", priority=1,
                          requester_email="rita@customer.example", requester_name="Rita Reyes")
    short = service.create(title="Certificate page is blank", by="bench", kind="question", priority=4,
                           requester_email="sam@customer.example", requester_name="Sam Sousa")
    Ticket.update(actionable="yes", acknowledged=True).execute()
    for n in range(max(notes, replies)):
        if n < notes:
            service.note(long.key, prose(chars, 2 * n), by="alice")
        if n < replies:
            service.reply(long.key, prose(chars, 2 * n + 1), by="alice")
    return long.key, short.key


async def measure(config, url: str, keys: tuple[str, str], runs: int) -> dict[str, list[float]]:
    from app.tui.app import TriageApp
    from app.tui.screens.detail import CardDetailScreen
    from textual.screen import Screen

    painted: dict[int, float] = {}
    refresh = Screen._compositor_refresh

    def first_refresh(self) -> None:  # the end of each detail view's first refresh: laid out and painted
        refresh(self)
        painted.setdefault(id(self), time.perf_counter())

    CardDetailScreen._compositor_refresh = first_refresh
    app = TriageApp(config, url, user="alice")
    timings: dict[str, list[float]] = {key: [] for key in keys}
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        column = app.board.column("todo")
        assert [column.card_at(i).key for i in range(2)] == list(keys), "the long ticket on top, the short below"
        for run in range(runs + 1):
            for place, key in enumerate(keys):
                while column.card_at(column.cursor).key != key:  # the cursor onto it, untimed
                    await pilot.press("j" if place else "k")
                await pilot.pause()
                started = time.perf_counter()
                app.simulate_key("enter")
                deadline = time.monotonic() + 60
                while not (isinstance(app.screen, CardDetailScreen) and id(app.screen) in painted):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the detail view of {key} was never painted")
                    await asyncio.sleep(0.001)
                if run:  # the first of each is the warm-up (imports, the DataTable's first use)
                    timings[key].append((painted[id(app.screen)] - started) * 1000)
                assert app.screen.detail.key == key
                await pilot.press("escape")
                await app.workers.wait_for_complete()
                await pilot.pause()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--chars", type=int, default=5000)
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'detail.db'}"
        keys = seed(config, url, args.notes, args.replies, args.chars)
        timings = asyncio.run(measure(config, url, keys, args.runs))
    long, short = (statistics.median(timings[key]) for key in keys)
    entries = 1 + args.notes + args.replies
    result(f"detail view, enter to laid out, {entries} entries ({args.notes} notes + {args.replies} replies "
           f"of {args.chars:,} chars)", f"{long:.0f} ms = {long / short:.1f}x",
           f"{short:.0f} ms with 1 entry", "reads well (no target)", None)


if __name__ == "__main__":
    main()
