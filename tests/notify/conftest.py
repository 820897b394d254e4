"""Fixtures for notifications: a real SMTP server started and stopped per test, a controlled clock.

The helpers live in `notify_support` (a name no other test folder uses), so
test modules import them without depending on which `conftest` Python saw first.
`db_url` comes from tests/conftest.py (the run's backend); `make_service` opens and migrates it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.service import Service
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
def service(tmp_path: Path, mail_server: MailServer, db_url: str, clock: Clock) -> Service:
    return make_service(tmp_path, mail_server, db_url, clock)
