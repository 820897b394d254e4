"""Team members' sessions: a signed cookie naming a session the server holds, for a limited time.

The cookie is itsdangerous' `TimestampSigner` over a random session id, set
`HttpOnly` (no script reads it), `SameSite=Lax` (another site's form does not
carry it) and `Secure` when the board is reached over https. The id points
at a record kept in memory here (the handle, the expiry), so logging out ends
the session at once, however long the cookie would still verify; a restart
of `serve` logs everyone out. The signing key is random per start for the
same reason.
"""

from __future__ import annotations

import secrets
import time

import msgspec
from itsdangerous import BadSignature, TimestampSigner

COOKIE = "triageboard_session"


class Session(msgspec.Struct, frozen=True):
    sid: str
    handle: str
    expires: float
    """time.monotonic() after which it is over."""


class SessionStore:
    def __init__(self, lifetime: int, clock=time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._signer = TimestampSigner(secrets.token_bytes(32), salt="triageboard.session")
        self._sessions: dict[str, Session] = {}

    def start(self, handle: str) -> tuple[Session, str]:
        """A new session for `handle` and the cookie value that names it."""
        self._forget_expired()
        session = Session(secrets.token_urlsafe(24), handle, self.clock() + self.lifetime)
        self._sessions[session.sid] = session
        return session, self._signer.sign(session.sid).decode()

    def find(self, cookie: str | None) -> Session | None:
        """The live session a cookie names; None for a forged, expired or ended one."""
        if not cookie:
            return None
        try:
            sid = self._signer.unsign(cookie, max_age=self.lifetime).decode()
        except BadSignature:  # SignatureExpired is one
            return None
        session = self._sessions.get(sid)
        if session is None or session.expires < self.clock():
            self._sessions.pop(sid, None)
            return None
        return session

    def end(self, sid: str) -> Session | None:
        return self._sessions.pop(sid, None)

    def _forget_expired(self) -> None:
        now = self.clock()
        for sid, session in list(self._sessions.items()):
            if session.expires < now:
                del self._sessions[sid]


def cookie_options(secure: bool, max_age: int | None) -> dict:
    """What every session (and CSRF) cookie is set with."""
    return {"httponly": True, "samesite": "Lax", "secure": secure, "path": "/", "max_age": max_age}
