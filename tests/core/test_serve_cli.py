"""`triageboard serve` without a browser: the command it runs per tab, the warning, the page's URLs."""

from __future__ import annotations

import asyncio
import gc
import shlex
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from app.cli import serve as cli_serve
from app.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.1.2.3", False), ("board.example.org", False),
])
def test_loopback(host, loopback):
    assert cli_serve.is_loopback(host) is loopback


def test_each_tab_runs_this_board_on_the_same_config_and_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = cli_serve.board_command(Path("my config.yaml"), "sqlite:///boards/b.db")
    assert shlex.split(command) == [sys.executable, "-m", "app", "--config", str(tmp_path / "my config.yaml"),
                                    "--db", f"sqlite:///{tmp_path / 'boards/b.db'}"]
    assert cli_serve.absolute_db_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert cli_serve.absolute_db_url("sqlite:///:memory:") == "sqlite:///:memory:"


class FakeServer:
    served = None

    def __init__(self, *args, **options):
        FakeServer.served = args
        FakeServer.options = options

    def serve(self):
        pass


def test_serves_loopback_without_a_login(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_serve, "make_server", FakeServer)
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config.yaml"), "--db", f"sqlite:///{tmp_path}/b.db",
                                      "serve", "--host", "127.0.0.1", "--port", "8123"])
    assert result.exit_code == 0, result.output
    command, bound_host, port, public_url = FakeServer.served
    assert (bound_host, port, public_url) == ("127.0.0.1", 8123, None)
    assert "-m app --config" in command
    assert FakeServer.options["max_sessions"] == cli_serve.MAX_SESSIONS
    assert FakeServer.options["gate"] is None
    assert result.stderr == ""


def test_refuses_another_address_without_a_login(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_serve, "make_server", FakeServer)
    FakeServer.served = None
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config.yaml"), "--db", f"sqlite:///{tmp_path}/b.db",
                                      "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert FakeServer.served is None
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert "refusing to serve on 0.0.0.0 without a login" in result.stderr and "serve.auth" in result.stderr


def test_each_tab_of_a_login_runs_as_that_user(tmp_path, monkeypatch):
    command = cli_serve.board_command(Path("c.yaml"), "sqlite:///b.db", "alice", "/board/logout")
    assert shlex.split(command)[:2] == ["TRIAGEBOARD_USER=alice", "TRIAGEBOARD_LOGOUT_URL=/board/logout"]
    assert shlex.split(command)[2:4] == [sys.executable, "-m"]


def test_public_url_must_be_http(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_serve, "make_server", FakeServer)
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config.yaml"), "serve", "--public-url", "board:80"])
    assert result.exit_code == 2
    assert "--public-url" in result.stderr


async def page_urls(server, headers=None) -> tuple[str, str]:
    """(stylesheet URL, websocket URL) written into the index page."""
    client = TestClient(TestServer(await server._make_app()))
    await client.start_server()
    try:
        html = await (await client.get("/", headers=headers or {})).text()
    finally:
        await client.close()
    css = html.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    ws = html.split('data-session-websocket-url="', 1)[1].split('"', 1)[0]
    base, token = ws.rsplit("/", 1)
    assert len(token) >= 40 and token in server.tokens  # the page's own one-use session token
    return css, base


async def test_page_urls_follow_the_request(capsys):
    server = cli_serve.make_server("true", "0.0.0.0", 8000)
    # Direct, or through an SSH tunnel: whatever Host the browser used.
    assert await page_urls(server, {"Host": "localhost:9000"}) == (
        "http://localhost:9000/static/css/xterm.css", "ws://localhost:9000/ws")
    # Behind a TLS-terminating proxy.
    assert await page_urls(server, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "board.example.org"}) == (
        "https://board.example.org/static/css/xterm.css", "wss://board.example.org/ws")
    # Nothing but a host[:port] is written into the page.
    css, ws = await page_urls(server, {"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": 'x"><script>'})
    assert "<" not in css + ws and ws.startswith("ws://")


async def test_public_url_wins_and_may_carry_a_path():
    server = cli_serve.make_server("true", "127.0.0.1", 8000, "https://tools.example.org/triage/")
    assert await page_urls(server, {"Host": "127.0.0.1:8000"}) == (
        "https://tools.example.org/triage/static/css/xterm.css", "wss://tools.example.org/triage/ws")


# -- the web socket: only the page's own, a few at a time ---------------------

SLEEPER = shlex.join([sys.executable, "-c", "import sys\nwhile True:\n    data = sys.stdin.buffer.read1(65536)\n"
                                           "    if not data or b'quit' in data:\n        break"])
"""Stands in for the board: a process that waits until textual-serve tells it to quit (or closes its input)."""


