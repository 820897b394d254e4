"""Fixtures for the response targets wired to the database: the repo's config (England, Mon-Fri 09:00-17:00).

`db` and `db_url` come from tests/conftest.py (the run's backend); `clock.set` takes London wall time.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import load_config
from app.service import Service
from tests.clock import Clock

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config():
    return load_config(ROOT / "config.yaml")


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 16, 9, 0))


@pytest.fixture
def service(config, db, clock):
    return Service(config, clock=clock)


@pytest.fixture
def run_cli(tmp_path, db_url):
    """`triageboard` as a subprocess; `now` (ISO) stops its clock through TRIAGEBOARD_NOW."""

    def run(*args: str, now: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "tester"}
        env.pop("TRIAGEBOARD_NOW", None)
        if now:
            env["TRIAGEBOARD_NOW"] = now
        command = [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"),
                   "--db", db_url, *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    return run
