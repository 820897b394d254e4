"""A full disk or a read-only database is said in one line, nothing is half-saved, and reads still work (22.6).

Real failures, not mocks: SQLite's `max_page_count` makes the file full, `query_only`
and a `mode=ro` connection make it read-only; PostgreSQL's
`default_transaction_read_only` refuses every write as a read-only role would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.service import Refused
from data.models import Ticket
from tests.core.conftest import triaged


def test_a_full_disk_says_disk_full_saves_nothing_and_the_next_write_works(service, db, db_backend):
    if db_backend == "postgres":
        pytest.skip("max_page_count is SQLite's; PostgreSQL's full disk is matched by its message")
    key = triaged(service)
    before = Ticket.select().count()
    pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
    db.execute_sql(f"PRAGMA max_page_count = {pages}")  # the file may not grow: as a full disk
    with pytest.raises(Refused) as refused:
        for _ in range(100):
            service.create(title="x" * 20_000, requester_email="req@example.org", by="alice")
    assert str(refused.value) == "not saved: disk full"  # not "cannot rollback - no transaction is active"
    assert Ticket.select().count() < before + 100
    saved = Ticket.select().count()
    db.execute_sql(f"PRAGMA max_page_count = {pages * 100}")  # room again: the same connection writes
    service.move(key, "ready", by="alice")
    assert Ticket.get(Ticket.key == key).state == "ready"
    assert Ticket.select().count() == saved


def read_only(db, db_backend: str, on: bool) -> None:
    if db_backend == "postgres":
        db.execute_sql(f"SET default_transaction_read_only = {'on' if on else 'off'}")
    else:
        db.execute_sql(f"PRAGMA query_only = {1 if on else 0}")


def test_a_read_only_database_says_so_and_reads_still_work(service, db, db_backend):
    key = triaged(service)
    read_only(db, db_backend, True)
    with pytest.raises(Refused) as refused:
        service.move(key, "ready", by="alice")
    assert str(refused.value) == "not saved: database is read-only"
    with pytest.raises(Refused, match="database is read-only"):
        service.create(title="New", requester_email="req@example.org", by="alice")
    assert Ticket.get(Ticket.key == key).state == "todo"  # reads work
    read_only(db, db_backend, False)
    service.move(key, "ready", by="alice")
    assert Ticket.get(Ticket.key == key).state == "ready"


def filled(run_cli, db: str) -> None:
    result = run_cli("ticket", "add", "Login loops", "--requester", "r@example.org", "--by", "alice", db=db)
    assert result.returncode == 0, result


def assert_reads_work_and_writes_say_read_only(run_cli, db: str) -> None:
    for command in (["ticket", "list"], ["oncall"], ["report"]):
        result = run_cli(*command, db=db)
        assert result.returncode == 0 and result.stderr == "", (command, result)
    assert "Login loops" in run_cli("ticket", "list", db=db).stdout
    result = run_cli("move", "SET-1", "closed", "--by", "alice", db=db)
    assert (result.returncode, result.stderr) == (1, "triageboard: not saved: database is read-only\n")


def test_a_read_only_url_reads_and_refuses_writes_in_one_line(tmp_path, run_cli):
    path = tmp_path / "board.db"
    filled(run_cli, f"sqlite:///{path}")
    assert_reads_work_and_writes_say_read_only(run_cli, f"sqlite:///{path}?mode=ro")


def test_a_database_in_a_read_only_directory_can_be_read(tmp_path, run_cli):
    source, mounted = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    mounted.mkdir()
    filled(run_cli, f"sqlite:///{source / 'board.db'}")
    try:
        subprocess.run(["mount", "--bind", str(source), str(mounted)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no bind mount here (needs root): a read-only directory cannot be made for root otherwise")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mounted)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only")
        assert_reads_work_and_writes_say_read_only(run_cli, f"sqlite:///{mounted / 'board.db'}")
    finally:
        subprocess.run(["umount", str(mounted)], capture_output=True)
