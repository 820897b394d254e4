"""Fixtures for on-call tests: the repo's config, a controlled clock, the CLI (`db`/`db_url` from tests/conftest.py)."""

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
    return Clock(dt.datetime(2026, 11, 16, 10, 0))


@pytest.fixture
def service(config, db, clock):
    return Service(config, clock=clock)


@pytest.fixture
def cli_env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "tester"}


@pytest.fixture
def cli_command(db_url):
    def command(*args: str) -> list[str]:
        return [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db_url, *args]
    return command


@pytest.fixture
def run_cli(tmp_path, cli_command, cli_env):
    """Run `triageboard` as a subprocess, as a script would; `now=` sets TRIAGEBOARD_NOW."""

    def run(*args: str, now: str | None = None) -> subprocess.CompletedProcess:
        env = {**cli_env, "TRIAGEBOARD_NOW": now} if now else cli_env
        return subprocess.run(cli_command(*args), capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=60)

    return run
