"""Fixtures for notifications: a real SMTP server started and stopped per test, a controlled clock.

The helpers live in `notify_support` (a name no other test folder uses), so
test modules import them without depending on which `conftest` Python saw first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.service import Service
from data.db import open_database
from notify_support import Clock, MailServer, make_service


@pytest.fixture
def mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stopped_server():
    """A server that is down until the test starts it."""
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'notify.db'}"
    db = open_database(url)
    yield url
    db.close()


@pytest.fixture
def service(tmp_path: Path, mail_server: MailServer, db_url: str, clock: Clock) -> Service:
    return make_service(tmp_path, mail_server, db_url, clock)
