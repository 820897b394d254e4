"""The login and the requester's page in Chromium, against a real `triageboard serve` and a real SMTP server.

One server for the module (password login, public_url set), one board database,
one aiosmtpd that catches what `triageboard notify --once` delivers. Team tests
drive the served board (xterm.js) and read the results from the database;
requester tests use the plain HTML pages as a requester would, from the link in
a caught mail. Every wait is bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Iterator

import pytest

from test_serve import (ARTIFACTS, START_TIMEOUT, TerminalStream, browser, free_port, stop_group,  # noqa: F401
                        wait_until, wait_until_listening)

from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"alice": "alice's long password", "bob": "bob's long password"}
HOSTILE = '<script>alert("x")</script><b>bold</b> [red]markup[/red]'


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 (aiosmtpd's hook)
        self.messages.append(BytesParser(policy=default).parsebytes(bytes(envelope.original_content)))
        return "250 Message accepted for delivery"


class Board:
    """The served board's files, server and helpers for the database."""

    def __init__(self, root: Path, port: int, smtp_port: int) -> None:
        self.root = root
        self.url = f"http://127.0.0.1:{port}"
        self.config = root / "config.yaml"
        self.db_url = f"sqlite:///{root / 'board.db'}"
        text = (ROOT / "config.yaml").read_text().replace("host: localhost", "host: 127.0.0.1") \
            .replace("port: 8025", f"port: {smtp_port}")
        self.config.write_text(text + f"\nserve:\n  public_url: {self.url}\n"
                                      "  auth: {mode: password, password_file: board.passwd}\n")

    def service(self):
        from app.config.settings import load_config
        from app.service import Service

        return Service(load_config(self.config))

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "app", "--config", str(self.config), "--db", self.db_url,
                               *args], capture_output=True, text=True, timeout=60, cwd=self.root,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def board(tmp_path_factory, inbox) -> Iterator[Board]:
    from app.web.auth import set_password
    from data.db import open_database
    from data.models import Ticket

    board = Board(tmp_path_factory.mktemp("web"), free_port(), inbox.port)
    for handle, password in PASSWORDS.items():
        set_password(board.root / "board.passwd", handle, password)
    db = open_database(board.db_url)
    service = board.service()
    for title in ("Checkout fails for EU cards", "Refunds are slow"):
        ticket = service.create(title=title, requester_email="req@example.org", by="lead")
        Ticket.update(actionable="yes", priority=2, acknowledged=True).where(Ticket.id == ticket.id).execute()
    fixed = service.create(title="Certificates not generated", requester_email="rita@example.org",
                           requester_name="Rita", by="lead")
    service.triage(fixed.key, by="erin", impact="high", urgency="soon", actionable="yes", acknowledged=True)
    service.assign(fixed.key, "bob", by="erin")
    for column in ("ready", "in_progress", "resolved", "closed"):
        service.move(fixed.key, column, by="bob")
    service.create(title=HOSTILE, requester_email="eve@example.org", by="lead", kind="question")
    board.keys = [t.key for t in Ticket.select().order_by(Ticket.id)]
    yield board
    db.close()


