"""The loop of a long-running command (`notify`, `remind`, `escalate`): rounds that outlive the database's bad moments.

A notifier runs for weeks. In that time SQLite is locked by a large import for
longer than its busy timeout, and a PostgreSQL server restarts or terminates
the backend. Those are transient: the next round would work. So a round that
fails with a database error (peewee's OperationalError / InterfaceError) does
not end the command: the connection is dropped and reopened on the next round,
the wait doubles from one second up to a minute, and one line on stderr says
what happened — once per problem, not once per retry — and one more says when
the database answers again. Anything else (a bug) still ends the command as
before.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import click
from peewee import InterfaceError, OperationalError

from data.db import drop_connection
from data.models import database_proxy

TRANSIENT = (OperationalError, InterfaceError)
FIRST_WAIT, LONGEST_WAIT = 1.0, 60.0


def run_rounds(name: str, round_: Callable[[], float], *, stop: threading.Event | None = None,
               first_wait: float = FIRST_WAIT, longest_wait: float = LONGEST_WAIT) -> None:
    """Call `round_` until `stop` is set (or KeyboardInterrupt); it returns the seconds to wait before the next.

    A database error in a round is logged, the connection reopened, and the
    round tried again after a growing wait.
    """
    wait_after_error = first_wait
    problem = ""
    while stop is None or not stop.is_set():
        try:
            delay = round_()
        except TRANSIENT as exc:
            text = " ".join(str(exc).split()) or type(exc).__name__
            if text != problem:
                click.echo(f"triageboard: {name}: database error: {type(exc).__name__}: {text[:300]}; "
                           f"retrying, with a growing wait (at most {longest_wait:g}s)", err=True)
                problem = text
            reconnect()
            delay = wait_after_error
            wait_after_error = min(wait_after_error * 2, longest_wait)
        else:
            if problem:
                click.echo(f"triageboard: {name}: the database answers again", err=True)
                problem = ""
            wait_after_error = first_wait
        if stop is not None:
            stop.wait(delay)
        else:
            time.sleep(delay)


def reconnect() -> None:
    """Drop this thread's connection; the next round's first query opens a fresh one."""
    if database_proxy.obj is not None:
        drop_connection(database_proxy.obj)
