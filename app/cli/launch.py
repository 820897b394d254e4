"""The `triageboard` process's entry point: the start-up choices made before the first import.

The collector is off from here until the process has started (`app.cli.collector`:
50-70 ms of collector passes over start-up's objects, 25 ms of the first paint).

A process whose database is an SQLite file also never loads the PostgreSQL
driver, which Peewee imports whenever it is installed: psycopg2 brings libpq
and OpenSSL with it, 15 ms of every start. And a line that only opens the
board (no command) skips click, whose import is another 8 ms of it.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from app.cli.collector import pause


def main(argv: list[str] | None = None) -> None:
    """`triageboard …`: the command line, with the collector off until `app.cli.collector.started`."""
    pause()
    args = sys.argv[1:] if argv is None else argv
    if not may_use_postgresql(args, os.environ):
        sys.modules.setdefault("psycopg2", None)  # Peewee's `import psycopg2` fails: it then has no PostgreSQL
    board = board_options(args)
    if board is None:
        from app.cli.main import main as cli_main

        cli_main(argv)
        return
    from app.cli.runtime import Runtime, open_board, run_guarded

    config_path, db_url = board
    run_guarded(lambda: open_board(Runtime(config_path, db_url or os.environ.get("TRIAGEBOARD_DB") or None)))


def board_options(args: list[str]) -> tuple[str | None, str | None] | None:
    """(config, db) when the line only opens the board: `--config PATH` and `--db URL`, each at most once,
    either spelling, and nothing else; None otherwise, and click reads the line (a command, `--help`,
    a typo). The board then opens without importing click: the command line's most common use, and
    8 ms of its start.
    """
    found: dict[str, str] = {}
    rest = list(args)
    while rest:
        name, equals, value = rest.pop(0).partition("=")
        if name not in ("--config", "--db") or name in found:
            return None
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None  # click words the missing value
            value = rest.pop(0)
        found[name] = value
    return found.get("--config"), found.get("--db")


def may_use_postgresql(args: list[str], environ: Mapping[str, str]) -> bool:
    """Whether this process may open PostgreSQL: a URL naming it on the command line or in $TRIAGEBOARD_DB.

    Errs towards yes: any argument that mentions postgres counts (a ticket
    title too), since a wrong no would leave a team's board without a driver.
    The default database, an SQLite file beside the config, is a no.
    """
    return any("postgres" in arg for arg in args) or "postgres" in environ.get("TRIAGEBOARD_DB", "")


__all__ = ["board_options", "main", "may_use_postgresql"]
