"""Fixtures for on-call tests: a controlled clock at Monday 10:00 (`config`, `db`, the CLI from tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.service import Service
from tests.clock import Clock


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 16, 10, 0))


@pytest.fixture
def service(config, db, clock):
    return Service(config, clock=clock)
