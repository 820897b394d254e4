"""What every `triageboard` command stands on: the configuration and database it runs against, opening the
board, and turning the domain's errors into exit codes.

Kept apart from `app.cli.main`, and free of click, so that `triageboard` with no
command (or only `--config`/`--db`) opens the board without importing the
command-line framework (`app.cli.launch`): 8 ms of a start that is measured
against an empty Textual app's.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Callable, NoReturn
from zoneinfo import ZoneInfo

from app.config.settings import Config, load_config, resolve_config_path
from app.service import Refused, Service
from app.config.yamlnodes import ConfigError
from app.oncall.rotation import wall_clock
from data.board_queries import start_counting
from data.db import DatabaseError, open_database, storage_problem
from data.sla_due import use_backfill
from widgets.safe_text import shown


class Runtime:
    """Configuration and database, opened on first use so `--help` needs neither."""

    def __init__(self, config_path: str | None, db_url: str | None):
        self.config_path = resolve_config_path(config_path)
        self.db_option = db_url
        self.defer_checks = False
        """Opening the board: the checks that cost imports run after its first paint (the board exits 2 on one)."""
        self._config: Config | None = None
        self._service: Service | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, defer_checks=self.defer_checks)
        return self._config

    @property
    def db_url(self) -> str:
        return self.db_option or self.config.db_default

    @property
    def service(self) -> Service:
        if self._service is None:
            config = self.config
            # Migration 0008 fills existing tickets' due instants with this config (data/ cannot read it).
            use_backfill(lambda db: _backfill_due(config))
            open_database(self.db_url)
            service = Service(config)
            if os.environ.get(NOW_ENV):
                # Every command, not only the on-call ones, then runs at that instant (stamps,
                # targets, reminders); one reading of the variable: no offset = the board's zone.
                fixed = now(self).replace(tzinfo=None)
                service.clock = lambda: fixed
            self._service = service
        return self._service

    def user(self, by: str | None) -> str:
        """The team handle a write is by (`--by`, else TRIAGEBOARD_USER, else $USER if a handle); exit 2 otherwise."""
        from app.config.identity import UnknownIdentity, required_user

        try:
            return required_user(self.config, by)
        except UnknownIdentity as exc:
            refuse(str(exc), 2)


def _backfill_due(config: Config) -> None:
    """Migration 0008 on a database with tickets: their due instants, with progress on stderr."""
    from app.sla.source import progress_line, rebuild
    from data.sla_due import open_ids

    if not open_ids(config.workflow.final, 0, 1):
        rebuild(config, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))  # closed ones only: one statement
        return
    print("triageboard: working out the response-target due times of existing tickets (once)", file=sys.stderr)
    count = rebuild(config, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), progress=progress_line())
    if count:
        print(file=sys.stderr)


def open_board(runtime: Runtime, *, demo: bool = False) -> None:
    if runtime._config is None:
        runtime.defer_checks = True
    # The database is opened and migrated before the screen takes over (a bad URL or database is
    # one plain line from `main`, like every command's), and before Textual is imported: the
    # columns are counted meanwhile, in a thread.
    service = runtime.service
    first_counts = start_counting()
    from app.tui.app import TriageApp  # Textual is only imported when a board is opened

    from app.config.identity import UnknownIdentity, resolve_user

    try:
        user = resolve_user(runtime.config)
    except UnknownIdentity as exc:
        refuse(str(exc), 2)
    if user is None and demo:
        user = runtime.config.team[0].handle  # the demo is a playground: it writes as its first team member
    app = TriageApp(runtime.config, runtime.db_url, user=user or "", demo=demo, service=service,
                    first_counts=first_counts)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)  # e.g. 2: a check of config.yaml run after the first paint failed


NOW_ENV = "TRIAGEBOARD_NOW"
"""An ISO 8601 instant every command runs at instead of now (tests, and replaying a day); no offset: the board's zone."""


def parse_instant(text: str, tz: ZoneInfo, what: str) -> dt.datetime:
    """An ISO 8601 date or date-time as an aware UTC instant; no offset means the board's zone.

    A bad value is bad usage: exit 2 with one line.
    """
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        refuse(f"{what}: expected an ISO 8601 date and time such as 2026-12-21T09:00 or "
               f"2026-12-21T09:00+00:00, got {text!r}", 2)
    if moment.tzinfo is None:
        return wall_clock(moment.date(), moment.time(), tz)
    return moment.astimezone(dt.timezone.utc)


def now(runtime: Runtime) -> dt.datetime:
    """The current instant (aware UTC, whole seconds), or `TRIAGEBOARD_NOW` when set."""
    fixed = os.environ.get(NOW_ENV)
    if fixed:
        return parse_instant(fixed, runtime.config.board.tz, NOW_ENV)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def refuse(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit with `code` (1 refused, 2 bad usage or configuration)."""
    print(f"triageboard: {shown(message)}", file=sys.stderr)  # it may quote a title or a mail
    sys.exit(code)


def run_guarded(command: Callable[[], object]) -> None:
    """Run a command; a refusal or a bad config or database is one line on stderr and an exit status.

    1: refused (a forbidden move, an unknown key); 2: bad configuration or
    database; never a traceback, unless TRIAGEBOARD_DEBUG asks for one.
    """
    try:
        command()
    except ConfigError as exc:
        refuse(str(exc), 2)
    except DatabaseError as exc:
        refuse(str(exc), 2)
    except Refused as exc:
        refuse(str(exc), 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if os.environ.get("TRIAGEBOARD_DEBUG"):
            raise
        problem = storage_problem(exc)  # a write outside the write path (the outbox's claims)
        if problem is not None:
            refuse(f"{problem}: {str(exc).strip() or type(exc).__name__}", 1)
        refuse(f"unexpected error: {type(exc).__name__}: {exc} (set TRIAGEBOARD_DEBUG=1 for details)", 1)


__all__ = ["NOW_ENV", "Runtime", "now", "open_board", "parse_instant", "refuse", "run_guarded"]
