"""Opening the database from a URL and bringing its schema up to date.

`sqlite:///path` (the default, one person) or `postgresql://user@host/db`
(a team). A PostgreSQL URL is parsed by `playhouse.db_url` (which imports
every backend peewee has: the board's start does not pay for that when the
URL names an SQLite file, whose path is all there is to it); the schema is created and
upgraded by the numbered scripts in `data/migrations/` through
`playhouse.migrations`, so a database made by any release opens in a later one.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from peewee import Database, OperationalError, SqliteDatabase

from data.models import MODELS, database_proxy

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_TABLE = "schema_migration"
"""Where `playhouse.migrations.Runner` records the scripts it has applied (its default)."""

SQLITE_PRAGMAS = {
    "journal_mode": "wal",    # readers never block the writer: two boards on one file
    "synchronous": "normal",  # safe with WAL, and a move commits without an fsync wait
    "foreign_keys": 1,
    "busy_timeout": 5000,     # another process's write waits instead of failing
    "cache_size": -32000,
}


class DatabaseError(Exception):
    """The database cannot be opened or upgraded; the message is for the user."""


DISK_FULL = "disk full"
READ_ONLY = "database is read-only"
_PROBLEMS = (
    (DISK_FULL, ("database or disk is full", "no space left on device", "could not extend file", "disk full")),
    (READ_ONLY, ("readonly database", "read-only transaction", "read-only file system", "readonly directory")),
)


def storage_problem(exc: BaseException | None) -> str | None:
    """`DISK_FULL` or `READ_ONLY` when `exc`, or the error it interrupted, says so; else None.

    SQLite rolls a transaction back itself when the disk fills, so the
    rollback that follows fails with "cannot rollback - no transaction is
    active": the cause is the error that one interrupted (`__context__`).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc).lower()
        for problem, markers in _PROBLEMS:
            if any(marker in text for marker in markers):
                return problem
        exc = exc.__cause__ or exc.__context__
    return None


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect, bind the models and apply pending migrations."""
    read_only = False
    try:
        if url.startswith("sqlite:///") and ("?" not in url or url.endswith("?mode=ro")):
            path = url.removeprefix("sqlite:///")
            if path.endswith("?mode=ro"):
                path, read_only = path.removesuffix("?mode=ro"), True
            if read_only:
                db = _read_only_sqlite(path)
            else:
                if path and path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                db = SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS)
        elif url.startswith("sqlite:"):  # parameters, or another spelling: the library reads those
            from playhouse.db_url import connect

            db = connect(url, pragmas=SQLITE_PRAGMAS)
        elif url.startswith(("postgres:", "postgresql:")):
            from playhouse.db_url import parse

            db = _reconnecting_postgresql()(**parse(url))
        else:
            raise DatabaseError(f"unsupported database URL {url!r} (use sqlite:///FILE or postgresql://…)")
        try:
            _connect(db)
        except OperationalError as exc:
            # A read-only file or directory: SQLite cannot switch to WAL or make its -shm file.
            # The commands that only read still work on a read-only connection.
            if not is_sqlite(db) or read_only or not _cannot_write(db.database, exc):
                raise
            db, read_only = _read_only_sqlite(db.database), True
    except DatabaseError:
        raise
    except Exception as exc:  # driver errors vary by backend; the user needs the reason only
        raise DatabaseError(f"cannot open database {url}: {str(exc).strip()}") from None
    database_proxy.initialize(db)
    if migrate and not schema_is_current(db):
        if read_only:
            raise DatabaseError(f"cannot upgrade database {url}: {READ_ONLY}")
        from playhouse.migrations import Runner  # 8 ms of imports that a current database never needs

        try:
            with _migration_lock(db):
                Runner(db, str(MIGRATIONS)).up()  # reads the applied list again, inside the lock
        except OperationalError as exc:
            problem = storage_problem(exc)
            raise DatabaseError(f"cannot upgrade database {url}: {problem or exc}") from None
    return db


_READ_PRAGMAS = {name: value for name, value in SQLITE_PRAGMAS.items() if name not in ("journal_mode", "synchronous")}


def _cannot_write(path: str, exc: OperationalError) -> bool:
    """Whether opening `path` failed because its file or directory cannot be written."""
    if not path or path == ":memory:" or not Path(path).is_file():
        return False
    directory = Path(path).parent
    return storage_problem(exc) == READ_ONLY or "unable to open" in str(exc) and (
        not os.access(path, os.W_OK) or not os.access(directory, os.W_OK) or _read_only_mount(directory))


def _read_only_mount(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only_sqlite(path: str) -> SqliteDatabase:
    """A read-only connection to the file at `path`: `mode=ro`, or `immutable=1` when even
    the WAL index cannot be made beside it (a read-only directory: nobody can change the file)."""
    absolute = Path(path).resolve()
    for parameter in ("mode=ro", "immutable=1"):
        db = SqliteDatabase(f"file:{absolute}?{parameter}", uri=True, pragmas=_READ_PRAGMAS)
        try:
            db.connect()
            db.execute_sql("SELECT count(*) FROM sqlite_master")
            return db
        except OperationalError:
            if not db.is_closed():
                db.close()
            if parameter == "immutable=1":
                raise
    raise AssertionError("unreachable")


MIGRATION_LOCK = 0x7472696167  # "triag": the advisory lock key every triageboard process upgrading takes
"""PostgreSQL advisory lock of the schema upgrade; released with its transaction."""


@contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    """One process at a time upgrades: six boards starting together on a new database must all succeed.

    The whole upgrade is one transaction that starts by taking the lock, so the
    second process waits, then finds the scripts applied and runs none: on
    SQLite `BEGIN IMMEDIATE` (the write lock at once; others wait out the busy
    timeout), on PostgreSQL `pg_advisory_xact_lock` (DDL is transactional
    there). Foreign keys are switched off around it as the migrator would (the
    pragma is ignored inside a transaction).
    """
    if is_sqlite(db):
        foreign_keys = bool(db.pragma("foreign_keys"))
        if foreign_keys:
            db.pragma("foreign_keys", 0)
        try:
            with db.atomic(lock_type="IMMEDIATE"):
                yield
        finally:
            if foreign_keys:
                db.pragma("foreign_keys", 1)
    else:
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            yield


def _connect(db: Database) -> None:
    """Connect; on SQLite, a new file's switch to WAL that meets another first start is retried.

    Setting `journal_mode` can answer "database is locked" at once, without
    waiting out the busy timeout, while another process is creating the file.
    """
    for attempt in range(40):
        try:
            db.connect(reuse_if_open=True)
            return
        except OperationalError as exc:
            if not is_sqlite(db) or "locked" not in str(exc) or attempt == 39:
                raise
            if not db.is_closed():
                db.close()
            time.sleep(0.05 + 0.01 * attempt)


def drop_connection(db: Database) -> None:
    """Forget this thread's connection, whatever state it is in; the next query opens a fresh one.

    A connection the server dropped may fail even to close, and peewee would
    then keep it as open (`connect(reuse_if_open=True)` would hand it back),
    so its state is reset by hand.
    """
    try:
        db.close()
    except Exception:  # noqa: BLE001 (a broken connection may fail to close; it is abandoned all the same)
        try:
            if db._state.conn is not None:  # noqa: SLF001 (peewee keeps no public 'forget this connection')
                db._state.conn.close()
        except Exception:  # noqa: BLE001
            pass
        db._state.reset()  # noqa: SLF001


def _reconnecting_postgresql() -> type[Database]:
    """PostgreSQL that reconnects once when the server dropped the session, for statements outside a transaction.

    A board holds its connections for hours (one per worker thread); a
    server restart or `pg_terminate_backend` would otherwise leave each of
    them failing every read. playhouse's `ReconnectMixin` retries a statement
    once on a fresh connection, but never inside a transaction (a write's
    changes could be lost): `Service._write` reconnects and reruns those.
    """
    from peewee import InterfaceError, PostgresqlDatabase
    from playhouse.shortcuts import ReconnectMixin

    class ReconnectingPostgresqlDatabase(ReconnectMixin, PostgresqlDatabase):
        reconnect_errors = (
            (OperationalError, "server closed the connection"),  # psycopg2
            (OperationalError, "terminating connection"),
            (InterfaceError, "connection already closed"),
        )

    return ReconnectingPostgresqlDatabase


def schema_is_current(db: Database) -> bool:
    """Whether every script in `data/migrations/` has been applied (as `Runner.up` would find)."""
    scripts = {path.stem for path in MIGRATIONS.glob("[0-9]*.py")}
    if not db.table_exists(MIGRATION_TABLE):
        return False
    applied = {name for (name,) in db.execute_sql(f"SELECT name FROM {MIGRATION_TABLE}")}
    return scripts <= applied


def is_sqlite(db: Database) -> bool:
    return isinstance(db, SqliteDatabase)


__all__ = ["DISK_FULL", "READ_ONLY", "DatabaseError", "MODELS", "storage_problem", "open_database", "is_sqlite", "schema_is_current"]
