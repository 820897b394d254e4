"""Fixtures for the board's core: a clock and a triaged ticket (`config`, `db`, `run_cli` from tests/conftest.py)."""

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


def triaged(service: Service, **fields) -> str:
    """A ticket that has passed triage, so it may leave To Do for Ready."""
    from data.models import Ticket

    ticket = service.create(title=fields.pop("title", "Checkout fails"), requester_email="req@example.org",
                            by="alice", **fields)
    Ticket.update(actionable="yes", priority=2, acknowledged=True).where(Ticket.id == ticket.id).execute()
    return ticket.key
