"""A requester's link to their ticket's page: signed, expiring, good for that one ticket only.

The token is itsdangerous' `URLSafeTimedSerializer` output over the ticket's key,
signed with the ticket's own random `page_secret` (migration 0010) and salted
with the key: a token minted for one ticket fails the signature check against
any other, so changing the key inside it, or pasting it onto another ticket,
opens nothing. The secret lives in the database, so whichever process drafts
the mail (the board, a command, `serve`) can mint the link; rotating a
ticket's secret would void its links. Pure: no database, no web framework.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "triageboard.requester-page"
PATH = "/r/"


def _serializer(key: str, secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"{SALT}:{key.upper()}")


def mint(key: str, secret: str) -> str:
    """A fresh token for ticket `key` (its `page_secret`)."""
    if not secret:
        raise ValueError("a ticket without a page secret has no requester link")
    return _serializer(key, secret).dumps({"k": key.upper()})


def url(base: str, key: str, secret: str) -> str:
    """The page's address under `base` (serve.public_url); empty without a base."""
    return f"{base.rstrip('/')}{PATH}{mint(key, secret)}" if base and secret else ""


def claimed_key(token: str) -> str | None:
    """The key a token says it is for, unverified: only to find whose secret checks it (or None)."""
    try:
        _, payload = URLSafeTimedSerializer("unused", salt=SALT).loads_unsafe(token)
    except Exception:  # noqa: BLE001 - any garbage is simply no claim
        return None
    key = payload.get("k") if isinstance(payload, dict) else None
    return key if isinstance(key, str) and 0 < len(key) <= 40 else None


class Expired(Exception):
    """The token was good but is older than the link lifetime."""


def verify(token: str, key: str, secret: str, max_age: int) -> bool:
    """Whether `token` opens ticket `key` now; an old but genuine one raises `Expired`."""
    if not secret:
        return False
    try:
        payload = _serializer(key, secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Expired(key) from None
    except BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("k") == key.upper()
