"""A ticket's history read as a conversation: what the requester wrote, what we answered, what we noted.

One ordering for `ticket show`, its JSON and the board's detail view: the
history rows, oldest first, each turned into a `TimelineEntry` of plain
strings. Who could read an entry is part of it (`audience`): a mail from or
to the requester is "requester", a note is "internal" and must never be
mistaken for something the requester saw, and the board's own events
(moves, triage, edits, links) are "team". The text is kept as written;
whoever displays it passes it through `widgets.safe_text.shown`.

Pure: it reads attributes of history rows (any object with `id`, `at`,
`kind`, `by`, `from_state`, `to_state`, `hold_reason`, `reason`, `detail`,
`undoes`), never the database.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Iterable

import msgspec

INTERNAL_KINDS = ("note",)
"""History kinds the requester never sees: marked internal wherever they are shown or exported."""
REQUESTER = "requester"
INTERNAL = "internal"
TEAM = "team"


class TimelineEntry(msgspec.Struct, frozen=True):
    id: int
    at: dt.datetime
    """Naive UTC, as stored."""
    kind: str
    """The history kind: create, move, comment (a requester's mail), held, reply, note, link, edit, triage, …"""
    by: str
    audience: str
    """"requester" (a mail from or to them), "internal" (a note: team only) or "team" (a board event)."""
    headline: str
    """One line: "To Do → Ready", "reply to rita@example.org", "note", "link GitHub issue org/repo#12"."""
    text: str = ""
    """The words, several lines (a mail, a reply, a note); empty for an event."""
    url: str = ""
    """A link's URL."""

    @property
    def internal(self) -> bool:
        return self.audience == INTERNAL


def is_internal(kind: str) -> bool:
    return kind in INTERNAL_KINDS


def detail_of(entry: Any) -> dict[str, Any]:
    try:
        values = json.loads(entry.detail) if entry.detail else {}
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def timeline(rows: Iterable[Any], column_title: Callable[[str], str] = str) -> list[TimelineEntry]:
    """The entries for `rows` (a ticket's history, oldest first); `column_title` names a state key."""
    return [entry_of(row, column_title) for row in rows]


def entry_of(row: Any, column_title: Callable[[str], str] = str) -> TimelineEntry:
    def title(state: str | None) -> str:
        if not state:
            return ""
        try:
            return column_title(state)
        except KeyError:
            return state

    detail = detail_of(row)
    kind, audience, text, url = row.kind, TEAM, "", ""
    reason = row.reason or ""
    if kind == "move":
        headline = f"{title(row.from_state)} → {title(row.to_state)}"
        if row.hold_reason:
            headline += f" ({row.hold_reason})"
        if row.undoes:
            headline += " [undo]"
        if reason:
            headline += f": {reason}"
    elif kind == "create":
        headline = f"created in {title(row.to_state)}"
    elif kind == "comment":
        audience = REQUESTER
        sender = str(detail.get("from") or row.by or "the requester")
        subject = str(detail.get("subject") or "")
        headline = f"mail from {sender}" + (f": {subject}" if subject else "")
        if detail.get("automatic"):
            headline += " (automatic reply)"
        text = str(detail.get("body") or "")
    elif kind == "held":
        sender = str(detail.get("from") or row.by or "an unknown sender")
        headline = f"held #{row.id}: mail from an unknown sender ({sender}), not applied"
        text = str(detail.get("body") or "")
    elif kind == "reply":
        audience = REQUESTER
        headline = f"reply to {detail.get('to') or 'the requester'}"
        if detail.get("snippet"):
            headline += f" (snippet {detail['snippet']})"
        text = str(detail.get("text") or "")
    elif kind == "note":
        audience = INTERNAL
        headline = "note (internal)"
        text = str(detail.get("text") or "")
    elif kind == "link":
        url = str(detail.get("url") or "")
        headline = f"link {detail.get('label') or url}"
    elif kind == "edit":
        changes = detail.get("changes", detail)  # older edits stored {field: [old, new]} flat
        parts = [f"{name.replace('_', ' ')}: {_value(pair[0])} → {_value(pair[1])}"
                 for name, pair in changes.items() if isinstance(pair, list) and len(pair) == 2]
        headline = "edited " + ("; ".join(parts) if parts else "nothing")
    else:
        headline = f"{kind}: {reason}" if reason else kind
    return TimelineEntry(id=row.id, at=row.at, kind=kind, by=row.by or "", audience=audience,
                         headline=headline, text=text, url=url)


def _value(value: Any) -> str:
    if value in (None, ""):
        return "-"
    text = str(value)
    return repr(text[:60] + "…") if len(text) > 60 else repr(text)


def links_of(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The ticket's links (history kind "link"), oldest first: {url, label, by, at}."""
    found = []
    for row in rows:
        if row.kind == "link":
            detail = detail_of(row)
            found.append({"url": detail.get("url", ""), "label": detail.get("label", ""), "by": row.by or "",
                          "at": row.at, "id": row.id})
    return found


__all__ = ["INTERNAL_KINDS", "TimelineEntry", "entry_of", "is_internal", "links_of", "timeline"]
