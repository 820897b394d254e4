"""The outbox against a real SMTP server: one mail per status change, never lost, never forged."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.notify.delivery import Deliverer, build_message, one_line
from app.service import Service
from data import outbox as outbox_data
from data.models import Notification, Ticket

from notify_support import Clock, MailServer, make_service


def new_ticket(service: Service, **fields) -> Ticket:
    values = {"title": "Checkout returns 502", "requester_email": "rita@customer.example",
              "requester_name": "Rita Reyes", "assignee": "bob", "state": "in_progress", "by": "alice"}
    return service.create(**{**values, **fields})


def test_a_move_mails_the_requester_once_with_threading_headers(service: Service, mail_server: MailServer,
                                                                clock: Clock):
    ticket = new_ticket(service)
    service.move(ticket.key, "on_hold", hold_reason="requester", by="bob", reason="which browser?")
    row = Notification.get()
    assert Notification.select().count() == 1 and row.status == "pending"

    report = Deliverer(service.config, clock=clock).run_once()

    assert len(report.sent) == 1 and len(mail_server.inbox) == 1
    received = mail_server.inbox[0]
    assert received.rcpt_tos == ["rita@customer.example"]
    message = received.message
    assert message["Subject"] == "[SET-1] Your request is now Pending"
    assert message["To"] == "Rita Reyes <rita@customer.example>"
    assert message["From"] == "Support <support@example.org>"
    assert message["Reply-To"] == "support@example.org"
    assert message["Message-ID"] == row.message_id
    token = Ticket.get().thread_token
    assert len(token) == 16  # random per ticket (issue 21.2): the thread id is not guessable from the key
    assert message["In-Reply-To"] == f"<set-1.{token}.thread@example.org>" == message["References"]
    assert message["Date"]
    body = message.get_body(("plain",)).get_content()
    assert 'Your request SET-1 "Checkout returns 502" changed from In Progress to Pending.' in body
    assert "Reason: which browser?" in body
    assert "keep [SET-1] in the subject" in body
    row = Notification.get_by_id(row.id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, clock.now)
    assert Deliverer(service.config, clock=clock).run_once().sent == []  # nothing twice


def test_a_move_without_a_status_change_sends_nothing(service: Service, mail_server: MailServer, clock: Clock):
    ticket = new_ticket(service, state="todo")
    service.move(ticket.key, "on_hold", hold_reason="external")  # Open -> On Hold: a change
    Deliverer(service.config, clock=clock).run_once()  # delivered: the requester now knows On Hold
    service.move(ticket.key, "ready")  # On Hold -> Open
    assert Notification.select().count() == 2
    ticket2 = new_ticket(service, state="ready")
    service.move(ticket2.key, "todo")  # Open -> Open: no mail
    assert Notification.select().count() == 2


def test_a_rolled_back_move_leaves_no_notification(service: Service, mail_server: MailServer, clock: Clock,
                                                   monkeypatch: pytest.MonkeyPatch):
    ticket = new_ticket(service)
    original = Service._notify

    def notify_then_crash(self, *args, **kwargs):
        original(self, *args, **kwargs)
        assert Notification.select().count() == 1  # written inside the transaction …
        raise RuntimeError("power cut")

    monkeypatch.setattr(Service, "_notify", notify_then_crash)
    with pytest.raises(RuntimeError):
        service.move(ticket.key, "on_hold", hold_reason="requester")
    assert Notification.select().count() == 0  # … and gone with it
    assert Ticket.get_by_id(ticket.id).state == "in_progress"
    assert Deliverer(service.config, clock=clock).run_once().sent == []
    assert mail_server.inbox == []


def test_server_down_retains_and_retries_without_charging_the_message(tmp_path, stopped_server: MailServer,
                                                                     db_url: str, clock: Clock):
    service = make_service(tmp_path, stopped_server, db_url, clock)
    ticket = new_ticket(service)
    service.move(ticket.key, "resolved")  # the move succeeds while the server is down
    message_id = Notification.get().message_id
    deliver = Deliverer(service.config, clock=clock)

    report = deliver.run_once()
    assert report.sent == [] and len(report.retrying) == 1
    row = Notification.get()
    assert (row.status, row.attempts) == ("pending", 0)  # the outage is not the message's failure
    assert "cannot reach 127.0.0.1" in row.last_error
    assert row.next_attempt == clock.now + dt.timedelta(minutes=1)

    clock.advance(seconds=59)
    assert deliver.run_once().retrying == []  # not due yet
    clock.advance(seconds=1)
    assert len(deliver.run_once().retrying) == 1
    row = Notification.get()  # still not charged: the next try waits the first step again, not twice as long
    assert row.attempts == 0 and row.next_attempt - clock.now == dt.timedelta(minutes=1)

    stopped_server.start()
    clock.advance(seconds=59)
    assert deliver.run_once().sent == []  # still waiting
    clock.advance(seconds=1)
    assert len(deliver.run_once().sent) == 1
    assert [r.message["Message-ID"] for r in stopped_server.inbox] == [message_id]
    assert Notification.get().status == "sent"


def test_max_attempts_fail_the_message_and_retry_failed_requeues(tmp_path, mail_server: MailServer,
                                                                  db_url: str, clock: Clock):
    mail_server.answer = "451 try again later"  # the message's own transaction fails, so it is charged
    service = make_service(tmp_path, mail_server, db_url, clock)
    service.move(new_ticket(service).key, "resolved")
    deliver = Deliverer(service.config, clock=clock)
    for _ in range(3):  # max_attempts: 3
        deliver.run_once()
        clock.advance(hours=1)
    row = Notification.get()
    assert (row.status, row.attempts) == ("failed", 3)
    assert "451" in row.last_error
    assert outbox_data.outbox_counts() == {"pending": 0, "failed": 1}
    assert deliver.run_once().sent == []  # failed rows wait for a person

    assert outbox_data.requeue_failed(clock.now) == 1
    mail_server.answer = "250 OK"
    assert len(deliver.run_once().sent) == 1
    assert outbox_data.outbox_counts(include_sent=True) == {"pending": 0, "failed": 0, "sent": 1}


def test_a_crash_between_accept_and_mark_resends_with_the_same_message_id(service: Service,
                                                                          mail_server: MailServer, clock: Clock,
                                                                          monkeypatch: pytest.MonkeyPatch):
    service.move(new_ticket(service).key, "resolved")
    crashing = Deliverer(service.config, clock=clock)
    monkeypatch.setattr(crashing, "mark_sent", lambda row: None)  # the process dies before the mark
    crashing.run_once()
    assert len(mail_server.inbox) == 1 and Notification.get().status == "pending"

    clock.advance(minutes=5)
    assert Deliverer(service.config, clock=clock).run_once().sent == []  # the claim's lease still holds
    clock.advance(minutes=6)
    assert len(Deliverer(service.config, clock=clock).run_once().sent) == 1
    ids = [r.message["Message-ID"] for r in mail_server.inbox]
    assert len(ids) == 2 and ids[0] == ids[1] == Notification.get().message_id


def test_header_injection_in_a_name_or_title_cannot_forge_headers(service: Service, mail_server: MailServer,
                                                                  clock: Clock):
    ticket = new_ticket(service, title="Broken\r\nBcc: evil@attacker.example\r\nX-Evil: 1",
                        requester_name="Rita\r\nBcc: evil@attacker.example\nCc: evil2@attacker.example")
    service.move(ticket.key, "resolved")
    assert len(Deliverer(service.config, clock=clock).run_once().sent) == 1

    received = mail_server.inbox[0]
    assert received.rcpt_tos == ["rita@customer.example"]
    message = received.message
    for header in ("Bcc", "Cc", "X-Evil"):
        assert message[header] is None
    assert message["Subject"] == "[SET-1] Your request is now Development Complete"
    assert "evil@attacker.example" in message["To"].addresses[0].display_name  # kept as text, harmlessly
    assert [a.addr_spec for a in message["To"].addresses] == ["rita@customer.example"]
    head = received.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert not any(line.lstrip().lower().startswith((b"bcc:", b"cc:", b"x-evil:")) for line in head.splitlines())


def test_a_forged_recipient_address_is_refused_for_good(service: Service, mail_server: MailServer, clock: Clock):
    # Refused at the door now (app.notify.addresses); a row written before that check still must not mail.
    ticket = new_ticket(service, requester_email="rita@customer.example")
    Ticket.update(requester_email="rita@customer.example\r\nBcc: evil@attacker.example").where(
        Ticket.id == ticket.id).execute()
    service.move(ticket.key, "resolved")
    report = Deliverer(service.config, clock=clock).run_once()
    assert report.sent == [] and len(report.failed) == 1
    assert mail_server.inbox == []
    row = Notification.get()
    assert row.status == "failed" and "invalid recipient" in row.last_error


def test_one_line_flattens_every_kind_of_line_break():
    assert one_line("a\r\nb\rc\nd\x85e\u2028f\x00g\tX") == "a b c d e f g X"


def test_build_message_keeps_the_stored_message_id(service: Service):
    ticket = new_ticket(service)
    service.move(ticket.key, "resolved")
    row = Notification.get()
    first = build_message(row, ticket, service.config.notify)
    second = build_message(row, ticket, service.config.notify)
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    assert first["Auto-Submitted"] == "auto-generated"


def test_notifications_for_and_counts_are_plain_data(service: Service, mail_server: MailServer, clock: Clock):
    ticket = new_ticket(service)
    service.move(ticket.key, "resolved")
    assert outbox_data.outbox_counts() == {"pending": 1, "failed": 0}
    Deliverer(service.config, clock=clock).run_once()
    rows = outbox_data.notifications_for(ticket.id)
    assert [(r["kind"], r["recipient"], r["status"], r["attempts"], r["last_error"]) for r in rows] == [
        ("status", "rita@customer.example", "sent", 1, "")]
    assert rows[0]["subject"] == "[SET-1] Your request is now Development Complete"
    assert rows[0]["sent_at"] == clock.now
    assert outbox_data.outbox_counts() == {"pending": 0, "failed": 0}


def test_solving_tells_the_assignee(service: Service, mail_server: MailServer, clock: Clock):
    ticket = new_ticket(service, state="closed")
    service.solve(ticket.key, by="rita@customer.example")
    row = Notification.get()
    assert (row.kind, row.recipient, row.subject) == ("solved", "bob@example.org",
                                                       "[SET-1] Solved: Checkout returns 502")


class _Hook(BaseHTTPRequestHandler):
    posts: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        _Hook.posts.append({"type": self.headers["Content-Type"], "json": json.loads(self.rfile.read(length))})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # keep the test output quiet
        pass


def test_p1_news_also_goes_to_the_webhook(tmp_path, mail_server: MailServer, db_url: str, clock: Clock):
    http = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    _Hook.posts = []
    try:
        service = make_service(tmp_path, mail_server, db_url, clock,
                               extra=f"webhook: {{url: 'http://127.0.0.1:{http.server_port}/hooks/x'}}\n")
        p1 = new_ticket(service, priority=1)
        p3 = new_ticket(service, priority=3)
        service.move(p1.key, "resolved")
        service.move(p3.key, "resolved")
        assert sorted(r.recipient for r in Notification.select()) == [
            "rita@customer.example", "rita@customer.example", "webhook"]
        report = Deliverer(service.config, clock=clock).run_once()
        assert len(report.sent) == 3 and len(mail_server.inbox) == 2
        assert _Hook.posts == [{"type": "application/json", "json": {
            "text": _Hook.posts[0]["json"]["text"]}}]
        assert _Hook.posts[0]["json"]["text"].startswith("[SET-1] Your request is now Development Complete\n")
    finally:
        http.shutdown()
