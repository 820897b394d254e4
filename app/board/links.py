"""External references of a ticket: a GitHub issue, a pull request, a FreshDesk ticket, a mail thread.

2i2c's process keeps support talk in FreshDesk and coordination in a GitHub
issue ("the GitHub issue is just for 2i2c team members to coordinate") and
asks for "links to relevant discussions from other platforms" in a private
note. A link is that, kept on the ticket. Only http, https and mailto are
accepted: a `javascript:` or `file:` URL pasted into a ticket must not become
something a terminal or browser would follow. Pure functions: the service
stores what these accept.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

SCHEMES = ("http", "https", "mailto")
MAX_URL = 2000
MAX_LABEL = 200

_GITHUB = re.compile(r"^/([^/]+)/([^/]+)/(issues|pull|discussions)/(\d+)")
_FRESHDESK = re.compile(r"/tickets/(\d+)")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a link, or None."""
    if not url:
        return "a link needs a URL"
    if len(url) > MAX_URL:
        return f"a URL is at most {MAX_URL} characters"
    if any(ord(c) < 33 or ord(c) == 127 or 0x80 <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in url):
        return f"{_quoted(url)} contains a space or a control character"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"{_quoted(url)} is not a URL ({exc})"
    if parts.scheme.lower() not in SCHEMES:
        return f"{_quoted(url)}: only {', '.join(SCHEMES)} links are kept"
    if parts.scheme.lower() == "mailto":
        from app.notify.addresses import address_problem

        address = unquote(parts.path)
        return address_problem(address) if address else f"{_quoted(url)} names no address"
    if not parts.hostname:
        return f"{_quoted(url)} names no host"
    return None


def label_problem(label: str) -> str | None:
    if len(label) > MAX_LABEL:
        return f"a label is at most {MAX_LABEL} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in label):
        return "a label is one line without control characters"
    return None


def default_label(url: str) -> str:
    """What to call a link nobody labelled: "GitHub issue org/repo#12", "FreshDesk ticket 4711", or the host."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "mailto":
        return unquote(parts.path)
    host = (parts.hostname or "").lower()
    if host in ("github.com", "www.github.com"):
        match = _GITHUB.match(parts.path)
        if match:
            owner, repo, what, number = match.groups()
            noun = {"issues": "issue", "pull": "pull request", "discussions": "discussion"}[what]
            return f"GitHub {noun} {owner}/{repo}#{number}"
    if host.endswith(".freshdesk.com"):
        match = _FRESHDESK.search(parts.path) or _FRESHDESK.search(parts.fragment)
        if match:
            return f"FreshDesk ticket {match.group(1)}"
    return host


def _quoted(url: str) -> str:
    return repr(url.encode("unicode_escape").decode("ascii")[:80])


__all__ = ["SCHEMES", "default_label", "label_problem", "url_problem"]
