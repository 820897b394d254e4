"""A write that fails unexpectedly is said in one line and leaves the board saving.

The board marks a write in progress and queues later keys until it ends.
Its workers caught only refusals, so an OperationalError (a locked SQLite
file, a PostgreSQL session that was terminated) left the mark set: every
later key was queued for ever, with no word on screen.
"""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from peewee import OperationalError
from playhouse.db_url import parse

from app.service import Service
from data.models import Ticket
from tests.conftest import pg_admin_url
from tests.tui.screen import settle, toasts

SIZE = (160, 45)


async def test_an_unexpected_error_is_reported_and_the_next_move_is_saved(make_app, seed, monkeypatch):
    card = seed("alpha")
    real_move = Service.move
    failures = [OperationalError("database is locked")]

    def move(self, *args, **kwargs):
        if failures:
            raise failures.pop()
        return real_move(self, *args, **kwargs)

    monkeypatch.setattr(Service, "move", move)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert any("SET-1 was not saved: database is locked" in t for t in toasts(pilot.app)), toasts(pilot.app)
        assert Ticket.get_by_id(card.id).state == "todo"
        await pilot.press("L")
        await settle(pilot)
        assert Ticket.get_by_id(card.id).state == "ready"


async def test_a_terminated_postgresql_session_is_reconnected_and_the_move_saved(config, db, db_url, db_backend,
                                                                                 seed):
    if db_backend != "postgres":
        pytest.skip("an SQLite file has no server session to lose")
    from app.tui.app import TriageApp

    card = seed("alpha")
    name = f"board_{uuid.uuid4().hex[:12]}"
    app = TriageApp(config, f"{db_url}&application_name={name}", user="alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        admin = psycopg2.connect(**parse(pg_admin_url()))
        admin.autocommit = True
        with admin.cursor() as cur:  # every connection the board holds, the listener's too
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                        (name,))
            assert cur.fetchone()[0] >= 1
        admin.close()
        await pilot.press("L")
        await settle(pilot)
        assert Ticket.get_by_id(card.id).state == "ready", toasts(pilot.app)
        await pilot.press("L")  # and the board goes on saving
        await settle(pilot)
        assert Ticket.get_by_id(card.id).state == "in_progress", toasts(pilot.app)
