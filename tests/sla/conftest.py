"""Fixtures for the response targets wired to the database: the repo's config (England, Mon-Fri 09:00-17:00).

`config`, `db`, `db_url` and `run_cli` come from tests/conftest.py; `clock.set` takes London wall time.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.service import Service
from tests.clock import Clock


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 16, 9, 0))


@pytest.fixture
def service(config, db, clock):
    return Service(config, clock=clock)
