"""Fixtures for the board's core: the repo's config, a clock, the CLI (`db` comes from tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import load_config
from app.service import Service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config():
    return load_config(ROOT / "config.yaml")


class Clock:
    """A controlled clock: tests move time by hand."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


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


@pytest.fixture
def run_cli(tmp_path, db_url):
    """Run `triageboard` as a subprocess, as a script would, on the run's backend (`db_url`)."""

    def run(*args: str, config: Path | None = None, stdin: str | None = None,
            db: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "tester"}
        command = [sys.executable, "-m", "app", "--config", str(config or ROOT / "config.yaml"),
                   "--db", db or db_url, *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, input=stdin, cwd=tmp_path,
                              timeout=60)

    return run
