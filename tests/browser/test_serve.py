"""`triageboard serve` in a real browser: headless Chromium, driven by Playwright.

The server runs as a subprocess, exactly as a person starts it; the page is the
one textual-serve hands out, drawing the board into an xterm.js canvas. The
canvas holds no text, so the test reads the board from the websocket stream
that feeds it, and reads the result of a key press from the database.

Skipped only when there is no Chromium binary or the `playwright` package is
missing (`.ci/run` installs both). Every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import Browser, Page, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError as exc:  # pragma: no cover - depends on the environment
    pytest.skip(f"the playwright package is not installed ({exc}); pip install -e '.[test]'",
                allow_module_level=True)


def find_chromium() -> str | None:
    candidates = [os.environ.get("TRIAGEBOARD_CHROMIUM"), shutil.which("chromium"),
                  shutil.which("chromium-browser"), "/usr/bin/chromium"]
    return next((c for c in candidates if c and os.path.exists(c)), None)


CHROMIUM = find_chromium()
if CHROMIUM is None:  # pragma: no cover - depends on the environment
    pytest.skip("no Chromium binary: apt-get install chromium, or set TRIAGEBOARD_CHROMIUM to one",
                allow_module_level=True)

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these Chromium reaches for the network at start-up; CI has none.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
START_TIMEOUT = 15.0  # seconds for the server to listen and the board to draw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, what: str, tick: Callable[[], None]) -> object:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        tick()


@pytest.fixture(scope="module")
def board_db(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """An SQLite board with one triaged ticket in To Do (it may go to Ready) and one untriaged.

    One board and one server for the module: each test opens its own tab, which
    textual-serve gives its own board process, as it does for people.
    """
    tmp_path = tmp_path_factory.mktemp("served")
    from app.config.settings import load_config
    from app.service import Service
    from data.db import open_database
    from data.models import Ticket

    url = f"sqlite:///{tmp_path / 'board.db'}"
    db = open_database(url)
    service = Service(load_config(ROOT / "config.yaml"))
    ready = service.create(title="Checkout fails for EU cards", requester_email="req@example.org", by="lead")
    Ticket.update(actionable="yes", priority=2, acknowledged=True).where(Ticket.id == ready.id).execute()
    service.create(title="Question about invoices", requester_email="q@example.org", by="lead", kind="question")
    db.close()
    yield url, ready.key
    db.close()


@dataclass(frozen=True)
class Served:
    url: str
    log: Path
    """The server's output, where textual-serve also logs what a board process printed on stderr."""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def server(board_db) -> Iterator[Served]:
    """`triageboard serve` on a free loopback port; stops it and every board it started."""
    url, _ = board_db
    log_path = Path(url.removeprefix("sqlite:///")).parent / "serve.log"
    port = free_port()
    log = log_path.open("w")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "alice", "TRIAGEBOARD_DEBUG": "1"}
    command = [sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", url,
               "serve", "--port", str(port)]
    # Its own session, so teardown can stop the server and the board processes it spawned, and nothing else.
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=log_path.parent,
                               start_new_session=True)

    try:
        wait_until_listening(process, port, log_path)
        yield Served(f"http://127.0.0.1:{port}", log_path)
    finally:
        stop_group(process)
        log.close()


def wait_until_listening(process: subprocess.Popen, port: int, log_path: Path) -> None:
    """Until `triageboard serve` accepts connections on `port`; fail with its log if it exits first."""
    def listening() -> bool:
        if process.poll() is not None:
            pytest.fail(f"triageboard serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_until(listening, START_TIMEOUT, f"triageboard serve to listen on port {port}", lambda: time.sleep(0.1))


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its board processes too), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield browser
        browser.close()


class TerminalStream:
    """Everything the server sent to the page's terminal, as text, to wait on what the board shows."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.chunks: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, payload: str | bytes) -> None:
        self.chunks.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def mark(self) -> int:
        return len(self.chunks)

    def since(self, mark: int) -> str:
        return "".join(self.chunks[mark:])

    def wait_for(self, needle: str, timeout: float, *, since: int = 0) -> None:
        wait_until(lambda: needle in self.since(since), timeout, f"{needle!r} on the served board", self.tick)

    def tick(self) -> None:
        self.page.wait_for_timeout(100)  # lets Playwright deliver the websocket events meanwhile


@pytest.fixture
def page(browser, server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    page.set_default_timeout(START_TIMEOUT * 1000)
    # The page asks Google for a web font; nothing outside the test server is reachable or needed.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
               else route.abort())
    yield page
    context.close()


def open_board(page: Page, server: Served, key: str) -> TerminalStream:
    """Load the served page and wait until the board has drawn `key`'s card; focus the terminal."""
    stream = TerminalStream(page)
    page.goto(server.url, wait_until="domcontentloaded")
    try:
        page.wait_for_selector("body.-first-byte .xterm", state="attached")  # textual.js got the first frame
        stream.wait_for(key, START_TIMEOUT)
    except (PlaywrightTimeoutError, pytest.fail.Exception):
        pytest.fail(f"the board did not draw {key} in the browser; the server's log ends:\n{server.log_tail()}")
    page.locator(".xterm-helper-textarea").focus()  # keys go to xterm.js, and through it to the board
    return stream


def ticket_state(key: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(state, [(kind, from, to) of each move]) read fresh from the database."""
    from data.models import History, Ticket

    ticket = Ticket.get(Ticket.key == key)
    moves = [(h.kind, h.from_state, h.to_state)
             for h in History.select().where((History.ticket == ticket) & (History.kind == "move"))]
    return ticket.state, moves


@pytest.fixture(scope="module")
def read_db(board_db):
    from data.db import open_database

    db = open_database(board_db[0], migrate=False)
    yield
    db.close()


def test_move_a_card_with_the_keyboard_in_chromium(server, page, board_db, read_db):
    _, key = board_db
    stream = open_board(page, server, key)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-board-before.png"))

    page.keyboard.press("L")  # move the selected card one column right: To Do -> Ready

    def in_ready() -> list[tuple[str, str, str]] | None:
        state, moves = ticket_state(key)
        return moves if state == "ready" else None

    moves = wait_until(in_ready, 10, f"{key} to reach Ready in the database", stream.tick)
    assert moves == [("move", "todo", "ready")]

    page.wait_for_timeout(500)  # let the board redraw the moved card before the picture
    page.screenshot(path=str(ARTIFACTS / "browser-board.png"))


def test_command_palette_key_reaches_the_board(server, page, board_db):
    """ctrl+p is Chromium's Print, but pages may take it: xterm.js does, so the palette opens."""
    _, key = board_db
    stream = open_board(page, server, key)
    mark = stream.mark()
    page.keyboard.press("Control+p")
    stream.wait_for("Search for commands", 10, since=mark)
    page.screenshot(path=str(ARTIFACTS / "browser-palette.png"))
