"""Delivery rounds under a slow, hung or dropping server, two notifiers at once, and webhooks that stall or redirect."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest

from app.notify.delivery import Deliverer
from app.notify.webhook import WebhookRefused, forbidden_address, post_webhook
from data import outbox as outbox_data
from data.models import Notification, utcnow

from notify_support import MailServer, make_service, run_cli, write_config


def queue_mails(count: int, *, webhooks: int = 0) -> None:
    """`count` mails (and `webhooks` webhook posts) due now, as the write path leaves them."""
    due = utcnow() - dt.timedelta(seconds=1)
    rows = [{"kind": "status", "recipient": f"r{i}@customer.example", "subject": f"[SET-{i}] news", "body": "b",
             "message_id": f"<m{i}.test@example.org>", "next_attempt": due, "created": due} for i in range(count)]
    rows += [{"kind": "page", "recipient": "webhook", "subject": f"page {i}", "body": "b",
              "message_id": f"<w{i}.test@example.org>", "next_attempt": due, "created": due} for i in range(webhooks)]
    Notification.insert_many(rows).execute()


def with_timeouts(config, *, smtp: float | None = None):
    notify = config.notify
    if smtp is not None:
        notify = msgspec.structs.replace(notify, smtp=msgspec.structs.replace(notify.smtp, timeout=smtp))
    return dataclasses.replace(config, notify=notify)


def test_two_notifiers_on_a_slow_server_send_every_message_exactly_once(tmp_path, mail_server: MailServer,
                                                                          db_url: str, monkeypatch):
    """Before the fix 100 messages under a lapsed lease went out 177 times; now each once."""
    service = make_service(tmp_path, mail_server, db_url, utcnow)
    mail_server.delay = 0.05  # 30 messages take 1.5 s, past the 0.5 s lease
    queue_mails(30)
    lease = dt.timedelta(seconds=0.5)
    monkeypatch.setattr("app.notify.delivery.LEASE", lease)  # the lease as the code before the fix knew it
    first = threading.Thread(target=lambda: Deliverer(service.config, lease=lease).run_once())
    first.start()
    time.sleep(0.7)  # the second notifier starts after the first one's claims have lapsed
    Deliverer(service.config, lease=lease).run_once()
    first.join()
    Deliverer(service.config, lease=lease).run_once()  # anything left for later

    sent = Counter(r.message["Message-ID"] for r in mail_server.inbox)
    assert sorted(sent) == sorted(f"<m{i}.test@example.org>" for i in range(30))
    assert set(sent.values()) == {1}, {k: v for k, v in sent.items() if v > 1}
    assert outbox_data.outbox_counts(include_sent=True) == {"pending": 0, "failed": 0, "sent": 30}


def test_notify_once_delivers_everything_that_is_due(tmp_path, mail_server: MailServer, db_url: str):
    make_service(tmp_path, mail_server, db_url, utcnow)
    queue_mails(250)
    done = run_cli(tmp_path / "config.yaml", db_url, "notify", "--once")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "notify: sent 250, retrying 0, failed 0; 0 pending, 0 failed in all"
    assert len({r.message["Message-ID"] for r in mail_server.inbox}) == len(mail_server.inbox) == 250


@pytest.fixture
def greets_then_hangs():
    """A 'mail server' that says 220 and then never answers anything."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"220 hello\r\n")
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield MailServer(port=listener.getsockname()[1])
    listener.close()
    for conn in held:
        conn.close()


def test_a_server_that_greets_then_hangs_costs_one_timeout_and_charges_nobody(tmp_path, greets_then_hangs, db_url):
    service = make_service(tmp_path, greets_then_hangs, db_url, utcnow)
    queue_mails(3)
    began = time.monotonic()
    report = Deliverer(with_timeouts(service.config, smtp=1.0)).run_once()
    took = time.monotonic() - began
    assert took < 2.5, f"{took:.1f}s: more than one timeout"
    assert report.sent == [] and report.failed == [] and len(report.retrying) == 3
    rows = list(Notification.select())
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    assert all("timed out" in r.last_error for r in rows), [r.last_error for r in rows]
    assert not any("connect() first" in r.last_error for r in rows)


def test_a_dropped_connection_is_opened_again_for_the_next_message(tmp_path, mail_server: MailServer, db_url):
    mail_server.hang_up = True  # every connection is closed after one message
    service = make_service(tmp_path, mail_server, db_url, utcnow)
    queue_mails(3)
    report = Deliverer(service.config).run_once()
    assert (len(report.sent), report.retrying, report.failed) == (3, [], [])
    assert len(mail_server.inbox) == 3
    assert {(r.status, r.attempts) for r in Notification.select()} == {("sent", 1)}


