"""WIP limits under concurrency: 8 processes move 16 Ready cards into In Progress (limit 5) at once.

Each move counts the target column and locks only its own card, so on
PostgreSQL two moves could both see the last free place and both commit
(write skew: 6 to 10 cards ended in In Progress). The service serialises the
moves into a limited column; SQLite's BEGIN IMMEDIATE serialises every writer.
One set of worker processes serves all rounds (tests/team/stress_worker.py wip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.models import Ticket
from tests.team.test_stress import CONFIG, ROOT, WORKER

PROCESSES, LIMIT = 8, 5


def wip_config(tmp_path: Path, policy: str) -> Path:
    text = CONFIG.read_text().replace("support_status: In Progress}",
                                      f"support_status: In Progress, wip_limit: {LIMIT}}}")
    path = tmp_path / f"wip-{policy}.yaml"
    path.write_text(text.replace("  triage_gate: [ready]", f"  triage_gate: [ready]\n  wip_policy: {policy}"))
    return path


def race(db, db_url, service, make_tickets, tmp_path, policy: str, rounds: int) -> tuple[list[int], list[dict]]:
    """Run `rounds` rounds; the In Progress count after each and every worker's report."""
    for ticket in make_tickets(2 * PROCESSES):
        service.move(ticket.key, "ready", by="alice")
    config = wip_config(tmp_path, policy)
    folder = tmp_path / "rounds"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, str(WORKER), "wip", db_url, str(config), str(n), str(rounds),
                                 "in_progress", str(folder)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for n in range(PROCESSES)]
    counts, reports = [], []
    try:
        for number in range(rounds):
            (folder / f"go-{number}").touch()
            deadline = time.monotonic() + 60
            while sum((folder / f"done-{number}-{w}").exists() for w in range(PROCESSES)) < PROCESSES:
                assert time.monotonic() < deadline, f"round {number} did not finish"
                assert all(p.poll() in (None, 0) for p in workers), "a worker died"
                time.sleep(0.005)
            counts.append(Ticket.select().where(Ticket.state == "in_progress").count())
            # Back to Ready for the next round (the version moves on, as a move's would).
            Ticket.update(state="ready", version=Ticket.version + 1).where(Ticket.state == "in_progress").execute()
        for proc in workers:
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            reports.append(json.loads(out))
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    errors = [e for r in reports for e in r["errors"]]
    assert not errors, errors[0]
    return counts, reports


def test_the_wip_limit_holds_when_eight_boards_move_at_once(db, db_url, db_backend, service, make_tickets,
                                                            tmp_path, record_property):
    started = time.monotonic()
    counts, reports = race(db, db_url, service, make_tickets, tmp_path, "refuse", rounds=20)
    figures = f"{db_backend}: In Progress after 20 rounds of 16 moves: max {max(counts)}, counts {counts}, " \
              f"{time.monotonic() - started:.1f}s"
    record_property("wip_race", figures)
    print(figures)
    assert max(counts) <= LIMIT, figures
    assert counts == [LIMIT] * 20, figures  # and the free places were all taken
    refusals = [o for r in reports for outcome in r["rounds"] for o in outcome if o[1] == "refused"]
    assert len(refusals) == 20 * (2 * PROCESSES - LIMIT)
    assert all("WIP limit (5/5)" in o[2] for o in refusals), refusals[:2]


def test_under_wip_policy_warn_every_move_past_the_limit_is_warned(db, db_url, service, make_tickets, tmp_path):
    counts, reports = race(db, db_url, service, make_tickets, tmp_path, "warn", rounds=3)
    assert counts == [2 * PROCESSES] * 3  # warn allows them all
    for number in range(3):
        warned = [o for r in reports for o in r["rounds"][number] if o[1] == "moved" and len(o) > 2]
        assert len(warned) == 2 * PROCESSES - LIMIT, (number, warned)  # each counted the moves before it
