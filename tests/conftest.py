"""Fixtures every test can use; the database backend is chosen per run.

How to use (for any test that touches the database):

    def test_something(db):            # an open, migrated, empty database for this test
        Service(config).create(title="x")

    def test_cli(db_url):              # the URL only, e.g. for a subprocess:
        subprocess.run([sys.executable, "-m", "app", "--db", db_url, ...])

    def test_two_boards(db_url, new_db_url):
        other = new_db_url()           # another fresh database of the same backend

Pick the backend for the whole run with `--db-backend sqlite|postgres` or the
environment variable `TRIAGEBOARD_TEST_DB=postgres` (default sqlite):

    python -m pytest -q                          # SQLite, a temporary file per test
    TRIAGEBOARD_TEST_DB=postgres python -m pytest -q -n 2

On PostgreSQL each test gets its own schema `tb_<uuid>` in the database named by
`TRIAGEBOARD_TEST_PG_URL` (default postgresql://postgres@127.0.0.1:5432/test),
reached through `?options=-csearch_path=tb_<uuid>` in the URL, and the schema is
dropped afterwards; so parallel workers and parallel runs never see each other.
`pg_url` gives a PostgreSQL schema whatever the backend (for tests that need both,
such as SQLite -> PostgreSQL export/import); it skips when no server answers,
except on a `--db-backend postgres` run, where an absent server is an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db-backend", choices=BACKENDS,
                     default=os.environ.get("TRIAGEBOARD_TEST_DB", "sqlite").strip().lower() or "sqlite",
                     help="database for the `db`/`db_url` fixtures [env TRIAGEBOARD_TEST_DB; default sqlite]")
    parser.addoption("--backend-only", action="store_true",
                     help="run only the tests that use the run's database backend (the `db_backend` fixture, "
                          "through `db`, `db_url` and the rest): what a second pass on another backend adds")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--backend-only`: leave out the tests that would run exactly as they did on the other backend.

    A test whose fixtures never reach `db_backend` uses no database, or an SQLite
    file of its own, or both backends by its own parameters: CI's PostgreSQL pass
    would only repeat it. Every fixture that hands out the run's database
    depends on `db_backend`, so the closure of fixture names says which tests those are.
    """
    if not config.getoption("--backend-only"):
        return
    kept, repeated = [], []
    for item in items:
        (kept if "db_backend" in getattr(item, "fixturenames", ()) else repeated).append(item)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = kept


def pytest_configure(config: pytest.Config) -> None:
    """The parse cache of config files (app.config.parse_cache) in a directory of this run, not the user's ~/.cache;
    the `triageboard` subprocesses inherit it."""
    import tempfile

    os.environ.setdefault("TRIAGEBOARD_CACHE", tempfile.mkdtemp(prefix="triageboard-cache-"))


def pytest_report_header(config: pytest.Config) -> str:
    backend = config.getoption("--db-backend")
    where = f" ({pg_admin_url()})" if backend == "postgres" else ""
    return f"triageboard database backend: {backend}{where}"


def pg_admin_url() -> str:
    return os.environ.get("TRIAGEBOARD_TEST_PG_URL", PG_DEFAULT)


def _pg_connect():
    import psycopg2
    from playhouse.db_url import parse

    conn = psycopg2.connect(**parse(pg_admin_url()), connect_timeout=5)
    conn.autocommit = True
    return conn


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


class PgSchemas:
    """Creates and drops the per-test schemas over one admin connection."""

    def __init__(self) -> None:
        self._conn = None
        self.error: str | None = None

    def _admin(self):
        if self._conn is None or self._conn.closed:
            self._conn = _pg_connect()
        return self._conn

    def available(self) -> bool:
        if self.error is None and self._conn is None:
            try:
                self._admin()
            except Exception as exc:  # any driver error means "no server here"
                self.error = str(exc).strip().splitlines()[0]
        return self.error is None

    def create(self) -> tuple[str, str]:
        schema = f"tb_{uuid.uuid4().hex}"
        with self._admin().cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{schema}"')
        return schema, _with_search_path(pg_admin_url(), schema)

    def drop(self, schema: str) -> None:
        with self._admin().cursor() as cur:
            # A session a test forgot to close must not hang the run; it fails the drop instead.
            cur.execute("SET lock_timeout = '10s'")
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgres": the backend of this run."""
    return request.config.getoption("--db-backend")


