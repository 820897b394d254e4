"""`GET /calendar/<token>.ics` over aiohttp: the live feed, for `triageboard calendar` and for `serve` to mount.

The handler reads only `config.yaml` (the roster follows from it alone, no
database), reloading it when the file changes so a revoked token or a new
override shows on the next poll. A bad, revoked or unknown token gets the same
404 as a path that does not exist: a guess learns nothing. Building a two-year
feed of hour shifts takes a while, so it runs in a thread, not on the event loop.

To mount it in another aiohttp application: `add_feed_routes(app, FeedSource(path, now, secret))`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Callable

from aiohttp import web

from app.config.settings import Config, load_config
from app.config.yamlnodes import ConfigError
from app.oncall.feed import TEAM, Feed, build_feed, verify

ROUTE = "/calendar/{token}.ics"


class FeedSource:
    """The config (reloaded when its file changes), the clock and the signing secret, for the handler."""

    def __init__(self, config: Config, now: Callable[[], dt.datetime], secret: str) -> None:
        self.config = config
        self.now = now
        self.secret = secret
        self._mtime = _mtime(config.path)

    def current(self) -> Config:
        mtime = _mtime(self.config.path)
        if mtime != self._mtime:
            try:
                self.config = load_config(self.config.path)
            except ConfigError as exc:  # keep serving the last good config; say why once per change
                print(f"triageboard calendar: {exc} (still serving the previous config)", file=sys.stderr)
            self._mtime = mtime
        return self.config

    def changed(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._mtime or 0, tz=dt.timezone.utc)

    def feed(self, token: str) -> Feed | None:
        config = self.current()
        oncall = config.oncall
        subject = verify(self.secret, token, oncall.calendar.revoked)
        if subject is None or (subject != TEAM and config.member(subject) is None):
            return None
        return build_feed(oncall, subject, self.now(), config.board.tz, oncall.calendar.horizon_days,
                          self.changed())


def _mtime(path: Path | str) -> float | None:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return None


def add_feed_routes(app: web.Application, source: FeedSource) -> None:
    async def calendar(request: web.Request) -> web.Response:
        feed = await asyncio.get_running_loop().run_in_executor(None, source.feed, request.match_info["token"])
        if feed is None:
            raise web.HTTPNotFound(text="no such calendar\n")
        headers = {"ETag": feed.etag, "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
                   "Cache-Control": "private, max-age=300"}
        if _not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        return web.Response(body=feed.body, headers={**headers, "Content-Type": "text/calendar; charset=utf-8"})

    app.router.add_get(ROUTE, calendar)


def _not_modified(request: web.Request, feed: Feed) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    match = request.headers.get("If-None-Match")
    if match is not None:
        return match.strip() == "*" or feed.etag in [tag.strip().removeprefix("W/") for tag in match.split(",")]
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return feed.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def feed_app(source: FeedSource) -> web.Application:
    """An application that serves only the feed (`triageboard calendar`)."""
    app = web.Application()
    add_feed_routes(app, source)
    return app
