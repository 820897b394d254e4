"""The team's side: who is logged in, the login and logout pages, and the gate in front of the board.

Every path but the public ones (the login itself, the requester's pages, the
calendar feed, the stylesheet, textual-serve's static files) passes the gate:
in `password` mode a live session cookie (`sessions`), in `proxy` mode the
trusted proxy's header (`auth.proxy_user`). What passes carries the handle in
`request["user"]` (and the session in `request["session"]`), which the board's
web socket turns into the board process's identity.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from aiohttp import web

from app.config.serve import ServeAuth
from app.config.settings import Config
from app.web import auth as auth_rules
from app.web import csrf as csrf_rules
from app.web import sessions as session_rules
from app.web.pages import page
from app.web.ratelimit import RateLimit

PUBLIC_PREFIXES = ("/login", "/r/", "/calendar/", "/_web/", "/static/")
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 15 * 60.0
"""Failed logins allowed per client address and per handle in that many seconds."""

Closer = Callable[[str], Awaitable[int]]
"""Closes the boards of one session key; returns how many it closed."""


class Gate:
    def __init__(self, config: Config, auth: ServeAuth, *, prefix: str = "", secure: bool = False) -> None:
        self.config = config
        self.auth = auth
        self.prefix = prefix
        self.secure = secure
        self.sessions = session_rules.SessionStore(auth.session_seconds)
        self.csrf = csrf_rules.Csrf()
        self.failures = RateLimit(LOGIN_ATTEMPTS, LOGIN_WINDOW)
        self.close_boards: Closer | None = None

    # -- who is it ---------------------------------------------------------

    def identify(self, request: web.Request) -> tuple[str, str] | None:
        """(handle, session key) of the request, or None: not logged in."""
        if self.auth.mode == "proxy":
            handle = auth_rules.proxy_user(self.auth, request.remote, request.headers, self.config.handles)
            return (handle, f"proxy:{handle}") if handle else None
        session = self.sessions.find(request.cookies.get(session_rules.COOKIE))
        return (session.handle, session.sid) if session else None

    def is_https(self, request: web.Request) -> bool:
        if self.secure or request.secure:
            return True
        return (self.auth.trusts(request.remote)
                and (request.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip() == "https")

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path == "/logout" or any(request.path.startswith(p) for p in PUBLIC_PREFIXES):
            return await handler(request)
        who = self.identify(request)
        if who is None:
            if self.auth.mode == "password" and request.method == "GET" and request.path == "/":
                raise web.HTTPSeeOther(f"{self.prefix}/login")
            why = ("log in first" if self.auth.mode == "password" else
                   f"no {self.auth.header} header from a trusted proxy naming a team member")
            raise web.HTTPForbidden(text=f"triageboard: {why}\n")
        request["user"], request["session_key"] = who
        return await handler(request)

    # -- CSRF cookie --------------------------------------------------------

    def csrf_pair(self, request: web.Request, purpose: str) -> tuple[str, str | None]:
        return self.csrf.for_form(request.cookies, purpose)

    def set_csrf(self, response: web.StreamResponse, request: web.Request, fresh: str | None) -> None:
        csrf_rules.set_cookie(response, fresh, self.is_https(request))

    # -- pages --------------------------------------------------------------

    def login_form(self, request: web.Request, *, message: str = "", handle: str = "",
                   status: int = 200) -> web.Response:
        token, fresh = self.csrf_pair(request, "login")
        response = page("login.html", request, status=status, prefix=self.prefix, csrf=token,
                        message=message, handle=handle, next="")
        self.set_csrf(response, request, fresh)
        return response

    async def login_get(self, request: web.Request) -> web.StreamResponse:
        if self.auth.mode == "proxy":
            raise web.HTTPSeeOther(f"{self.prefix}/")
        if self.identify(request) is not None:
            raise web.HTTPSeeOther(f"{self.prefix}/")
        return self.login_form(request)

    async def login_post(self, request: web.Request) -> web.StreamResponse:
        if self.auth.mode == "proxy":
            raise web.HTTPSeeOther(f"{self.prefix}/")
        form = await request.post()
        handle = str(form.get("handle", "")).strip()[:100]
        password = str(form.get("password", ""))
        if not self.csrf.valid(request.cookies.get(csrf_rules.COOKIE), "login", str(form.get(csrf_rules.FIELD, ""))):
            return self.login_form(request, handle=handle, status=400,
                                   message="The form had expired; please log in again.")
        client = auth_rules.client_address(self.auth, request.remote, request.headers)
        keys = (f"addr:{client}", f"handle:{handle}")
        wait = self.failures.blocked(*keys)
        if wait:
            return self.login_form(request, handle=handle, status=429,
                                   message=f"Too many failed logins; try again in {int(wait // 60) + 1} minutes.")
        assert self.auth.password_file is not None
        ok = await asyncio.get_running_loop().run_in_executor(
            None, auth_rules.check_password, self.auth.password_file, self.config.handles, handle, password)
        if not ok:
            self.failures.hit(*keys)
            return self.login_form(request, handle=handle, status=401,
                                   message="That handle and password do not match.")
        self.failures.clear(f"handle:{handle}")
        _, cookie = self.sessions.start(handle)
        response = web.HTTPSeeOther(f"{self.prefix}/")
        response.set_cookie(session_rules.COOKIE, cookie,
                            **session_rules.cookie_options(self.is_https(request), self.auth.session_seconds))
        raise response

    async def logout_get(self, request: web.Request) -> web.StreamResponse:
        who = self.identify(request)
        if who is None:
            raise web.HTTPSeeOther(f"{self.prefix}/login" if self.auth.mode == "password" else f"{self.prefix}/")
        token, fresh = self.csrf_pair(request, f"logout:{who[1]}")
        response = page("logout.html", request, prefix=self.prefix, csrf=token, handle=who[0])
        self.set_csrf(response, request, fresh)
        return response

    async def logout_post(self, request: web.Request) -> web.StreamResponse:
        who = self.identify(request)
        form = await request.post()
        if who is None:
            raise web.HTTPSeeOther(f"{self.prefix}/login" if self.auth.mode == "password" else f"{self.prefix}/")
        if not self.csrf.valid(request.cookies.get(csrf_rules.COOKIE), f"logout:{who[1]}",
                               str(form.get(csrf_rules.FIELD, ""))):
            raise web.HTTPBadRequest(text="triageboard: the logout form had expired; open /logout again\n")
        if self.auth.mode == "password":
            self.sessions.end(who[1])
        if self.close_boards is not None:
            await self.close_boards(who[1])
        if self.auth.mode == "password":
            target = f"{self.prefix}/login"
        else:  # the proxy's own session goes at its sign-out address
            target = self.auth.logout_url or f"{self.prefix}/logout"
        response = web.HTTPSeeOther(target)
        response.del_cookie(session_rules.COOKIE, path="/")
        raise response

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/login", self.login_get)
        app.router.add_post("/login", self.login_post)
        app.router.add_get("/logout", self.logout_get)
        app.router.add_post("/logout", self.logout_post)
        app.middlewares.append(self.middleware)