@pytest.fixture(scope="session")
def pg_schemas(db_backend: str):
    schemas = PgSchemas()
    yield schemas
    schemas.close()


def _pg_schema_url(pg_schemas: PgSchemas, required: bool):
    if not pg_schemas.available():
        message = f"PostgreSQL not reachable at {pg_admin_url()}: {pg_schemas.error}"
        if required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    schema, url = pg_schemas.create()
    try:
        yield url
    finally:
        _close_bound_database()
        pg_schemas.drop(schema)


def _close_bound_database() -> None:
    from data.models import database_proxy

    db = database_proxy.obj
    if db is not None and not db.is_closed():
        db.close()


@pytest.fixture
def pg_url(pg_schemas: PgSchemas, db_backend: str):
    """A fresh PostgreSQL schema for this test, whatever the run's backend."""
    yield from _pg_schema_url(pg_schemas, required=db_backend == "postgres")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite file for this test, whatever the run's backend."""
    return f"sqlite:///{tmp_path / 'triageboard.db'}"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_backend: str) -> str:
    """The URL of a fresh, empty database of the run's backend (not yet opened or migrated)."""
    if db_backend == "postgres":
        return request.getfixturevalue("pg_url")
    return request.getfixturevalue("sqlite_url")


@pytest.fixture
def new_db_url(request: pytest.FixtureRequest, db_backend: str, tmp_path):
    """A factory: each call gives the URL of another fresh, empty database of the run's backend.

    For tests that need two boards (export from one, import into another).
    """
    schemas: list[str] = []
    count = 0

    def make() -> str:
        nonlocal count
        count += 1
        if db_backend != "postgres":
            return f"sqlite:///{tmp_path / f'extra-{count}.db'}"
        pg_schemas = request.getfixturevalue("pg_schemas")
        if not pg_schemas.available():
            pytest.fail(f"PostgreSQL not reachable at {pg_admin_url()}: {pg_schemas.error}", pytrace=False)
        schema, url = pg_schemas.create()
        schemas.append(schema)
        return url

    yield make
    if schemas:
        _close_bound_database()
        for schema in schemas:
            request.getfixturevalue("pg_schemas").drop(schema)


@pytest.fixture
def db(db_url: str):
    """The run's backend, opened, migrated and bound to the models; closed afterwards."""
    from data.db import open_database

    database = open_database(db_url)
    yield database
    if not database.is_closed():
        database.close()


# -- the repo's config and the command line ----------------------------------


@pytest.fixture
def config():
    """The repository's own config.yaml (the complete, commented example)."""
    from app.config.settings import load_config

    return load_config(ROOT / "config.yaml")


@pytest.fixture
def cli_env() -> dict[str, str]:
    """The environment a `triageboard` subprocess runs in: this tree importable, a known user, no fixed clock."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "alice"}
    env.pop("TRIAGEBOARD_NOW", None)
    return env


@pytest.fixture
def cli_command(db_url):
    """`triageboard --config config.yaml --db <the run's backend> ARGS` as an argument list."""

    def command(*args: str, config: Path | None = None, db: str | None = None) -> list[str]:
        return [sys.executable, "-m", "app", "--config", str(config or ROOT / "config.yaml"),
                "--db", db or db_url, *args]

    return command


@pytest.fixture
def run_cli(tmp_path, cli_command, cli_env):
    """Run `triageboard` as a subprocess, as a script would, on the run's backend.

    `now` (ISO 8601) stops its clock through TRIAGEBOARD_NOW; `config`, `db`
    and `stdin` replace the repo's config, the test's database and the input.
    """

    def run(*args: str, now: str | None = None, config: Path | None = None, db: str | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess:
        env = {**cli_env, "TRIAGEBOARD_NOW": now} if now else cli_env
        return subprocess.run(cli_command(*args, config=config, db=db), capture_output=True, text=True,
                              env=env, input=stdin, cwd=tmp_path, timeout=60)

    return run


@pytest.fixture(autouse=True)
def ui_state(tmp_path, monkeypatch):
    """Each test keeps its board preferences (collapsed columns) in a file of its own, never the user's."""
    path = tmp_path / "ui-state.json"
    monkeypatch.setenv("TRIAGEBOARD_STATE", str(path))
    return path
