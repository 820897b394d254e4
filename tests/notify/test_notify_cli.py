"""`triageboard notify` and `triageboard inbound` as scripts and mail aliases run them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import os
import time
from email.message import EmailMessage
from pathlib import Path

from app.service import Service
from data.models import History, Notification, Ticket

from notify_support import REPO, Clock, MailServer, make_service, run_cli, write_config


def pending_ticket(service: Service) -> Ticket:
    ticket = service.create(title="Certificates not issued", requester_email="rita@customer.example",
                            requester_name="Rita Reyes", assignee="bob", state="in_progress", by="alice")
    service.move(ticket.key, "on_hold", hold_reason="requester", by="bob", reason="which course run?")
    return ticket


def reply_to(original: EmailMessage, text: str, *, subject: str | None = None, sender: str = "rita@customer.example",
             message_id: str = "<reply-1@customer.example>") -> bytes:
    reply = EmailMessage()
    reply["From"] = f"Rita Reyes <{sender}>"
    reply["To"] = "support@example.org"
    reply["Subject"] = subject if subject is not None else f"Re: {original['Subject']}"
    reply["Message-ID"] = message_id
    if original is not None:
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = f"{original['References']} {original['Message-ID']}"
    reply.set_content(text)
    return bytes(reply)


def test_notify_once_delivers_and_summarises(tmp_path: Path, service: Service, mail_server: MailServer,
                                             db_url: str):
    pending_ticket(service)
    done = run_cli(service.config.path, db_url, "notify", "--once")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "notify: sent 1, retrying 0, failed 0; 0 pending, 0 failed in all"
    assert [r.message["Subject"] for r in mail_server.inbox] == ["[SET-1] Your request is now Pending"]


def test_notify_once_with_the_server_down_exits_0_and_says_what_waits(tmp_path: Path, stopped_server: MailServer,
                                                                       db_url: str, clock: Clock):
    service = make_service(tmp_path, stopped_server, db_url, clock)
    pending_ticket(service)
    Notification.update(next_attempt=Notification.created).execute()
    done = run_cli(service.config.path, db_url, "notify", "--once")
    assert done.returncode == 0
    assert "sent 0, retrying 1, failed 0" in done.stdout.decode()
    assert "will retry: SET-1 status to rita@customer.example: cannot reach" in done.stderr.decode()


def test_status_and_retry_failed(tmp_path: Path, service: Service, db_url: str):
    pending_ticket(service)
    Notification.update(status="failed", attempts=3, last_error="550 no such user").execute()
    status = run_cli(service.config.path, db_url, "notify", "--status", "--json")
    data = json.loads(status.stdout)
    assert (data["pending"], data["failed"], data["sent"]) == (0, 1, 0)
    assert data["failures"][0]["last_error"] == "550 no such user"
    assert run_cli(service.config.path, db_url, "notify", "--status").stdout.decode().startswith(
        "pending 0, failed 1, sent 0")
    requeued = run_cli(service.config.path, db_url, "notify", "--retry-failed")
    assert requeued.stdout.decode().strip() == "requeued 1 failed message"
    row = Notification.get()
    assert (row.status, row.attempts) == ("pending", 0)


def test_reply_round_trip_reopens_a_pending_ticket_and_tells_the_assignee(service: Service,
                                                                          mail_server: MailServer, db_url: str):
    ticket = pending_ticket(service)
    first_response = Ticket.get_by_id(ticket.id).first_response
    last_update = Ticket.get_by_id(ticket.id).last_requester_update
    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    status_mail = mail_server.inbox[0].message

    done = run_cli(service.config.path, db_url, "inbound",
                   stdin=reply_to(status_mail, "It is the 2026 spring run.\n\n> quoted text"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "SET-1: reply from rita@customer.example recorded; Pending -> In Progress; bob@example.org notified")

    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.state == "in_progress" and fresh.hold_reason is None
    assert (fresh.first_response, fresh.last_requester_update) == (first_response, last_update)  # no faked SLA
    move, comment = list(History.select().where(History.ticket == ticket).order_by(History.id))[-2:]
    assert (move.kind, move.reason, move.by) == ("move", "requester replied", "rita@customer.example")
    assert comment.kind == "comment" and comment.by == "rita@customer.example"
    detail = json.loads(comment.detail)
    assert detail["from"] == "rita@customer.example"
    assert detail["message_id"] == "<reply-1@customer.example>"
    assert detail["subject"] == "Re: [SET-1] Your request is now Pending"
    assert detail["body"].startswith("It is the 2026 spring run.")

    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    to_bob = [r for r in mail_server.inbox if r.rcpt_tos == ["bob@example.org"]]
    assert len(to_bob) == 1
    assert to_bob[0].message["Subject"] == "[SET-1] Rita Reyes replied: Certificates not issued"
    assert "From: Rita Reyes <rita@customer.example>" in to_bob[0].message.get_body(("plain",)).get_content()
    assert "It is the 2026 spring run." in to_bob[0].message.get_body(("plain",)).get_content()
    to_rita = [r.message["Subject"] for r in mail_server.inbox if r.rcpt_tos == ["rita@customer.example"]]
    assert to_rita == ["[SET-1] Your request is now Pending", "[SET-1] Your request is now In Progress"]

    again = run_cli(service.config.path, db_url, "inbound", stdin=reply_to(status_mail, "It is the 2026 spring run."))
    assert again.returncode == 0 and "already recorded" in again.stdout.decode()
    assert History.select().where(History.kind == "comment").count() == 1


def test_reply_found_by_the_key_in_the_subject(service: Service, db_url: str):
    ticket = pending_ticket(service)
    message = reply_to(None, "Any news?", subject="Re: [set-1] my certificates")
    done = run_cli(service.config.path, db_url, "inbound", "--json", stdin=message)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ticket"] == "SET-1" and data["moved"] == {"from": "on_hold", "to": "in_progress"}
    assert Ticket.get_by_id(ticket.id).state == "in_progress"


def test_a_reply_to_a_ticket_not_pending_is_recorded_without_a_move(service: Service, db_url: str):
    ticket = service.create(title="Slow search", requester_email="rita@customer.example", assignee="bob",
                            state="in_progress")
    done = run_cli(service.config.path, db_url, "inbound", stdin=reply_to(None, "Still slow", subject="[SET-1] hi"))
    assert done.returncode == 0
    assert Ticket.get_by_id(ticket.id).state == "in_progress"
    assert [n.recipient for n in Notification.select()] == ["bob@example.org"]


def test_an_auto_reply_is_recorded_but_moves_nothing(service: Service, db_url: str):
    ticket = pending_ticket(service)
    message = EmailMessage()
    message["From"] = "rita@customer.example"
    message["Subject"] = "Out of office: [SET-1] Your request is now Pending"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("I am away until Monday.")
    before = Notification.select().count()
    assert run_cli(service.config.path, db_url, "inbound", stdin=bytes(message)).returncode == 0
    assert Ticket.get_by_id(ticket.id).state == "on_hold"
    assert Notification.select().count() == before
    assert json.loads(History.select().where(History.kind == "comment").get().detail)["automatic"] is True


def test_a_message_matching_nothing_is_refused_and_nothing_stored(service: Service, db_url: str):
    pending_ticket(service)
    counts = (History.select().count(), Notification.select().count())
    message = reply_to(None, "hello", subject="Re: [SET-99] no such ticket", message_id="<x@y>")
    done = run_cli(service.config.path, db_url, "inbound", stdin=message)
    assert done.returncode == 1
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("triageboard: no ticket matches this message")
    assert (History.select().count(), Notification.select().count()) == counts

    empty = run_cli(service.config.path, db_url, "inbound", stdin=b"")
    assert empty.returncode == 2 and empty.stderr.decode().strip() == "triageboard: no message on standard input"


def test_notify_loop_delivers_until_ctrl_c(service: Service, mail_server: MailServer, db_url: str):
    pending_ticket(service)
    process = subprocess.Popen([sys.executable, "-m", "app", "--config", str(service.config.path), "--db", db_url,
                                "notify", "--interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 20
        while Notification.get().status != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(mail_server.inbox) == 1
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "notify: stopped" in err.decode() and "Traceback" not in err.decode()
    assert "sent 1" in out.decode()


def test_a_missing_password_variable_is_a_configuration_error(tmp_path: Path, mail_server: MailServer,
                                                               db_url: str):
    config = write_config(tmp_path / "config.yaml", mail_server.port)
    text = config.read_text().replace("    from: Support", "    user: tb\n    password_env: TB_TEST_SMTP_PW\n    from: Support")
    config.write_text(text)
    done = run_cli(config, db_url, "notify", "--once", env={"TB_TEST_SMTP_PW": "secret"})
    assert done.returncode == 0, done.stderr  # the variable is read; this server offers no AUTH, so it retries
    os.environ.pop("TB_TEST_SMTP_PW", None)
    missing = run_cli(config, db_url, "notify", "--once")
    assert missing.returncode == 2
    assert "environment variable TB_TEST_SMTP_PW is not set" in missing.stderr.decode()


def test_a_message_id_with_escaped_characters_is_recorded_once(service: Service, db_url: str):
    """Issue 21.5: `<"é"@x>` is stored escaped in the JSON detail, where LIKE never found it."""
    pending_ticket(service)
    message = ('From: Rita Reyes <rita@customer.example>\r\nSubject: Re: [SET-1] certificates\r\n'
               'Message-ID: <"é"@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere it is\r\n').encode()
    first = run_cli(service.config.path, db_url, "inbound", stdin=message)
    again = run_cli(service.config.path, db_url, "inbound", stdin=message)
    assert first.returncode == 0 and again.returncode == 0, (first.stderr, again.stderr)
    assert "already recorded" in again.stdout.decode()
    assert History.select().where(History.kind == "comment").count() == 1
    assert Notification.select().where(Notification.recipient == "bob@example.org").count() == 1


def test_migration_0004_backfills_the_message_id_of_existing_comments(service: Service):
    import importlib.util

    from data.db import MIGRATIONS
    from data.models import database_proxy

    ticket = pending_ticket(service)
    History.create(ticket=ticket, kind="comment", by="rita@customer.example",
                   detail=json.dumps({"message_id": '<"é"@x>', "body": "old"}))
    spec = importlib.util.spec_from_file_location("m0004", MIGRATIONS / "0004_inbound.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.backfill(database_proxy.obj)
    assert [h.message_id for h in History.select().where(History.kind == "comment")] == ['<"é"@x>']


def test_a_strangers_forged_reply_is_held_and_moves_nothing(service: Service, mail_server: MailServer, db_url: str):
    """Issue 21.2: an unknown From moves nothing, mails no one, and waits on the ticket for a person."""
    ticket = pending_ticket(service)
    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    status_mail = mail_server.inbox[0].message
    before = Notification.select().count()
    for message in (reply_to(status_mail, "attacker text", sender="mallory@evil.example"),
                    reply_to(None, "attacker text", subject="Re: [SET-1] anything", sender="mallory@evil.example",
                             message_id="<other@evil.example>")):
        done = run_cli(service.config.path, db_url, "inbound", stdin=message)
        assert done.returncode == 0, done.stderr
        assert "mail from an unknown sender (mallory@evil.example) held, not applied" in done.stdout.decode()
    fresh = Ticket.get_by_id(ticket.id)
    assert (fresh.state, fresh.hold_reason) == ("on_hold", "requester")
    assert Notification.select().count() == before  # not to the requester, not to the assignee
    assert History.select().where(History.kind == "comment").count() == 0
    held = list(History.select().where(History.kind == "held").order_by(History.id))
    assert len(held) == 2
    shown = run_cli(service.config.path, db_url, "ticket", "show", "SET-1").stdout.decode()
    assert "from an unknown sender" in shown
    assert f"triageboard inbound accept SET-1 {held[0].id}" in shown


def test_accepting_a_held_mail_applies_it_and_makes_the_sender_a_participant(service: Service, db_url: str):
    ticket = pending_ticket(service)
    message = reply_to(None, "I am Rita's colleague", subject="Re: [SET-1] certs", sender="sam@customer.example")
    held_id = json.loads(run_cli(service.config.path, db_url, "inbound", "--json", stdin=message).stdout)["comment"]
    refused = run_cli(service.config.path, db_url, "inbound", "accept", "SET-1", str(held_id), "--by", "nobody")
    assert refused.returncode == 2 and "nobody" in refused.stderr.decode()
    done = run_cli(service.config.path, db_url, "inbound", "accept", "SET-1", str(held_id), "--by", "alice")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "SET-1: reply from sam@customer.example recorded; Pending -> In Progress; bob@example.org notified")
    assert Ticket.get_by_id(ticket.id).state == "in_progress"
    again = run_cli(service.config.path, db_url, "inbound", "accept", "SET-1", str(held_id), "--by", "alice")
    assert again.returncode == 1 and "already accepted" in again.stderr.decode()
    later = reply_to(None, "one more thing", subject="Re: [SET-1] certs", sender="sam@customer.example",
                     message_id="<reply-2@customer.example>")
    assert "recorded" in run_cli(service.config.path, db_url, "inbound", stdin=later).stdout.decode()
    assert History.select().where(History.kind == "comment").count() == 2


def test_a_reply_by_the_thread_id_alone_is_matched_by_its_token(service: Service, db_url: str):
    ticket = pending_ticket(service)
    other = service.create(title="Other", requester_email="rita@customer.example")
    assert Ticket.get_by_id(ticket.id).thread_token != Ticket.get_by_id(other.id).thread_token
    reply = EmailMessage()
    reply["From"] = "rita@customer.example"
    reply["Subject"] = "Re: your request"
    reply["Message-ID"] = "<t@customer.example>"
    reply["In-Reply-To"] = f"<set-1.{Ticket.get_by_id(ticket.id).thread_token}.thread@example.org>"
    reply.set_content("the answer")
    done = run_cli(service.config.path, db_url, "inbound", "--json", stdin=bytes(reply))
    assert json.loads(done.stdout)["ticket"] == "SET-1"
