"""The `triageboard` process's entry point: start-up without the garbage collector.

Opening the board allocates some 75,000 objects that live as long as the
process does (modules, classes, styles, the first pages of cards). While they
are being created Python's cyclic collector keeps walking them, and finds
nothing to free: 40-70 ms of a board's first paint, a tenth of it
(`bench/bench_startup.py`; an empty Textual app pays 14 ms). So the collector
is off from the first import until the process has started, i.e. the board
has painted or a command is about to do its work. `started` then freezes
what exists (`gc.freeze`: the objects move to a permanent generation no
collection walks again, which also keeps the full collections during a long
session short) and turns the collector back on.
"""

from __future__ import annotations

import gc


def main(argv: list[str] | None = None) -> None:
    """`triageboard …`: the command line, with the collector off until `started`."""
    gc.disable()
    from app.cli import main as cli_main

    cli_main(argv)


def started() -> None:
    """Start-up is over: keep what exists out of every later collection and collect again.

    Does nothing where the collector was not turned off by `main` (a test, a
    library user): freezing their objects would keep them alive for good.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


__all__ = ["main", "started"]