class _SlowHook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        time.sleep(1.5)  # longer than the webhook timeout
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class _RedirectingHook(BaseHTTPRequestHandler):
    gets: list[str] = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(302)
        self.send_header("Location", "/moved")
        self.end_headers()

    def do_GET(self):  # noqa: N802
        _RedirectingHook.gets.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(request):
    server = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("http_server", [_SlowHook], indirect=True)
def test_hung_webhooks_do_not_hold_up_the_mail(tmp_path, mail_server: MailServer, db_url: str, http_server):
    """Before: three hung webhooks were posted one by one before any mail (3 x the timeout of delay)."""
    service = make_service(tmp_path, mail_server, db_url, utcnow,
                           extra=f"webhook: {{url: 'http://127.0.0.1:{http_server.server_port}/h', timeout: 1}}\n")
    queue_mails(1, webhooks=3)
    began = time.monotonic()
    round_ = threading.Thread(target=lambda: reports.append(Deliverer(service.config).run_once()))
    reports: list = []
    round_.start()
    while not mail_server.inbox and time.monotonic() - began < 10:
        time.sleep(0.01)
    mail_delay = time.monotonic() - began
    round_.join(timeout=15)
    assert mail_delay < 0.8, f"the mail waited {mail_delay:.2f}s behind the webhooks"
    report = reports[0]
    assert len(report.sent) == 1 and 2 <= len(report.retrying) <= 3  # the third may wait for the next round
    assert all("timed out" in error for _, error in report.retrying)


@pytest.mark.parametrize("http_server", [_SlowHook], indirect=True)
def test_hung_webhooks_get_a_time_budget_and_the_rest_wait_uncharged(tmp_path, mail_server: MailServer, db_url,
                                                                     http_server):
    service = make_service(tmp_path, mail_server, db_url, utcnow,
                           extra=f"webhook: {{url: 'http://127.0.0.1:{http_server.server_port}/h', timeout: 1}}\n")
    queue_mails(0, webhooks=6)
    began = time.monotonic()
    report = Deliverer(service.config).run_once()
    took = time.monotonic() - began
    assert took < 4.5, f"{took:.1f}s on six hung webhooks with a 1 s timeout"  # the budget: 2 timeouts, +1 begun
    rows = list(Notification.select())
    charged = [r for r in rows if r.attempts == 1]
    assert len(charged) == len(report.retrying) <= 3
    waiting = [r for r in rows if r.attempts == 0]
    assert len(waiting) >= 3 and all(r.status == "pending" and r.next_attempt <= utcnow() for r in waiting)
    assert len(Deliverer(service.config).run_once().retrying) >= 1  # the next round takes them up


@pytest.mark.parametrize("http_server", [_RedirectingHook], indirect=True)
def test_a_webhook_behind_a_redirect_stays_pending_and_is_reported(tmp_path, mail_server: MailServer, db_url: str,
                                                                   http_server):
    _RedirectingHook.gets = []
    make_service(tmp_path, mail_server, db_url, utcnow,
                 extra=f"webhook: {{url: 'http://127.0.0.1:{http_server.server_port}/h'}}\n")
    queue_mails(0, webhooks=1)
    done = run_cli(tmp_path / "config.yaml", db_url, "notify", "--once")
    assert done.returncode == 0, done.stderr
    assert "sent 0, retrying 1, failed 0; 1 pending" in done.stdout.decode()
    assert "will retry: - page to webhook: webhook answered HTTP 302" in done.stderr.decode()
    assert _RedirectingHook.gets == []  # the POST was not turned into a GET
    row = Notification.get()
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert "HTTP 302" in row.last_error and "not followed" in row.last_error


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest", "http://[fe80::1]/x", "http://0.0.0.0:8080/x"])
def test_link_local_metadata_and_unspecified_webhooks_are_refused_unless_allowed(tmp_path, db_url, url):
    config = write_config(tmp_path / "config.yaml", 25, extra=f"webhook: {{url: '{url}'}}\n")
    done = run_cli(config, db_url, "ticket", "list")
    assert done.returncode == 2
    assert "allow_addresses" in done.stderr.decode() and "Traceback" not in done.stderr.decode()
    host = url.split("/")[2].rsplit(":", 1)[0] if "[" not in url else url.split("[")[1].split("]")[0]
    allowed = write_config(tmp_path / "allowed.yaml", 25,
                           extra=f"webhook: {{url: '{url}', allow_addresses: ['{host}']}}\n")
    assert run_cli(allowed, db_url, "ticket", "list").returncode == 0


def test_a_name_is_judged_by_what_it_resolves_to_at_post_time():
    assert forbidden_address("169.254.169.254") and forbidden_address("::ffff:169.254.169.254")
    assert forbidden_address("127.0.0.1") == "" and forbidden_address("192.0.2.1") == ""
    assert forbidden_address("169.254.169.254", ["169.254.169.254"]) == ""
    with pytest.raises(WebhookRefused):
        post_webhook("http://0.0.0.0:9/x", "text", 1.0)
