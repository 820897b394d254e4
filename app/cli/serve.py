"""`triageboard serve`: the same board in a web browser, through textual-serve.

textual-serve starts one board process per browser tab (its `command`), so each
tab is a full, independent session on the same config and database: there is
no second UI to keep in step with the terminal one.

With `serve.auth` in config.yaml the board sits behind a login (`app.web.login`)
and each tab's board process runs as the logged-in handle (`TRIAGEBOARD_USER`,
as the terminal board learns who "I" am), so history names who moved a card;
logging out closes that session's boards. The requester's pages
(`app.web.requester`) and the on-call calendar feed are served beside it,
outside the login. Without `serve.auth` only loopback is served.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from urllib.parse import urlsplit

import click

from app.cli.runtime import now, refuse

if TYPE_CHECKING:
    from app.cli.runtime import Runtime

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The directory that holds the `app` package, so the child finds the same code."""

NO_LOGIN = ("refusing to serve on {host} without a login: anyone who reaches it could move every card; "
            "set serve.auth in config.yaml (mode: proxy or password, see docs/serve.md) or serve on 127.0.0.1")

# What a Host / X-Forwarded-Host header may hold before it is written into the page.
_SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def absolute_db_url(url: str) -> str:
    """An SQLite URL with an absolute path, so the child opens the very same file."""
    prefix = "sqlite:///"
    if url.startswith(prefix):
        path = url[len(prefix):]
        if path and path != ":memory:" and not path.startswith("/"):
            return prefix + str(Path(path).resolve())
    return url


def board_command(config_path: Path, db_url: str, user: str | None = None, logout_url: str | None = None) -> str:
    """The shell command textual-serve runs for each browser tab: this board, this config, this database.

    `user` (the logged-in handle) becomes the board's `TRIAGEBOARD_USER`, whom its writes are by;
    `logout_url` its `TRIAGEBOARD_LOGOUT_URL`, so the board's palette can offer "Log out" (the terminal
    fills the page: there is no room for a button of the server's own).
    """
    parts = [sys.executable, "-m", "app", "--config", str(config_path.resolve()), "--db", absolute_db_url(db_url)]
    env = [f"{name}={shlex.quote(value)}" for name, value in
           (("TRIAGEBOARD_USER", user), ("TRIAGEBOARD_LOGOUT_URL", logout_url)) if value]
    return " ".join([*env, shlex.join(parts)])


SESSION_TOKEN_TTL = 120.0
"""Seconds a page's session token stays good for opening its web socket (it is used once)."""
MAX_SESSIONS = 4
"""Board processes served at once unless `--max-sessions` says otherwise (each is a full board, ~50 MB)."""
TOO_MANY = ("triageboard: too many boards open: this server runs at most {count} at once (--max-sessions); "
            "close another tab and reload this page")


