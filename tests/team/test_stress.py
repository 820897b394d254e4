"""Stress: 8 processes x 200 random allowed moves on 50 tickets, on the run's backend.

Every accepted move must have exactly one history row, each ticket's final
state must equal the replay of its history, and no process may see an
unhandled error: SQLite's busy is retried inside the service, and a stale
version is refused with `Conflict`, which counts as a legitimate refusal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from data.models import History, Ticket

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("stress_worker.py")
CONFIG = Path(__file__).with_name("config.yaml")
PROCESSES, MOVES, TICKETS = 8, 200, 50
TIME_LIMIT = 120  # seconds for all processes together; ~10-20 s is usual on 2 cores


def test_concurrent_random_moves_lose_nothing(db, db_url, db_backend, make_tickets, tmp_path, record_property):
    make_tickets(TICKETS)
    db.close()  # the workers own the database now
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, str(WORKER), db_url, str(CONFIG), str(n), str(MOVES),
                                 str(TICKETS), str(1000 + n), str(go)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for n in range(PROCESSES)]
    started = time.monotonic()
    go.touch()
    reports = []
    try:
        for proc in workers:
            out, err = proc.communicate(timeout=max(1.0, TIME_LIMIT - (time.monotonic() - started)))
            assert proc.returncode == 0, f"worker exited {proc.returncode}: {err}"
            reports.append(json.loads(out))
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    elapsed = time.monotonic() - started

    errors = [e for r in reports for e in r["errors"]]
    refused = [e for r in reports for e in r["refused"]]
    assert not errors, errors[0]
    assert not refused, refused[:3]  # every move was allowed when chosen: only conflicts may refuse it
    accepted = [move for r in reports for move in r["accepted"]]
    conflicts = sum(r["conflicts"] for r in reports)
    assert len(accepted) + conflicts == PROCESSES * MOVES
    assert len(accepted) > PROCESSES * MOVES // 3, "suspiciously few moves went through"

    # Every accepted move has exactly one history row, and nothing else was written.
    db.connect(reuse_if_open=True)
    rows = {h.id: h for h in History.select().where(History.kind == "move")}
    assert sorted(rows) == sorted(m[1] for m in accepted)
    for key, history_id, from_state, to_state, _version in accepted:
        h = rows[history_id]
        assert (h.ticket.key, h.from_state, h.to_state) == (key, from_state, to_state)

    # The final state of each ticket is the replay of its history.
    by_ticket: dict[int, list[History]] = defaultdict(list)
    for h in sorted(rows.values(), key=lambda h: h.id):
        by_ticket[h.ticket_id].append(h)
    for ticket in Ticket.select():
        state, hold = "todo", None
        for h in by_ticket[ticket.id]:
            assert h.from_state == state, f"{ticket.key}: history {h.id} starts from {h.from_state}, not {state}"
            state, hold = h.to_state, h.hold_reason
        assert (ticket.state, ticket.hold_reason) == (state, hold), ticket.key
        assert ticket.version == 1 + len(by_ticket[ticket.id]), ticket.key

    figures = (f"{db_backend}: {PROCESSES}x{MOVES} moves on {TICKETS} tickets in {elapsed:.1f}s: "
               f"{len(accepted)} accepted, {conflicts} conflicts, 0 errors")
    record_property("stress", figures)
    print(figures)
    assert elapsed < TIME_LIMIT
