"""Chat through apprise (#17, item 2): posts reach a real local HTTP server exactly once, in each service's format.

Two targets on one local server: apprise's plain JSON webhook (`json://`) and a
Mattermost incoming webhook (`mmost://`, the Slack-compatible `{"text": ...}` body).
On Mon 30 Nov 2026 09:00 London (= UTC) the weekly shifts are k=4, the two-weekly k=2:
  SET primary      alice until Mon 7 Dec 09:00; next: bob
  SET backup       bob until Mon 7 Dec 09:00; next: carol
  SET lead         frank until Mon 14 Dec 09:00; next: grace
  Support stewards bob, dan until Mon 14 Dec 09:00; next: dan, erin
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import re
import subprocess
import threading
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.notify.delivery import Deliverer
from app.service import Service
from data.models import Notification
from tests.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-30T09:00:30+00:00"
HANDOFFS = {
    "On call: SET primary": "Now on call for SET primary: alice until Mon 7 Dec 09:00; next: bob",
    "On call: SET backup": "Now on call for SET backup: bob until Mon 7 Dec 09:00; next: carol",
    "On call: SET lead": "Now on call for SET lead: frank until Mon 14 Dec 09:00; next: grace",
    "On call: Support stewards": "Now on call for Support stewards: bob, dan until Mon 14 Dec 09:00; next: dan, erin",
}


class Recorder(http.server.BaseHTTPRequestHandler):
    posts: list[tuple[str, dict]]
    fail_next: list[int]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.fail_next:
            self.send_response(self.fail_next.pop(0))
            self.end_headers()
            return
        self.posts.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    handler = type("Handler", (Recorder,), {"posts": [], "fail_next": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, handler
    httpd.shutdown()
    httpd.server_close()


def chat_config(tmp_path: Path, port: int, json_events="[handoffs, summary, pages, p1]",
                url: str | None = None) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    chat = (f"notify:\n  chat:\n"
            f"    - {{name: jsonhook, url: '{url or f'json://127.0.0.1:{port}/hook'}', events: {json_events},"
            f" summary_at: '09:00'}}\n"
            f"    - {{name: mattermost, url: 'mmost://127.0.0.1:{port}/set-token', events: [handoffs]}}\n")
    path = tmp_path / "config.yaml"
    assert re.search(r"^notify:.*\n", text, flags=re.M)
    path.write_text(re.sub(r"^notify:.*\n", lambda _: chat, text, count=1, flags=re.M), encoding="utf-8")
    return path


def test_handoffs_and_the_summary_arrive_exactly_once_while_two_notifiers_run(server, tmp_path, cli_command,
                                                                              cli_env, run_cli):
    httpd, handler = server
    config = chat_config(tmp_path, httpd.server_address[1])
    env = {**cli_env, "TRIAGEBOARD_NOW": NOW}
    both = [subprocess.Popen(cli_command("notify", "--once", config=config), env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in both:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    again = run_cli("notify", "--once", now=NOW, config=config)   # a third round: nothing new to post
    assert again.returncode == 0, again.stderr

    json_posts = [body for path, body in handler.posts if path == "/hook"]
    mm_posts = [body for path, body in handler.posts if path == "/hooks/set-token"]
    handoffs = {b["title"]: b["message"] for b in json_posts if b["title"].startswith("On call:")}
    assert handoffs == HANDOFFS
    assert all(b["version"] == "1.0" and b["type"] == "info" for b in json_posts)
    summaries = [b for b in json_posts if not b["title"].startswith("On call:")]
    assert len(summaries) == 1 and len(json_posts) == 5
    assert summaries[0]["title"] == "On call and open P1s, Mon 30 Nov"
    assert "  SET primary: alice" in summaries[0]["message"].splitlines()
    assert "Open P1s: none" in summaries[0]["message"]
    # Mattermost's incoming webhook: {"text": "title\r\nbody"}, once per handoff.
    assert sorted(b["text"] for b in mm_posts) == sorted(f"{t}\r\n{m}" for t, m in HANDOFFS.items())

    status = run_cli("notify", "--status", now=NOW, config=config)
    assert "chat:jsonhook: pending 0, failed 0, sent 5" in status.stdout
    assert "chat:mattermost: pending 0, failed 0, sent 4" in status.stdout
    data = json.loads(run_cli("notify", "--status", "--json", now=NOW, config=config).stdout)
    assert data["chat"]["chat:jsonhook"]["sent"] == 5
    assert "set-token" not in status.stdout   # the URL's token is never shown


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 30, 10, 0))


def test_a_page_and_a_new_p1_are_posted_and_a_failed_post_is_retried(server, tmp_path, db, clock):
    httpd, handler = server
    config = load_config(chat_config(tmp_path, httpd.server_address[1], json_events="[pages, p1]"))
    service = Service(config, clock=clock)
    ticket = service.create(title="Checkout is down", priority=1, by="alice")
    service.escalate_due()           # step 1: SET primary, alice (k=4)
    service.post_chat_due()
    service.post_chat_due()          # the same P1 again: nothing new
    rows = list(Notification.select().where(Notification.recipient == "chat:jsonhook").order_by(Notification.id))
    assert [r.kind for r in rows] == ["page", "p1"]

    handler.fail_next.append(500)    # the first post fails: retried after the backoff (1m)
    deliverer = Deliverer(config, clock=lambda: clock.now)
    def ours(rows):  # the mail to alice waits for an SMTP server this test has not got; mattermost gets handoffs
        return [row for row in rows if row.recipient == "chat:jsonhook"]

    first = deliverer.run_once()
    assert len(ours(first.sent)) == 1 and len(ours(r for r, _ in first.retrying)) == 1
    clock.advance(minutes=2)
    second = deliverer.run_once()
    assert len(ours(second.sent)) == 1 and not ours(r for r, _ in second.retrying)
    bodies = {b["title"]: b["message"] for path, b in handler.posts if path == "/hook"}
    assert bodies == {f"{ticket.key} paged": f"{ticket.key} [P1] paged alice (SET primary): Checkout is down",
                      f"New P1 {ticket.key}": f"New P1 {ticket.key}: Checkout is down"}


@pytest.mark.parametrize(("url", "words"), [("bogus://example.org/x", "apprise does not know"),
                                             ("not a url", "apprise does not know")])
def test_a_chat_url_apprise_does_not_know_exits_2_with_file_line_and_key(run_cli, tmp_path, url, words):
    path = chat_config(tmp_path, 9, url=url)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "jsonhook" in text)
    result = run_cli("oncall", "--json", config=path)
    assert result.returncode == 2
    assert f"{path}:{line}: notify.chat[0].url:" in result.stderr
    assert words in result.stderr


def test_the_daily_summary_lists_who_is_on_call_open_p1s_and_tickets_at_risk(server, tmp_path, db, clock):
    httpd, handler = server
    config = load_config(chat_config(tmp_path, httpd.server_address[1], json_events="[summary]"))
    service = Service(config, clock=clock)
    clock.set(2026, 11, 27, 10, 0)   # Fri 27 Nov 10:00: a P1's first response is due within 1 working hour
    ticket = service.create(title="Checkout is down", priority=1, by="alice")
    clock.set(2026, 11, 30, 8, 59)
    service.post_chat_due()
    assert not Notification.select().where(Notification.kind == "summary").exists()   # not 09:00 yet
    clock.set(2026, 11, 30, 9, 0)
    service.post_chat_due()
    clock.set(2026, 11, 30, 12, 0)
    service.post_chat_due()          # later the same day: still one summary
    rows = list(Notification.select().where(Notification.kind == "summary"))
    assert len(rows) == 1
    assert rows[0].body.splitlines() == [
        "On call Mon 30 Nov:",
        "  SET primary: alice", "  SET backup: bob", "  SET lead: frank", "  Support stewards: bob, dan",
        "Open P1s (1):", f"  {ticket.key} Checkout is down",
        "At risk (1):", f"  {ticket.key} Checkout is down: first response was due Fri 27 Nov 11:00",
    ]
    Deliverer(config, clock=lambda: clock.now).run_once()
    assert [b["title"] for p, b in handler.posts if p == "/hook"] == ["On call and open P1s, Mon 30 Nov"]