def make_server(command: str, host: str, port: int, public_url: str | None = None, *,
                max_sessions: int = MAX_SESSIONS, command_for: Callable[[str], str] | None = None,
                gate: Any = None, add_routes: Callable[[Any], None] | None = None) -> Any:
    """A textual-serve `Server` whose page addresses work however it is reached.

    textual-serve writes absolute URLs (scripts, the websocket) into the page,
    built from `public_url`, which defaults to `http://HOST:PORT`. That breaks
    twice for a team: bound to 0.0.0.0 the page points browsers at
    `ws://0.0.0.0:PORT`, and behind a TLS proxy it points them at plain `ws://`
    on a port they cannot reach. Unless `public_url` is given, the URLs are
    instead taken from the request itself (Host, or the proxy's
    X-Forwarded-Proto / X-Forwarded-Host), which is right for a direct visit, an
    SSH tunnel and a proxy alike. A header that is not a plain host[:port] is
    ignored, so nothing odd is written into the page.

    The web socket drives a board as the user who started `serve`, so it is
    guarded (textual-serve accepts any): its `Origin` must be the page's own
    (a page on another site cannot open it), its path must carry the one-use
    session token minted for the page that opens it (a client that never
    loaded the page cannot either), and at most `max_sessions` boards run at
    once; the next tab is told so on its screen and closed.

    With a `gate` (`app.web.login.Gate`) every page and socket but the public
    ones needs a login; the board of a logged-in handle runs `command_for(handle)`,
    and the gate's logout closes the boards of that session. `add_routes` adds
    the public pages (the requester's, the calendar feed) to the application.
    """
    import asyncio
    import logging
    import secrets
    import time

    import aiohttp_jinja2
    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    class BoardServer(Server):
        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title="triageboard", public_url=public_url)
            self.fixed_public_url = public_url.rstrip("/") if public_url else None
            if self.fixed_public_url:
                self.public_url = self.fixed_public_url
            self.max_sessions = max_sessions
            self.sessions = 0
            self.tokens: dict[str, float] = {}
            self.boards: dict[str, set[Any]] = {}
            """Session key -> the web sockets of its open boards, closed on logout."""
            if gate is not None:
                gate.close_boards = self.close_boards

        async def _make_app(self) -> Any:
            app = await super()._make_app()
            app.router.add_get("/ws/{token}", self.handle_websocket, name="session_websocket")
            if gate is not None:
                gate.add_routes(app)
            if add_routes is not None:
                add_routes(app)
            return app

        async def close_boards(self, key: str) -> int:
            """Close every board of session `key`: each socket's end stops its board process."""
            sockets = self.boards.pop(key, set())
            for websocket in list(sockets):
                await websocket.close(code=4001, message=b"logged out")
            return len(sockets)

        def new_token(self) -> str:
            now = time.monotonic()
            for token, expires in list(self.tokens.items()):
                if expires < now:
                    del self.tokens[token]
            token = secrets.token_urlsafe(32)
            self.tokens[token] = now + SESSION_TOKEN_TTL
            return token

        def foreign_host(self, request: Any) -> str:
            """On loopback, a Host that is not loopback: a DNS-rebound name of an outside page, or ''.

            A page at evil.example whose name is made to resolve to 127.0.0.1
            would otherwise be same-origin with the board: its Host and Origin
            agree. Behind a proxy (`--public-url`, or bound elsewhere) the
            proxy decides which names reach us.
            """
            if self.fixed_public_url or not is_loopback(host):
                return ""
            name = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") \
                else (request.host or "").split("]")[0] + "]"
            return "" if is_loopback(name) else f"host {name[:100]!r} is not loopback"

        def refusal(self, request: Any) -> str:
            """Why this web socket may not open, or ''; the token is used up either way."""
            expires = self.tokens.pop(request.match_info.get("token", ""), None)
            foreign = self.foreign_host(request)
            if foreign:
                return foreign
            origin = request.headers.get("Origin", "")
            expected = _origin(self.base_url(request))
            if not origin or origin.rstrip("/").lower() != expected:
                return f"origin {origin[:100]!r} is not this board's ({expected})"
            if expires is None or expires < time.monotonic():
                return "no valid session token: open the board's page again"
            return ""

        async def handle_websocket(self, request: Any) -> Any:
            refused = self.refusal(request)
            if refused:
                click.echo(f"triageboard: serve: web socket refused: {refused}", err=True)
                raise web.HTTPForbidden(text=f"triageboard: web socket refused: {refused}\n")
            if self.sessions >= self.max_sessions:
                click.echo(f"triageboard: serve: refused a board: {self.max_sessions} already open", err=True)
                websocket = web.WebSocketResponse()
                await websocket.prepare(request)
                await websocket.send_bytes(TOO_MANY.format(count=self.max_sessions).encode() + b"\r\n")
                await websocket.close(code=1013, message=b"too many boards open")  # 1013: try again later
                return websocket
            self.sessions += 1
            try:
                return await self.run_board(request)
            finally:
                self.sessions -= 1

        async def run_board(self, request: Any) -> Any:
            """textual-serve's own socket handler, with this request's user's command, remembered for logout.

            Its `handle_websocket` runs the one `command` for everyone and keeps no
            handle on the socket; this is the same sequence of its public pieces.
            """
            user = request.get("user")
            key = request.get("session_key")
            board = command_for(user) if (command_for is not None and user) else self.command
            websocket = web.WebSocketResponse(heartbeat=15)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            app_service = None
            if key:
                self.boards.setdefault(key, set()).add(websocket)
            try:
                await websocket.prepare(request)
                app_service = AppService(board, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                                         close=websocket.close, download_manager=self.download_manager,
                                         debug=self.debug)
                await app_service.start(width, height)
                try:
                    await self._process_messages(websocket, app_service)
                finally:
                    await app_service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:  # noqa: BLE001 - as textual-serve: log it, end this tab only
                logging.getLogger("textual-serve").exception(error)
            finally:
                if app_service is not None:
                    await app_service.stop()
                if key:
                    self.boards.get(key, set()).discard(websocket)
            return websocket

        def base_url(self, request: Any) -> str:
            if self.fixed_public_url:
                return self.fixed_public_url
            proto = _first(request.headers.get("X-Forwarded-Proto")) or request.scheme
            if proto not in ("http", "https"):
                proto = request.scheme
            forwarded_host = _first(request.headers.get("X-Forwarded-Host"))
            host_header = forwarded_host if forwarded_host and _SAFE_HOST.match(forwarded_host) else request.host
            if not host_header or not _SAFE_HOST.match(host_header):
                return self.public_url
            return f"{proto}://{host_header}"

        async def handle_index(self, request: Any) -> Any:
            foreign = self.foreign_host(request)
            if foreign:
                click.echo(f"triageboard: serve: page refused: {foreign}", err=True)
                raise web.HTTPForbidden(text=f"triageboard: {foreign}: open the board at http://127.0.0.1:{port}/\n")
            return await self.render_index(request)

        @aiohttp_jinja2.template("app_index.html")
        async def render_index(self, request: Any) -> dict[str, Any]:
            base = self.base_url(request)
            router = request.app.router
            font_size = _to_int(request.query.get("fontsize", "16"), 16)
            static_url = f"{base}{router['static'].url_for(filename='/')}".rstrip("/") + "/"
            websocket_url = f"{base}{router['session_websocket'].url_for(token=self.new_token())}"
            scheme, rest = websocket_url.split(":", 1)
            return {
                "font_size": font_size,
                "app_websocket_url": ("wss:" if scheme == "https" else "ws:") + rest,
                "config": {"static": {"url": static_url}},
                "application": {"name": self.title},
            }

    return BoardServer()


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a browser writes it in `Origin`."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _first(value: str | None) -> str | None:
    """The client-nearest value of a header a chain of proxies may have appended to."""
    if not value:
        return None
    return value.split(",")[0].strip() or None


