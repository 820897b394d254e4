"""Chat targets (`notify.chat`): apprise URLs, the events each one gets, and the texts posted.

Teams leaving Grafana OnCall and Opsgenie keep "who is on call" in a chat
channel (Mattermost's SET channel header, Sourcegraph's Slack group). apprise
speaks Slack, Mattermost, Microsoft Teams workflows, Discord and plain JSON
webhooks behind one URL syntax, so a target is just its URL. Every post is an
outbox row like a mail (recipient `chat:<name>`), with a Message-ID made from
the event (`post_key`): two processes writing the same handoff insert the same
key, and the database keeps one. Importing apprise is left to the moment a
URL is checked or a post is made: it costs a tenth of a second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import msgspec

EVENTS = ("pages", "p1", "handoffs", "summary")
"""pages: each escalation step; p1: a new P1; handoffs: who is on call now; summary: the daily round-up."""
DEFAULT_EVENTS = ("pages", "p1", "handoffs")
PREFIX = "chat:"
"""The recipient of an outbox row for a chat target: `chat:<target name>`."""
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ChatTarget(msgspec.Struct, frozen=True):
    name: str
    """Names the target in the outbox and `notify --status` (the URL may hold a token: it is never shown)."""
    url: str
    events: tuple[str, ...] = DEFAULT_EVENTS
    summary_at: dt.time = dt.time(9, 0)
    """The daily summary's wall-clock time in the board's zone (with `summary` in `events`)."""

    @property
    def recipient(self) -> str:
        return PREFIX + self.name

    def wants(self, event: str) -> bool:
        return event in self.events


def default_name(url: str) -> str:
    """A name that survives reordering the list: a digest of the URL (the URL itself may hold a secret)."""
    return "chat-" + hashlib.sha256(url.encode()).hexdigest()[:8]


def check_url(url: str) -> str:
    """`url` when apprise knows how to post to it; ValueError naming the schema otherwise."""
    import apprise  # only when a config has chat targets

    if apprise.Apprise.instantiate(url.strip()) is None:
        schema = url.split("://", 1)[0] if "://" in url else url
        raise ValueError(f"apprise does not know the URL {schema + '://…'!r} (see the apprise wiki for "
                         "Slack slack://, Mattermost mmost(s)://, Teams workflows://, Discord discord://, "
                         "JSON json(s)://)")
    return url.strip()


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ValueError(f"a target name is letters, digits, '.', '_' or '-' (at most 64), got {name!r}")
    return name


def post_key(event: str, *parts: object) -> str:
    """A stable key for one event ("handoff", rotation, shift number): the same event, the same key."""
    return hashlib.sha256("\x1f".join((event, *map(str, parts))).encode()).hexdigest()[:32]


def message_id(key: str, target: ChatTarget, domain: str) -> str:
    return f"<chat.{key}.{target.name}@{domain}>"


def host_of(url: str) -> str:
    """The host an apprise URL posts to (schema://[user@]host[:port]/...), for the address check."""
    rest = url.split("://", 1)[1] if "://" in url else url
    authority = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    return authority.split(":", 1)[0]


# -- what is posted ---------------------------------------------------------

def when(instant: dt.datetime, zone: ZoneInfo) -> str:
    """"Mon 7 Dec 09:00" on `zone`'s clock."""
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def handoff_text(rotation: str, on_duty: Sequence[str], until: dt.datetime | None,
                 following: Sequence[str], zone: ZoneInfo) -> str:
    """"Now on call for SET primary: bob until Mon 7 Dec 09:00; next: carol"."""
    who = ", ".join(on_duty)
    text = f"Now on call for {rotation}: {who}" if who else f"Nobody on call for {rotation}"
    if until is not None:
        text += f" until {when(until, zone)}; next: {', '.join(following) or 'nobody'}"
    return text


def page_text(key: str, priority: str, title: str, step: str, paged: Iterable[str]) -> str:
    return f"{key} [{priority}] paged {', '.join(paged) or 'nobody'} ({step}): {title}"


def p1_text(key: str, title: str, assignee: str | None) -> str:
    return f"New P1 {key}: {title}" + (f" (assigned to {assignee})" if assignee else "")


def summary_text(day: dt.date, on_call: Sequence[tuple[str, Sequence[str]]], p1s: Sequence[tuple[str, str]],
                 at_risk: Sequence[tuple[str, str, str]]) -> str:
    """The daily round-up: who is on call, open P1s, tickets at risk of missing a response target."""
    lines = [f"On call {day:%a} {day.day} {day:%b}:"]
    lines += [f"  {name}: {', '.join(who) or 'nobody'}" for name, who in on_call] or ["  no rotations"]
    lines.append(f"Open P1s ({len(p1s)}):" if p1s else "Open P1s: none")
    lines += [f"  {key} {title}" for key, title in p1s]
    lines.append(f"At risk ({len(at_risk)}):" if at_risk else "At risk: none")
    lines += [f"  {key} {title}: {what}" for key, title, what in at_risk]
    return "\n".join(lines)


def post(url: str, title: str, body: str) -> bool:
    """Post through apprise; False when the service did not accept it (apprise logs the reason)."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        raise ValueError("apprise does not know this URL")
    return bool(sender.notify(body=body, title=title))
