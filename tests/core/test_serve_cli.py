"""`triageboard serve` without a browser: the command it runs per tab, the warning, the page's URLs."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from app import cli_serve
from app.cli import cli

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

    def __init__(self, *args):
        FakeServer.served = args

    def serve(self):
        pass


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("0.0.0.0", True)])
def test_warns_when_not_on_loopback(tmp_path, monkeypatch, host, warned):
    monkeypatch.setattr(cli_serve, "make_server", FakeServer)
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config.yaml"), "--db", f"sqlite:///{tmp_path}/b.db",
                                      "serve", "--host", host, "--port", "8123"])
    assert result.exit_code == 0, result.output
    command, bound_host, port, public_url = FakeServer.served
    assert (bound_host, port, public_url) == (host, 8123, None)
    assert "-m app --config" in command
    assert ("no login of its own" in result.stderr) is warned
    assert len(result.stderr.splitlines()) == (1 if warned else 0)


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
    return css, ws


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