def _to_int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; anything but loopback needs serve.auth in config.yaml")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="port to bind")
@click.option("--public-url", metavar="URL",
              help="the address browsers use, e.g. https://board.example.org/triage when a proxy "
                   "serves it under a path [default: taken from each request]")
@click.option("--max-sessions", default=MAX_SESSIONS, show_default=True, type=click.IntRange(1, 1000),
              help="boards (browser tabs) served at once; each is a board process of its own")
@click.pass_obj
def serve(runtime: Runtime, host: str, port: int, public_url: str | None, max_sessions: int) -> None:
    """Serve the board in a web browser: each tab gets its own board on this config and database."""
    if public_url and not public_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--public-url")
    service = runtime.service  # open and migrate now, so a bad config or database is one line here, not per tab
    settings = runtime.config.serve
    if settings.auth is None and not is_loopback(host):
        refuse(NO_LOGIN.format(host=host), 2)
    public_url = public_url or settings.public_url or None
    # The child runs `python -m app`; make sure it imports this very tree even when not installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    prefix = urlsplit(public_url).path.rstrip("/") if public_url else ""
    secure = bool(public_url and public_url.startswith("https://"))
    gate = None
    if settings.auth is not None:
        from app.web.login import Gate

        gate = Gate(runtime.config, settings.auth, prefix=prefix, secure=secure)
        if settings.auth.mode == "password":
            _say_whether_passwords_exist(runtime, settings.auth.password_file)
    make_server(board_command(runtime.config_path, runtime.db_url), host, port, public_url,
                max_sessions=max_sessions, gate=gate,
                command_for=lambda user: board_command(runtime.config_path, runtime.db_url, user, f"{prefix}/logout"),
                add_routes=lambda app: _public_routes(app, runtime, service, prefix, secure)).serve()


def _say_whether_passwords_exist(runtime: Runtime, path: Path | None) -> None:
    from app.web.auth import read_hashes

    if path is not None and not read_hashes(path):
        click.echo(f"triageboard: serve: nobody can log in yet: {path} holds no passwords "
                   f"(set one with `triageboard passwd HANDLE`)", err=True)


def _public_routes(app: Any, runtime: Runtime, service: Any, prefix: str, secure: bool) -> None:
    """What is served without a login: the requester's pages, their stylesheet, the calendar feed."""
    from app.oncall.feed import MIN_SECRET
    from app.oncall.feed_server import FeedSource, add_feed_routes
    from app.web.pages import add_style_route
    from app.web.requester import RequesterPages

    add_style_route(app)
    RequesterPages(service, prefix=prefix, auth=runtime.config.serve.auth, secure=secure).add_routes(app)
    secret = os.environ.get(runtime.config.oncall.calendar.secret_env, "")
    if len(secret) >= MIN_SECRET:
        add_feed_routes(app, FeedSource(runtime.config, lambda: now(runtime), secret))


def register(group: click.Group) -> None:
    """Add `serve` to the command line (app.cli.main imports this module when it is used)."""
    group.add_command(serve)
