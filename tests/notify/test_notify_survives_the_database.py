"""`notify --interval` keeps running through a locked SQLite file and a terminated PostgreSQL backend."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import psycopg2
import pytest

from data.models import Notification, utcnow

from notify_support import REPO, MailServer, make_service


def start_notifier(config, db_url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "--config", str(config), "--db", db_url,
                             "notify", "--interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def queue_mail(name: str, *, in_seconds: float = 0.0) -> None:
    due = utcnow() + dt.timedelta(seconds=in_seconds)
    Notification.create(kind="status", recipient="rita@customer.example", subject=name, body="b",
                        message_id=f"<{name}@example.org>", next_attempt=due)


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop(process: subprocess.Popen) -> tuple[str, str]:
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    return out.decode(), err.decode()


def test_a_locked_sqlite_file_does_not_stop_the_notifier(tmp_path, mail_server: MailServer, sqlite_url: str,
                                                         db_backend: str):
    if db_backend != "sqlite":
        pytest.skip("an SQLite lock")
    make_service(tmp_path, mail_server, sqlite_url, utcnow)
    process = start_notifier(tmp_path / "config.yaml", sqlite_url)
    importer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        queue_mail("before-the-import", in_seconds=0.5)
        importer.execute("BEGIN EXCLUSIVE")  # a large import, holding the write lock past the busy timeout
        time.sleep(6.5)
        assert process.poll() is None, stop(process)
        importer.execute("COMMIT")
        assert wait_for(lambda: len(mail_server.inbox) == 1, 15), stop(process)
        queue_mail("after-the-import")
        assert wait_for(lambda: len(mail_server.inbox) == 2, 10), stop(process)
    finally:
        importer.close()
        out, err = stop(process)
    assert process.returncode == 0, err
    assert err.count("database is locked") == 1, err  # one line for the problem, not one per retry
    assert "the database answers again" in err and "Traceback" not in err
    assert [r.message["Subject"] for r in mail_server.inbox] == ["before-the-import", "after-the-import"]


def test_a_terminated_postgresql_backend_does_not_stop_the_notifier(tmp_path, mail_server: MailServer, pg_url: str):
    name = f"tb_notifier_{uuid.uuid4().hex[:8]}"
    make_service(tmp_path, mail_server, pg_url, utcnow)
    process = start_notifier(tmp_path / "config.yaml", f"{pg_url}&application_name={name}")
    admin = psycopg2.connect(pg_url.split("?")[0])
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            def backends() -> int:  # that have run a round (not still opening the database at start-up)
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                            "AND query ILIKE %s", (name, "%FROM \"notification\"%"))
                return cur.fetchone()[0]

            assert wait_for(lambda: backends() > 0, 20), stop(process)
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                        (name,))
        time.sleep(0.5)
        assert process.poll() is None, stop(process)
        queue_mail("after-the-restart")
        assert wait_for(lambda: len(mail_server.inbox) == 1, 15), stop(process)
    finally:
        admin.close()
        out, err = stop(process)
    assert process.returncode == 0, err
    # The PostgreSQL connection reconnects by itself (data.db), so the loop may never see the error;
    # either way the notifier runs on, says nothing alarming, and delivers.
    assert "Traceback" not in err and "OperationalError" not in err.replace("database error: OperationalError", "")
    assert [r.message["Subject"] for r in mail_server.inbox] == ["after-the-restart"]
