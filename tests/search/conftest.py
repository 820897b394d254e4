"""Fixtures for search (issue 16.4): the repo's config, a controlled clock, the service, and `found(query)`.

`config`, `db`, `db_url` and `run_cli` come from tests/conftest.py; every test runs on the run's backend
(`TRIAGEBOARD_TEST_DB=postgres` for PostgreSQL's tsvector index, SQLite's FTS5 otherwise).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.service import Service
from tests.clock import Clock


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 16, 9, 0))  # Monday, 09:00 in London (GMT)


@pytest.fixture
def service(config, db, clock):
    return Service(config, clock=clock)


@pytest.fixture
def found(config, service, clock):
    """`found("login -state:closed")`: the keys the query selects, in key order, as `ticket list --query` runs it."""
    from app.board.filtering import search_where
    from app.board.stale import stale_cutoff, stale_rule
    from data.models import Ticket

    def run(text: str, *, typing: bool = False) -> list[str]:
        condition = search_where(text, config.workflow, tz=config.board.tz, typing=typing,
                                 stale_before=lambda: stale_cutoff(clock(), stale_rule(config)),
                                 now=clock)
        query = Ticket.select(Ticket.key, Ticket.number).order_by(Ticket.number)
        if condition is not None:
            query = query.where(condition)
        return [key for key, _ in query.tuples()]

    return run
