"""Start-up without the garbage collector, then `gc.freeze`: the one place the process's collector is touched.

What it saves: opening the board allocates some 75,000 objects that live as
long as the process does (modules, classes, styles, the first pages of cards).
While they are being created Python's cyclic collector keeps walking them, and
finds nothing to free: its passes took 50-70 ms of a board's start (timed with
`gc.callbacks`; an empty Textual app's, 14 ms), and turning it off took some
25 ms off the first paint (`bench/bench_startup.py`, commit "Start-up runs
without the garbage collector"). So `pause` turns the collector off before the
first import of the project (`app.cli.launch.main`), and `started` — after the
board's first paint (`app.tui.app`), or when a command is about to do its work
(`app.cli.main`) — freezes what exists (`gc.freeze`: those objects move to a
permanent generation no collection walks again, which also keeps the full
collections of a long session short) and turns the collector back on.

What would break it: anything that starts work before `started` without
calling it (a new entry point, a command that loops) runs with the collector
off and grows without bound; calling `started` before the first paint gives
the 25 ms back; calling `gc.freeze` where `pause` did not turn the collector
off (a test, a library user) would keep their objects alive for good, which
is why `started` checks. `held` keeps it off for a batch command. A leaf of the standard library only, so the entry
point, the command line and the TUI can all import it without a cycle.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


def pause() -> None:
    """Turn the collector off until `started`: the process's first call, before any project import."""
    gc.disable()


def started() -> None:
    """Start-up is over: keep what exists out of every later collection and collect again.

    Does nothing where the collector was not turned off by `pause` (a test, a
    library user): freezing their objects would keep them alive for good.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


@contextmanager
def held() -> Iterator[None]:
    """No cyclic collection for the length of a batch command (import, export).

    They build and drop hundreds of thousands of rows, dicts and tuples, none
    of them a cycle: at 100,000 rows the collector ran some 590 times while
    a CSV was read (a quarter of the read) and took another 3 % of the
    import after it (`perf`). Reference counting frees them as before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["held", "pause", "started"]
