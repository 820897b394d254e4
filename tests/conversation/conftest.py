"""Fixtures for the conversation (issue 15): the repo's config, a controlled clock, a ticket with a requester.

`config`, `db`, `db_url` and `run_cli` come from tests/conftest.py; every test runs on the run's backend.
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
def ticket(service):
    return service.create(title="Hub will not start", requester_email="rita@customer.example",
                          requester_name="Rita Reyes", by="alice", description="Spawn times out since 08:00.")
