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

A process whose database is an SQLite file also never loads the PostgreSQL
driver, which Peewee imports whenever it is installed: psycopg2 brings libpq
and OpenSSL with it, 15 ms of every start.
"""

from __future__ import annotations

import gc
import os
import sys


def main(argv: list[str] | None = None) -> None:
    """`triageboard …`: the command line, with the collector off until `started`."""
    gc.disable()
    if not may_use_postgresql(sys.argv[1:] if argv is None else argv, os.environ):
        sys.modules.setdefault("psycopg2", None)  # Peewee's `import psycopg2` fails: it then has no PostgreSQL
    from app.cli import main as cli_main

    cli_main(argv)


def may_use_postgresql(args: list[str], environ: dict[str, str] | os._Environ) -> bool:
    """Whether this process may open PostgreSQL: a URL naming it on the command line or in $TRIAGEBOARD_DB.

    Errs towards yes: any argument that mentions postgres counts (a ticket
    title too), since a wrong no would leave a team's board without a driver.
    The default database, an SQLite file beside the config, is a no.
    """
    return any("postgres" in arg for arg in args) or "postgres" in environ.get("TRIAGEBOARD_DB", "")


def started() -> None:
    """Start-up is over: keep what exists out of every later collection and collect again.

    Does nothing where the collector was not turned off by `main` (a test, a
    library user): freezing their objects would keep them alive for good.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


__all__ = ["main", "may_use_postgresql", "started"]
