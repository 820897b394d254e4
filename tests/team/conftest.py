"""Team mode: a WIP-free configuration and ready-triaged tickets."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.settings import Config, load_config
from app.service import Service

CONFIG = Path(__file__).with_name("config.yaml")
TRIAGED = {"actionable": "yes", "acknowledged": True, "priority": 3, "impact": "medium", "urgency": "normal"}
"""Triage answers that pass the To Do -> Ready gate."""


@pytest.fixture(scope="session")
def team_config() -> Config:
    return load_config(CONFIG)


@pytest.fixture
def service(db, team_config: Config) -> Service:
    return Service(team_config)


@pytest.fixture
def make_tickets(service: Service):
    """`make_tickets(n)`: n triaged tickets in To Do, SET-1 … SET-n."""

    def make(count: int, **fields) -> list:
        return [service.create(title=f"ticket {n}", requester_email=f"r{n}@example.org", by="alice",
                               **{**TRIAGED, **fields}) for n in range(1, count + 1)]

    return make