class Served:
    """A BoardServer's app under aiohttp's test server, with the page's token at hand."""

    def __init__(self, max_sessions: int = 4):
        self.server = cli_serve.make_server(SLEEPER, "127.0.0.1", 8000, max_sessions=max_sessions)

    async def __aenter__(self) -> "Served":
        self.client = TestClient(TestServer(await self.server._make_app()))
        await self.client.start_server()
        self.origin = f"http://127.0.0.1:{self.client.port}"
        return self

    async def __aexit__(self, *exc) -> None:
        for _ in range(100):  # let every board process end before the loop does
            if self.server.sessions == 0:
                break
            await asyncio.sleep(0.05)
        gc.collect()  # textual-serve leaves its ended processes' transports to the collector: while the loop lives
        await self.client.close()

    async def page_socket_path(self) -> str:
        html = await (await self.client.get("/", headers={"Host": f"127.0.0.1:{self.client.port}"})).text()
        url = html.split('data-session-websocket-url="', 1)[1].split('"', 1)[0]
        return "/" + url.split("/", 3)[3]

    async def connect(self, path: str, origin: str | None):
        headers = {"Host": f"127.0.0.1:{self.client.port}"}
        if origin is not None:
            headers["Origin"] = origin
        return await self.client.ws_connect(path + "?width=80&height=24", headers=headers)


async def handshake_status(served: Served, path: str, origin: str | None) -> int:
    from aiohttp import WSServerHandshakeError

    try:
        ws = await served.connect(path, origin)
    except WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


async def test_a_cross_origin_web_socket_is_refused(capsys):
    async with Served() as served:
        assert await handshake_status(served, await served.page_socket_path(), "http://evil.example") == 403
        assert served.server.sessions == 0
        assert "origin 'http://evil.example' is not this board's" in capsys.readouterr().err


async def test_a_web_socket_without_the_pages_token_is_refused(capsys):
    async with Served() as served:
        assert await handshake_status(served, "/ws", served.origin) == 403  # textual-serve's own, unguarded path
        assert await handshake_status(served, "/ws/guessed-token", served.origin) == 403
        path = await served.page_socket_path()
        assert await handshake_status(served, path, None) == 403  # no Origin: not a browser on this page
        assert "no valid session token" in capsys.readouterr().err


async def test_the_pages_own_web_socket_opens_once():
    async with Served() as served:
        path = await served.page_socket_path()
        ws = await served.connect(path, served.origin)
        try:
            assert not ws.closed and served.server.sessions == 1
        finally:
            await ws.close()
        assert await handshake_status(served, path, served.origin) == 403  # a token is good for one socket


async def test_one_board_more_than_max_sessions_is_refused_with_a_message():
    async with Served(max_sessions=2) as served:
        open_ = [await served.connect(await served.page_socket_path(), served.origin) for _ in range(2)]
        try:
            extra = await served.connect(await served.page_socket_path(), served.origin)
            message = await extra.receive(timeout=5)
            assert b"too many boards open: this server runs at most 2 at once (--max-sessions)" in message.data
            closing = await extra.receive(timeout=5)
            assert extra.closed or closing.type.name in ("CLOSE", "CLOSED")
            assert served.server.sessions == 2
            await open_.pop().close()  # one tab closed: the next may open
            for _ in range(50):
                if served.server.sessions == 1:
                    break
                await asyncio.sleep(0.05)
            again = await served.connect(await served.page_socket_path(), served.origin)
            assert served.server.sessions == 2
            await again.close()
        finally:
            for ws in open_:
                await ws.close()


async def test_a_dns_rebound_name_gets_neither_the_page_nor_a_board(capsys):
    """evil.example made to resolve to 127.0.0.1 would be same-origin with the board: its Host is refused."""
    async with Served() as served:
        rebound = f"evil.example:{served.client.port}"
        page = await served.client.get("/", headers={"Host": rebound})
        assert page.status == 403 and "data-session-websocket-url" not in await page.text()
        path = await served.page_socket_path()
        from aiohttp import WSServerHandshakeError

        with pytest.raises(WSServerHandshakeError) as refused:
            await served.client.ws_connect(path, headers={"Host": rebound, "Origin": f"http://{rebound}"})
        assert refused.value.status == 403 and served.server.sessions == 0
        assert "host 'evil.example' is not loopback" in capsys.readouterr().err


# -- triageboard passwd ---------------------------------------------------------

def passwd_config(tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text()
                    + "\nserve:\n  auth: {mode: password, password_file: board.passwd}\n")
    return path


def run_passwd(config: Path, *args: str, stdin: str = "") -> "subprocess.CompletedProcess[str]":
    import os
    import subprocess

    return subprocess.run([sys.executable, "-m", "app", "--config", str(config), "passwd", *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)


def test_passwd_sets_a_team_members_password_and_refuses_others(tmp_path):
    from app.web.auth import check_password

    config = passwd_config(tmp_path)
    done = run_passwd(config, "alice", "--stdin", stdin="a long enough secret\n")
    assert done.returncode == 0, done.stderr
    assert check_password(tmp_path / "board.passwd", ("alice",), "alice", "a long enough secret")
    unknown = run_passwd(config, "mallory", "--stdin", stdin="a long enough secret\n")
    assert unknown.returncode == 2 and "unknown team member 'mallory'" in unknown.stderr
    short = run_passwd(config, "bob", "--stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    no_auth = run_passwd(ROOT / "config.yaml", "alice", "--stdin", stdin="a long enough secret\n")
    assert no_auth.returncode == 2 and "serve.auth" in no_auth.stderr
    assert "Traceback" not in unknown.stderr + short.stderr + no_auth.stderr
