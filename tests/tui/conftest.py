"""Fixtures for driving the board through `TriageApp.run_test()`: the repo's config, the run's database.

`db` and `db_url` come from tests/conftest.py, so these tests run on the run's backend
(SQLite by default, PostgreSQL with `TRIAGEBOARD_TEST_DB=postgres`).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.service import Service
from data.models import Ticket

NOW = dt.datetime(2026, 11, 3, 10, 0)


@pytest.fixture
def service(config, db):
    return Service(config, clock=lambda: NOW)


@pytest.fixture
def seed(service):
    """Create a ticket; `triaged=True` answers what the gate into Ready needs."""

    def make(title: str, *, state: str | None = None, triaged: bool = True, **fields) -> Ticket:
        fields.setdefault("priority", 2 if triaged else None)
        ticket = service.create(title=title, by="lead", state=state, **fields)
        if triaged:
            Ticket.update(actionable="yes", acknowledged=True).where(Ticket.id == ticket.id).execute()
        return Ticket.get_by_id(ticket.id)

    return make


@pytest.fixture
def make_app(config, db, db_url):
    from app.tui.app import TriageApp

    def build(**kwargs):
        kwargs.setdefault("user", "alice")
        kwargs.setdefault("clock", lambda: NOW)
        return TriageApp(config, db_url, **kwargs)

    return build


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch):
    """Stable screens for snapshots (harlequin's conftest does the same)."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture
def wide_columns(ui_state):
    """Every column wide, Closed too (config.yaml collapses it): as if the user had widened it with `z`."""
    ui_state.write_text('{"boards": {"SET": {"collapsed": []}}}')
