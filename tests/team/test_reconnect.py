"""A PostgreSQL session that went away is reconnected once; if the server stays away, the write says so."""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from peewee import OperationalError
from playhouse.db_url import parse

from app.service import DatabaseUnavailable
from data.db import open_database
from data.models import Ticket
from tests.conftest import pg_admin_url


def terminate(name: str) -> int:
    admin = psycopg2.connect(**parse(pg_admin_url()))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                    (name,))
        count = cur.fetchone()[0]
    admin.close()
    return count


def test_a_write_after_the_session_was_terminated_reconnects_or_says_so(db, db_url, db_backend, service,
                                                                       make_tickets, monkeypatch):
    if db_backend != "postgres":
        pytest.skip("an SQLite file has no server session to lose")
    make_tickets(2)
    db.close()
    name = f"svc_{uuid.uuid4().hex[:12]}"
    database = open_database(f"{db_url}&application_name={name}", migrate=False)
    assert terminate(name) == 1
    assert service.move("SET-1", "ready", by="alice").ticket.state == "ready"  # reconnected, saved
    assert terminate(name) == 1

    def refused(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(database, "connect", refused)
    with pytest.raises(DatabaseUnavailable, match="could not reconnect: could not connect to server"):
        service.move("SET-2", "ready", by="alice")
    monkeypatch.undo()
    database.close()
    database.connect()
    assert Ticket.get(Ticket.key == "SET-2").state == "todo"