@pytest.fixture(scope="module")
def server(board) -> Iterator[Board]:
    log = (board.root / "serve.log").open("w")
    env = {k: v for k, v in os.environ.items() if k != "TRIAGEBOARD_USER"}
    env.update(PYTHONPATH=str(ROOT), USER="nobody-on-the-team", TRIAGEBOARD_DEBUG="1")
    port = int(board.url.rsplit(":", 1)[1])
    process = subprocess.Popen([sys.executable, "-m", "app", "--config", str(board.config), "--db", board.db_url,
                                "serve", "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=env, cwd=board.root, start_new_session=True)

    try:
        wait_until_listening(process, port, board.root / "serve.log")
        yield board
    finally:
        stop_group(process)
        log.close()


def new_page(browser: Browser, server: Board, **options) -> Page:
    context = browser.new_context(**{"viewport": {"width": 1600, "height": 900}, **options})
    page = context.new_page()
    page.set_default_timeout(START_TIMEOUT * 1000)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
               else route.abort())
    return page


def log_in(page: Page, server: Board, handle: str) -> TerminalStream:
    stream = TerminalStream(page)
    page.goto(server.url + "/", wait_until="domcontentloaded")
    assert page.url.endswith("/login")
    page.fill("#handle", handle)
    page.fill("#password", PASSWORDS[handle])
    page.click("button[type=submit]")
    page.wait_for_selector("body.-first-byte .xterm", state="attached")
    stream.wait_for(f"triageboard · {handle}", START_TIMEOUT)
    page.locator(".xterm-helper-textarea").focus()
    return stream


def moves_of(key: str) -> list[tuple[str, str, str]]:
    from data.models import History, Ticket

    ticket = Ticket.get(Ticket.key == key)
    return [(h.by, h.from_state, h.to_state) for h in
            History.select().where((History.ticket == ticket) & (History.kind == "move")).order_by(History.id)]


@pytest.fixture(scope="module")
def read_db(board):
    from data.db import open_database

    db = open_database(board.db_url, migrate=False)
    yield
    db.close()


def test_two_team_members_log_in_and_history_names_each(browser, server, read_db):
    alice_key, bob_key = server.keys[0], server.keys[1]
    wrong = new_page(browser, server)
    wrong.goto(server.url + "/login")
    wrong.fill("#handle", "alice")
    wrong.fill("#password", "not her password")
    wrong.click("button[type=submit]")
    assert "do not match" in wrong.inner_text("[role=alert]")
    wrong.context.close()

    alice = new_page(browser, server)
    alice_stream = log_in(alice, server, "alice")
    alice.keyboard.press("L")
    wait_until(lambda: moves_of(alice_key) == [("alice", "todo", "ready")], 10, "alice's move", alice_stream.tick)

    bob = new_page(browser, server)
    bob_stream = log_in(bob, server, "bob")  # a second browser, its own session and board
    bob.keyboard.press("L")
    wait_until(lambda: moves_of(bob_key) == [("bob", "todo", "ready")], 10, "bob's move", bob_stream.tick)
    ARTIFACTS.mkdir(exist_ok=True)
    bob.screenshot(path=str(ARTIFACTS / "browser-login-bob.png"))

    # Logging out (here from a second tab) ends the session and closes its board; bob's stays.
    assert bob_stream.text  # bob's board is still drawing
    second = alice.context.new_page()
    second.goto(server.url + "/logout")
    assert "alice" in second.inner_text("main")
    alice_before = alice_stream.mark()
    second.click("button[type=submit]")
    assert second.url.endswith("/login")
    wait_until(lambda: "logged out" in alice_stream.since(alice_before) or alice_closed(alice), 10,
               "alice's board to close", alice_stream.tick)
    second.goto(server.url + "/")
    assert second.url.endswith("/login")
    forbidden = second.request.get(server.url + "/ws/any-token")
    assert forbidden.status == 403
    # Bob logs out from his own board: the palette's command opens the logout page in his tab.
    bob.bring_to_front()
    bob.locator(".xterm-helper-textarea").focus()
    palette = bob_stream.mark()
    bob.keyboard.press("Control+p")
    bob_stream.wait_for("Search for commands", 10, since=palette)
    bob.keyboard.type("Log out")
    bob_stream.wait_for("bob", 10, since=palette)
    bob.keyboard.press("Enter")
    bob.wait_for_url("**/logout")
    assert "bob" in bob.inner_text("main")
    bob.context.close()
    alice.context.close()


def alice_closed(page: Page) -> bool:
    return bool(page.evaluate("() => document.body.classList.contains('-closed')"))


def link_in_mail(inbox: Inbox, to: str) -> str:
    mail = next(m for m in reversed(inbox.messages) if m["To"] == to)
    line = next(line for line in mail.get_body(("plain",)).get_content().splitlines() if "/r/" in line)
    return line.split("Your request's page: ", 1)[1].strip()


def test_the_requester_follows_the_link_in_their_mail(browser, server, inbox, read_db):
    from data.models import History, Ticket

    key = server.keys[2]
    server.cli("notify", "--once")  # the mails of the seeded moves, through the real SMTP server
    link = link_in_mail(inbox, "Rita <rita@example.org>")
    page = new_page(browser, server, viewport={"width": 390, "height": 844})  # a phone
    page.goto(link)
    assert page.inner_text("h1") == "Certificates not generated"
    assert page.inner_text("#status") == "Released"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-requester.png"), full_page=True)
    assert "erin" not in page.content() and "bob@example.org" not in page.content()

    page.fill("#text", "Thanks, I will try the release tomorrow.")
    page.click("form[action$='/reply'] button")
    assert "your message is with the support team" in page.inner_text("[role=status]")
    assert "I will try the release tomorrow" in page.inner_text("ol.conversation")
    page.reload()  # a reload after the redirect sends nothing again
    assert History.select().where((History.ticket == Ticket.get(Ticket.key == key).id)
                                  & (History.kind == "comment")).count() == 1

    page.click("text=Not fixed")
    assert page.inner_text("#status") == "In Progress"
    move = History.select().where(History.kind == "move").order_by(History.id.desc()).first()
    assert (move.reason, move.by) == ("reopened by requester", "rita@example.org")
    service = server.service()
    for column in ("resolved", "closed"):
        service.move(key, column, by="bob")
    page.goto(link)
    page.click("text=It's fixed")
    assert page.inner_text("#status") == "Solved"
    assert Ticket.get(Ticket.key == key).solved


def test_hostile_titles_tampered_and_foreign_tokens(browser, server, read_db):
    from data.models import Ticket

    hostile = Ticket.get(Ticket.title == HOSTILE)
    rita = Ticket.get(Ticket.key == server.keys[2])
    service = server.service()
    page = new_page(browser, server)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(service.requester_link(hostile))
    assert page.inner_text("h1") == HOSTILE
    assert page.locator("main b").count() == 0 and not dialogs

    good = service.requester_link(rita)
    page.goto(good[:-3] + ("xyz" if not good.endswith("xyz") else "abc"))
    assert "does not open a request" in page.inner_text("h1")
    from app.web.links import mint
    page.goto(f"{server.url}/r/{mint(rita.key, hostile.page_secret)}")  # another ticket's secret
    assert "does not open a request" in page.inner_text("h1")
    # A form posted with a token for one ticket and the CSRF token of another page does nothing.
    page.goto(service.requester_link(hostile))
    csrf = page.get_attribute("input[name=csrf_token]", "value")
    response = page.request.post(good + "/reply", form={"csrf_token": csrf, "text": "forged", "nonce": "x"})
    assert response.status == 400
    # The fresh-link form answers the same for any address.
    page.goto(f"{server.url}/r/not-a-token")
    page.fill("#key", rita.key)
    page.fill("#email", "mallory@example.org")
    page.click("button[type=submit]")
    assert "If mallory@example.org is the address on request" in page.inner_text("main")
    page.context.close()
