"""Live boards: a change committed by one session reaches a listener within a second."""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.service import Refused, Service
from data.db import open_database
from data.live import Change, ChangeListener, channel_name
from data.models import database_proxy

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("config.yaml")


def collect(inbox: queue.Queue, until, timeout: float = 1.0) -> list[Change]:
    """Changes received until `until(changes)` holds, within `timeout` seconds."""
    seen: list[Change] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.extend(inbox.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
        if until(seen):
            return seen
    raise AssertionError(f"not received within {timeout}s: got {seen}")


def heard(seen: list[Change], ticket_id: int, version: int) -> bool:
    """Whether the change of this ticket to this version is among `seen` (whatever columns it names)."""
    return any((change.ticket_id, change.version) == (ticket_id, version) for change in seen)


def quiet(inbox: queue.Queue, wait: float = 0.6) -> list[Change]:
    time.sleep(wait)
    got = []
    while not inbox.empty():
        got.extend(inbox.get_nowait())
    return got


@pytest.fixture
def inbox(db_url, db):
    received: queue.Queue = queue.Queue()
    with ChangeListener(db_url, interval=0.1).start(received.put) as listener:
        assert listener.running
        yield received


def test_a_move_reaches_the_listener_with_id_and_version(service, make_tickets, inbox):
    ticket = make_tickets(1)[0]
    collect(inbox, lambda seen: heard(seen, ticket.id, 1))
    moved = service.move(ticket.key, "ready", by="bob").ticket
    collect(inbox, lambda seen: heard(seen, ticket.id, moved.version))


def test_a_refused_write_signals_nothing(service, make_tickets, inbox):
    ticket = make_tickets(1)[0]
    collect(inbox, lambda seen: heard(seen, ticket.id, 1))
    quiet(inbox)
    with pytest.raises(Refused):
        service.move(ticket.key, "resolved")  # not allowed from To Do: the transaction rolls back
    assert quiet(inbox) == []


def test_a_change_from_another_process_arrives_within_a_second(db_url, service, make_tickets, inbox):
    ticket = make_tickets(1)[0]
    collect(inbox, lambda seen: heard(seen, ticket.id, 1))
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "app", "--config", str(CONFIG), "--db", db_url,
                    "move", ticket.key, "ready", "--by", "bob"],
                   check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    command_done = time.monotonic()
    collect(inbox, lambda seen: heard(seen, ticket.id, 2), timeout=1.0)
    assert time.monotonic() - command_done < 1.0, f"took {time.monotonic() - started:.2f}s including the command"


def test_bulk_import_asks_for_a_full_reload(service, inbox, db_backend):
    rows = [{"key": f"SET-{n}", "number": n, "title": f"t{n}", "state": "todo", "rank": float(n),
             "sort_key": 0, "created": service.clock(), "updated": service.clock(),
             "state_entered": service.clock()} for n in range(1, 4)]
    service.bulk_insert(rows)
    if db_backend == "postgres":
        assert collect(inbox, bool) == [Change(None)]
    else:  # SQLite's poll finds the rows themselves
        collect(inbox, lambda seen: {c.ticket_id for c in seen} >= {1, 2, 3})


def test_listeners_on_other_boards_hear_nothing(db_url, db_backend, service, make_tickets, inbox, pg_schemas,
                                                team_config, tmp_path):
    """Another board (another schema, or another file) does not disturb this one."""
    make_tickets(1)
    collect(inbox, bool)
    quiet(inbox)
    if db_backend == "postgres":
        schema, other = pg_schemas.create()
    else:
        schema, other = None, f"sqlite:///{tmp_path / 'other.db'}"
    try:
        open_database(other)
        Service(team_config).create(title="elsewhere")
        database_proxy.obj.close()
        assert quiet(inbox) == []
    finally:
        if schema:
            pg_schemas.drop(schema)


def test_payloads_and_channels():
    assert Change.parse("12:3") == Change(12, 3)
    assert Change.parse("*").everything
    assert channel_name("public") == "triageboard"
    assert channel_name("tb_x") == "triageboard_tb_x"
    assert len(channel_name("s" * 100)) == 63


def test_a_failing_callback_does_not_stop_the_listener(db_url, service, make_tickets):
    calls: list[list[Change]] = []

    def flaky(changes: list[Change]) -> None:
        calls.append(changes)
        if len(calls) == 1:
            raise RuntimeError("subscriber bug")

    with ChangeListener(db_url, interval=0.1).start(flaky):
        ticket = make_tickets(1)[0]
        deadline = time.monotonic() + 1
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
        service.move(ticket.key, "ready")
        deadline = time.monotonic() + 1
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(calls) >= 2


def test_a_commit_between_the_listeners_two_reads_is_still_delivered(service, make_tickets, inbox, monkeypatch):
    """SQLite polling reads the changed rows, then the new marks: a commit between them must not be skipped."""
    from data import live

    first, second = make_tickets(2)
    collect(inbox, lambda seen: heard(seen, second.id, 1))
    landed: list = []

    def commit_meanwhile() -> None:  # runs on the listener's thread, once
        if not landed:
            landed.append(service.move(second.key, "ready", by="bob").ticket)

    monkeypatch.setattr(live, "between_reads", commit_meanwhile)
    service.move(first.key, "ready", by="bob")  # wakes the poll, whose two reads straddle the other commit
    collect(inbox, lambda seen: any(c.ticket_id == first.id for c in seen))
    if landed:  # SQLite: the hook ran; PostgreSQL announces each commit instead
        seen = collect(inbox, lambda seen: heard(seen, second.id, landed[0].version), timeout=2.0)
        assert Change(None) not in seen  # delivered as itself, not by a reconnect's full reload
    else:
        moved = service.move(second.key, "ready", by="bob").ticket
        collect(inbox, lambda seen: heard(seen, second.id, moved.version))
