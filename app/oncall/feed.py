"""The live calendar feed: signed tokens, and the team's or one member's shifts as iCalendar bytes.

2i2c's team subscribes to a "Team Roles calendar" rather than importing a file,
so the feed is a URL a calendar client polls (`GET /calendar/<token>.ics`).
The token says whose feed it is and carries an id; it is signed (HMAC-SHA256)
with a secret read from the environment, never from `config.yaml`, and an id
listed under `calendar.revoked` stops working at once (a rotated secret stops
them all). Pure apart from the clock it is given: `app.oncall.feed_server`
answers the HTTP requests.

The window runs from `PAST_DAYS` before the local day to `horizon` after it, so
the body changes at most once a day or when the config changes; `stamp` (the
DTSTAMP, and the Last-Modified header) is the later of the config's change and
local midnight, and the ETag is a digest of the body, so clients that ask
"changed since?" get a 304 until something did change.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

import msgspec

from app.oncall.ics import export_ics, roster_shifts
from app.oncall.rotation import wall_clock
from app.oncall.settings import FeedSettings, OnCall

__all__ = ["Feed", "FeedSettings", "MIN_SECRET", "PAST_DAYS", "TEAM", "build_feed", "mint", "verify", "window"]

PAST_DAYS = 30
"""Shifts this far back stay in the feed, so last week's rota is still there to look at."""
MIN_SECRET = 16
TEAM = "team"
_ID_RE = re.compile(r"^[0-9a-f]{8,32}$")


class Feed(msgspec.Struct, frozen=True):
    body: bytes
    etag: str
    """Quoted, as the header carries it."""
    last_modified: dt.datetime
    shifts: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:24])


def mint(secret: str, member: str | None = None, token_id: str | None = None) -> tuple[str, str]:
    """(token, id) for the team feed (member None) or one member's; a fresh id unless given."""
    token_id = token_id or secrets.token_hex(8)
    payload = f"{'m' if member else 't'}:{member or ''}:{token_id}"
    return f"{_b64(payload.encode())}.{_signature(secret, payload)}", token_id


def verify(secret: str, token: str, revoked: tuple[str, ...] = ()) -> str | None:
    """The feed's subject (TEAM or a handle) for a valid, unrevoked token; None otherwise."""
    try:
        encoded, signature = token.split(".")
        payload = _unb64(encoded).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    kind, _, rest = payload.partition(":")
    member, _, token_id = rest.partition(":")
    if not _ID_RE.match(token_id) or token_id in revoked:
        return None
    if kind == "t" and not member:
        return TEAM
    if kind == "m" and member:
        return member
    return None


def window(now: dt.datetime, tz, horizon_days: int) -> tuple[dt.date, dt.date]:
    today = now.astimezone(tz).date()
    return today - dt.timedelta(days=PAST_DAYS), today + dt.timedelta(days=horizon_days)


def build_feed(oncall: OnCall, subject: str, now: dt.datetime, tz, horizon_days: int,
               changed: dt.datetime) -> Feed:
    """The feed for `subject` (TEAM or a handle) at `now`; `changed` is when the config last changed (aware)."""
    start, end = window(now, tz, horizon_days)
    midnight = wall_clock(now.astimezone(tz).date(), dt.time(0), tz)
    stamp = max(changed.astimezone(dt.timezone.utc), midnight).replace(microsecond=0)
    member = None if subject == TEAM else subject
    body = export_ics(oncall, start, end, member=member, stamp=stamp)
    count = len(roster_shifts(oncall, start, end, member=member))
    return Feed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"', last_modified=stamp, shifts=count)
