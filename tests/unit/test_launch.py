"""Which processes load the PostgreSQL driver (app.launch): a wrong "no" would leave a team's board without one."""

from __future__ import annotations

import pytest

from app.launch import may_use_postgresql


@pytest.mark.parametrize("args, env", [
    (["--db", "postgresql://bob@db/test"], {}),
    (["--db=postgres://bob@db/test", "ticket", "list"], {}),
    (["ticket", "list"], {"TRIAGEBOARD_DB": "postgresql://db/board"}),
    (["ticket", "add", "postgres is slow"], {}),  # errs towards loading it
])
def test_a_postgresql_url_anywhere_loads_the_driver(args, env):
    assert may_use_postgresql(args, env)


@pytest.mark.parametrize("args, env", [
    ([], {}),
    (["--db", "sqlite:////tmp/board.db", "move", "SET-1", "ready"], {}),
    (["demo"], {"TRIAGEBOARD_DB": "sqlite:///board.db"}),
])
def test_an_sqlite_board_does_without_it(args, env):
    assert not may_use_postgresql(args, env)
