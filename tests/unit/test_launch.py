"""Which processes load the PostgreSQL driver (app.cli.launch): a wrong "no" would leave a team's board without one."""

from __future__ import annotations

import pytest

from app.cli.launch import board_options, may_use_postgresql


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


@pytest.mark.parametrize("args, options", [
    ([], (None, None)),
    (["--config", "c.yaml"], ("c.yaml", None)),
    (["--db=sqlite:///b.db", "--config", "c.yaml"], ("c.yaml", "sqlite:///b.db")),
])
def test_a_line_that_only_opens_the_board_skips_click(args, options):
    assert board_options(args) == options


@pytest.mark.parametrize("args", [
    ["ticket", "list"], ["--help"], ["--version"], ["--db"], ["--db", "--config", "c.yaml"],
    ["--config", "a.yaml", "--config", "b.yaml"], ["--cofnig", "c.yaml"], ["--db", "x", "demo"],
])
def test_anything_else_is_read_by_click(args):
    assert board_options(args) is None
