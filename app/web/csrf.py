"""Every form's CSRF token: a signed copy of a per-browser random cookie, checked on each POST.

The double-submit pattern with a signature: the browser holds a random value
in an HttpOnly cookie; each form carries that value signed by the server
(itsdangerous, with a lifetime). A form on another site can make the browser
send the cookie, but cannot read the page to learn the signed token, and a
token made for one browser fails against another browser's cookie. The
signature also binds the token to what the form is for (`purpose`: the login,
a ticket's page), so a token from one requester page is no good on another.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any, Mapping

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "triageboard_csrf"
FIELD = "csrf_token"
LIFETIME = 4 * 3600
"""Seconds a form stays good: a page left open over lunch still sends."""


class Csrf:
    def __init__(self, secret: bytes | None = None) -> None:
        self._serializer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt="triageboard.csrf")

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def token(self, cookie: str, purpose: str) -> str:
        return self._serializer.dumps([cookie, purpose])

    def for_form(self, cookies: Mapping[str, str], purpose: str) -> tuple[str, str | None]:
        """(the token for a form, a new cookie value to set, or None when the browser has one)."""
        cookie = cookies.get(COOKIE)
        fresh = None
        if not cookie:
            cookie = fresh = self.new_cookie()
        return self.token(cookie, purpose), fresh

    def valid(self, cookie: str | None, purpose: str, token: str | None) -> bool:
        if not cookie or not token:
            return False
        try:
            value = self._serializer.loads(token, max_age=LIFETIME)
        except BadSignature:
            return False
        return (isinstance(value, list) and len(value) == 2 and value[1] == purpose
                and hmac.compare_digest(str(value[0]), cookie))


def set_cookie(response: Any, value: str | None, secure: bool) -> None:
    """Give the browser its CSRF cookie (HttpOnly, SameSite=Lax, for the browser session)."""
    if value:
        response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", secure=secure, path="/")
