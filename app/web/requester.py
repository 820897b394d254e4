"""The requester's own page: `/r/<token>`, its reply form, It's fixed / Not fixed, and a fresh link by mail.

Holding the link is the only access (`app.web.links`): no accounts. Each
request verifies the token again (`Service.ticket_for_link`), so a form
posted with a tampered or another ticket's token does nothing. What the page
shows and what its buttons do are the service's (`app.service.public`); this
module turns requests into those calls, off the event loop, and answers with
a page (after a POST, a redirect back to the page, so reloading it sends
nothing twice). Every form carries a CSRF token bound to the browser and the
ticket. An expired or altered link gets a plain page offering a fresh link:
it is mailed only to the ticket's requester address, at most a few times an
hour, and the answer reads the same whether or not the address matched.
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from aiohttp import web

from app.config.serve import ServeAuth
from app.service import NotFound, Refused, Service
from app.web import csrf as csrf_rules
from app.web.auth import client_address
from app.web.links import Expired, claimed_key
from app.web.pages import local, page
from app.web.ratelimit import RateLimit

FRESH_PER_TICKET = 3
FRESH_PER_ADDRESS = 10
FRESH_WINDOW = 3600.0
NOTICES = {
    "replied": "Thank you: your message is with the support team.",
    "solved": "Thank you for confirming: the request is now Solved.",
    "reopened": "Sorry it is not fixed yet: the request is back In Progress and the team has been told.",
}


class RequesterPages:
    def __init__(self, service: Service, *, prefix: str = "", auth: ServeAuth | None = None,
                 secure: bool = False) -> None:
        self.service = service
        self.prefix = prefix
        self.auth = auth
        self.secure = secure
        self.csrf = csrf_rules.Csrf()
        self.fresh_limit = RateLimit(FRESH_PER_TICKET, FRESH_WINDOW)
        self.address_limit = RateLimit(FRESH_PER_ADDRESS, FRESH_WINDOW)
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="requester-page")
        """The service is synchronous (Peewee): its calls run here, two at most, never on the event loop."""

    async def call(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: work(*args, **kwargs))

    def https(self, request: web.Request) -> bool:
        if self.secure or request.secure:
            return True
        trusted = self.auth is not None and self.auth.trusts(request.remote)
        return trusted and (request.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip() == "https"

    # -- the page -------------------------------------------------------------

    async def ticket(self, request: web.Request):
        """The ticket the path's token opens, or the "fresh link" page as the response to send."""
        token = request.match_info["token"]
        try:
            return await self.call(self.service.ticket_for_link, token)
        except Expired:
            return self.expired(request, claimed_key(token) or "", expired=True)
        except NotFound:
            return self.expired(request, "", expired=False)

    def expired(self, request: web.Request, key: str, *, expired: bool) -> web.Response:
        token, fresh = self.csrf.for_form(request.cookies, "fresh")
        response = page("link_expired.html", request, status=410 if expired else 404, prefix=self.prefix,
                        csrf=token, key=key, expired=expired)
        csrf_rules.set_cookie(response, fresh, self.https(request))
        return response

    async def show(self, request: web.Request) -> web.StreamResponse:
        ticket = await self.ticket(request)
        if isinstance(ticket, web.Response):
            return ticket
        view = await self.call(self.service.public_view, ticket)
        tz = self.service.config.board.tz
        token, fresh = self.csrf.for_form(request.cookies, f"r:{view.key}")
        entries = [{"kind": e.kind, "who": e.who, "text": e.text, "when": local(e.at, tz)} for e in view.entries]
        response = page("requester.html", request, prefix=self.prefix, view=view, entries=entries, csrf=token,
                        nonce=secrets.token_urlsafe(16), notice=NOTICES.get(request.query.get("done", ""), ""),
                        action=f"{self.prefix}/r/{request.match_info['token']}")
        csrf_rules.set_cookie(response, fresh, self.https(request))
        return response

    # -- the forms ------------------------------------------------------------

    async def _checked(self, request: web.Request):
        """(ticket, form) for a POST on the page, or a response refusing it."""
        ticket = await self.ticket(request)
        if isinstance(ticket, web.Response):
            return ticket, None
        form = await request.post()
        if not self.csrf.valid(request.cookies.get(csrf_rules.COOKIE), f"r:{ticket.key}",
                               str(form.get(csrf_rules.FIELD, ""))):
            return self.refused(request, "This form had expired. Go back, reload the page and send it again."), None
        return ticket, form

    def refused(self, request: web.Request, text: str, status: int = 400) -> web.Response:
        back = f"{self.prefix}/r/{request.match_info['token']}" if "token" in request.match_info else ""
        return page("message.html", request, status=status, prefix=self.prefix, heading="Not sent", text=text,
                    back=back, back_label="Back to your request")

    def back(self, request: web.Request, done: str) -> web.HTTPSeeOther:
        return web.HTTPSeeOther(f"{self.prefix}/r/{request.match_info['token']}?done={done}")

    async def reply(self, request: web.Request) -> web.StreamResponse:
        ticket, form = await self._checked(request)
        if form is None:
            return ticket
        nonce = str(form.get("nonce", ""))[:64] or secrets.token_urlsafe(16)
        try:
            await self.call(self.service.requester_reply, ticket.key, str(form.get("text", "")), nonce=nonce)
        except Refused as exc:
            return self.refused(request, str(exc))
        raise self.back(request, "replied")

    async def fixed(self, request: web.Request) -> web.StreamResponse:
        ticket, form = await self._checked(request)
        if form is None:
            return ticket
        try:
            await self.call(self.service.requester_fixed, ticket.key)
        except Refused:
            return self.refused(request, "This request is not waiting for your confirmation any more.", 409)
        raise self.back(request, "solved")

    async def not_fixed(self, request: web.Request) -> web.StreamResponse:
        ticket, form = await self._checked(request)
        if form is None:
            return ticket
        try:
            await self.call(self.service.requester_not_fixed, ticket.key)
        except Refused:
            return self.refused(request, "The team cannot take the request back right now. Please write below "
                                         "what still does not work: they will read it.", 409)
        raise self.back(request, "reopened")

    async def fresh(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if not self.csrf.valid(request.cookies.get(csrf_rules.COOKIE), "fresh", str(form.get(csrf_rules.FIELD, ""))):
            return self.refused(request, "This form had expired. Go back, reload the page and send it again.")
        key = str(form.get("key", "")).strip().upper()[:40]
        address = str(form.get("email", "")).strip()[:320]
        client = client_address(self.auth, request.remote, request.headers)
        # Counted whatever the outcome, so the limit itself tells nothing either.
        if key and address and not self.fresh_limit.blocked(key) and not self.address_limit.blocked(client):
            self.fresh_limit.hit(key)
            self.address_limit.hit(client)
            await self.call(self.service.send_page_link, key, address)
        return page("message.html", request, prefix=self.prefix, heading="Check your mail",
                    text=f"If {address or 'that address'} is the address on request {key or 'that request'}, "
                         "a fresh link is on its way. It can take a few minutes.")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/r/fresh", self.fresh)
        app.router.add_get("/r/{token}", self.show)
        app.router.add_post("/r/{token}/reply", self.reply)
        app.router.add_post("/r/{token}/fixed", self.fixed)
        app.router.add_post("/r/{token}/not-fixed", self.not_fixed)
