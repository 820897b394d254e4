"""The web side's HTML: Jinja2 templates in `templates/`, autoescaped, sent with headers that keep them private.

Autoescape is on for every template (and for strings), so a title such as
`<script>` is text on the page. The headers: no script runs but none is sent
(CSP `default-src 'none'`, the stylesheet from this server only), no other
site may frame the page, the page is not cached, and no Referer leaves it
(a requester's page address is their access).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLE_PATH = "/_web/style.css"

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_ENV = Environment(loader=PackageLoader("app.web", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def page(name: str, request: web.Request, *, status: int = 200, prefix: str = "", **values: Any) -> web.Response:
    """Template `name` rendered as the response, under the path `prefix` the board is served at."""
    html = _ENV.get_template(name).render(prefix=prefix, style=prefix + STYLE_PATH, **values)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def local(value: dt.datetime, tz: dt.tzinfo) -> str:
    """A stored naive-UTC instant as the board's wall clock, for people."""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(tz).strftime("%d %b %Y, %H:%M")


async def style(_request: web.Request) -> web.Response:
    return web.Response(body=(TEMPLATES / "style.css").read_bytes(), content_type="text/css",
                        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})


def add_style_route(app: web.Application) -> None:
    app.router.add_get(STYLE_PATH, style)
