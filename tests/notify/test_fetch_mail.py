"""`triageboard fetch-mail` against a real IMAP server (dovecot, started per test) over verified TLS (issue 15.7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.cli.fetchmail import fetch_once
from app.notify.imap import Mailbox
from data.models import History, Ticket

from dovecot_support import DOVECOT, PASSWORD, Dovecot, self_signed
from intake_support import INTAKE, intake_service, new_mail
from notify_support import REPO, Clock, MailServer, run_cli

pytestmark = pytest.mark.skipif(not DOVECOT.exists(), reason="needs Debian's dovecot-imapd (/usr/sbin/dovecot); "
                                                             ".ci/run installs it")
ENV = {"TEST_IMAP_PASSWORD": PASSWORD}


@pytest.fixture
def dovecot():
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def service(tmp_path: Path, mail_server: MailServer, db_url: str, clock: Clock, dovecot: Dovecot):
    return intake_service(tmp_path, mail_server, db_url, clock, intake=INTAKE + dovecot.imap_config())


def fetch(service, db_url: str, *args: str, env: dict | None = None):
    done = run_cli(service.config.path, db_url, "fetch-mail", *args, env={**ENV, **(env or {})})
    assert "Traceback" not in done.stderr.decode(), done.stderr.decode()
    return done


def test_a_mail_in_the_inbox_becomes_a_ticket_and_is_moved_to_processed(service, db_url: str, dovecot: Dovecot):
    dovecot.append(bytes(new_mail()))
    done = fetch(service, db_url, "--once")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == [
        "SET-1: new ticket in To Do from rita@customer.example; acknowledgement to rita@customer.example queued",
        "fetch-mail: 1 recorded, 0 already recorded, 0 kept in quarantine, 0 left in the folder"]
    assert Ticket.get(Ticket.key == "SET-1").title == "Certificates not issued"
    assert (dovecot.count("INBOX"), dovecot.count("Processed")) == (0, 1)
    again = fetch(service, db_url, "--once")
    assert "0 recorded, 0 already recorded" in again.stdout.decode()
    assert Ticket.select().count() == 1


def test_a_crash_after_recording_and_before_moving_duplicates_nothing(service, db_url: str, dovecot: Dovecot,
                                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    dovecot.append(bytes(new_mail()))
    anonymous = new_mail("No Message-ID here", subject="Second problem", message_id="")
    del anonymous["Message-ID"]
    dovecot.append(bytes(anonymous))

    def crash(item) -> None:
        if b"Second problem" in item.raw:
            raise RuntimeError("the process died here")

    runtime = SimpleNamespace(config=service.config, service=service)
    with pytest.raises(RuntimeError), Mailbox(service.config.intake.imap) as box:
        fetch_once(runtime, box, on_recorded=crash)
    assert Ticket.select().count() == 2
    assert (dovecot.count("INBOX"), dovecot.count("Processed")) == (1, 1)  # recorded, not moved
    done = fetch(service, db_url, "--once")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[-1] == (
        "fetch-mail: 0 recorded, 1 already recorded, 0 kept in quarantine, 0 left in the folder")
    assert Ticket.select().count() == 2
    assert History.select().where(History.kind == "create").count() == 2
    assert (dovecot.count("INBOX"), dovecot.count("Processed")) == (0, 2)


def test_idle_picks_up_a_mail_appended_while_waiting(service, db_url: str, dovecot: Dovecot):
    process = subprocess.Popen([sys.executable, "-m", "app", "--config", str(service.config.path), "--db", db_url,
                                "fetch-mail", "--interval", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(REPO), **ENV})
    try:
        line = process.stderr.readline().decode()
        assert "fetch-mail: watching support@127.0.0.1" in line and "(IDLE)" in line, line
        time.sleep(0.5)  # into IDLE
        dovecot.append(bytes(new_mail(subject="Arrived while idling")))
        deadline = time.monotonic() + 20  # far less than --interval: only IDLE can have woken it
        while time.monotonic() < deadline and not Ticket.select().where(Ticket.title == "Arrived while idling").exists():
            time.sleep(0.2)
        assert Ticket.select().where(Ticket.title == "Arrived while idling").exists()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and dovecot.count("Processed") != 1:
            time.sleep(0.2)
        assert (dovecot.count("INBOX"), dovecot.count("Processed")) == (0, 1)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "fetch-mail: stopped" in err.decode() and "Traceback" not in err.decode()


def test_an_untrusted_certificate_is_refused_in_one_line(tmp_path: Path, mail_server: MailServer, db_url: str,
                                                        clock: Clock, dovecot: Dovecot):
    other = tmp_path / "other"
    other.mkdir()
    wrong = self_signed(other)
    service = intake_service(tmp_path, mail_server, db_url, clock,
                             intake=INTAKE + dovecot.imap_config().replace(str(dovecot.ca_file), str(wrong)))
    dovecot.append(bytes(new_mail()))
    done = fetch(service, db_url, "--once")
    assert done.returncode == 1
    assert "the server's certificate is not trusted" in done.stderr.decode()
    assert len(done.stderr.decode().strip().splitlines()) == 1
    assert Ticket.select().count() == 0 and dovecot.count("INBOX") == 1


def test_a_missing_password_variable_or_imap_section_is_a_configuration_error(
        tmp_path: Path, mail_server: MailServer, db_url: str, clock: Clock, dovecot: Dovecot):
    service = intake_service(tmp_path, mail_server, db_url, clock, intake=INTAKE + dovecot.imap_config())
    os_env = {k: v for k, v in os.environ.items() if k != "TEST_IMAP_PASSWORD"}
    done = subprocess.run([sys.executable, "-m", "app", "--config", str(service.config.path), "--db", db_url,
                           "fetch-mail", "--once"], capture_output=True, env={**os_env, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2
    assert "intake.imap.password_env: environment variable TEST_IMAP_PASSWORD is not set" in done.stderr.decode()
    plain = intake_service(tmp_path, mail_server, db_url, clock)
    done = run_cli(plain.config.path, db_url, "fetch-mail", "--once", env=ENV)
    assert done.returncode == 2 and "fetch-mail needs intake.imap" in done.stderr.decode()


def test_an_unreadable_message_is_quarantined_and_moved(service, db_url: str, dovecot: Dovecot, tmp_path: Path):
    dovecot.append(b"\x00\x01 not a mail\r\n\r\nat all")
    done = fetch(service, db_url, "--once")
    assert done.returncode == 0, done.stderr
    assert "0 recorded, 0 already recorded, 1 kept in quarantine" in done.stdout.decode()
    [kept] = (tmp_path / "quarantine").iterdir()
    assert b"not a mail" in kept.read_bytes()
    assert (dovecot.count("INBOX"), dovecot.count("Processed")) == (0, 1)
