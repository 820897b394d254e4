"""Fixtures for the cycle report: the repo's config and a database holding `report_history`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config.settings import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def report_config():
    return load_config(ROOT / "config.yaml")


@pytest.fixture
def report_db(db_url) -> str:
    """A fresh database of the run's backend (tests/conftest.py); the tests fill it through the CLI or the service."""
    return db_url


@pytest.fixture
def triageboard(tmp_path, report_db):
    """Run `triageboard` as a subprocess, as a script would."""

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "alice"}
        env.pop("TRIAGEBOARD_NOW", None)
        command = [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", report_db, *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    return run
