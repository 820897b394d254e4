"""Reading a reply: one RFC 822 message into plain values the service can record.

Pure: bytes in, `Reply` out. Which ticket the reply belongs to is decided
from the ids in `In-Reply-To`/`References` (the Message-IDs we stored, or a
ticket's thread id) and, failing those, the `[KEY]` in the subject; the
service does the lookup inside its transaction.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import parseaddr

import msgspec

MAX_TEXT = 20_000
"""A comment keeps at most this many characters of the body."""

MAX_BYTES = 10 * 1024 * 1024
"""A message larger than this is refused unread (a reply is text: attachments of this size are not ours to keep)."""
MAX_HEADER_BYTES = 64 * 1024
"""The whole header block; a `References` of 200,000 ids (4 MB) took the parser a minute and 285 MB."""
MAX_MULTIPARTS = 50
"""Multipart containers in one message, hence its MIME nesting depth: 2,000 nested ones overflowed the parser's stack."""

_ID_RE = re.compile(r"<[^<>\s]+>")
_THREAD_RE = re.compile(r"^<([a-z][a-z0-9]*-\d+)(?:\.([0-9a-f]{1,64}))?\.thread@[^>]+>$", re.I)
_KEY_RE = re.compile(r"\[([A-Z][A-Z0-9]{0,9}-\d+)\]", re.I)


class Reply(msgspec.Struct, frozen=True):
    sender: str
    """The bare address of From."""
    sender_name: str
    subject: str
    message_id: str
    references: tuple[str, ...]
    """In-Reply-To first, then References newest first: the likeliest match leads."""
    text: str
    automatic: bool = False
    """An auto-reply or bounce (RFC 3834 Auto-Submitted, or a delivery report): recorded, never acted on."""

    @property
    def thread_keys(self) -> tuple[str, ...]:
        """Ticket keys named by thread ids among the references."""
        keys = []
        for ref in self.references:
            match = _THREAD_RE.match(ref)
            if match:
                keys.append(match.group(1).upper())
        return tuple(keys)

    @property
    def thread_tokens(self) -> dict[str, str]:
        """Ticket key -> the random token its thread id carried (absent in old, guessable ids)."""
        found: dict[str, str] = {}
        for ref in self.references:
            match = _THREAD_RE.match(ref)
            if match and match.group(2):
                found.setdefault(match.group(1).upper(), match.group(2).lower())
        return found

    @property
    def subject_keys(self) -> tuple[str, ...]:
        return tuple(k.upper() for k in _KEY_RE.findall(self.subject))


class NotAMessage(ValueError):
    """The input is not a mail we can read."""


class TooCostly(NotAMessage):
    """The message exceeds a limit: refused before the parser spends time or memory on it."""


def check_cost(data: bytes) -> None:
    """Refuse, before any parsing, a message too large, with too large a header or nested too deeply.

    Every check is a bounded scan of the raw bytes, so a hostile message
    costs milliseconds however it is built.
    """
    if len(data) > MAX_BYTES:
        raise TooCostly(f"message of {len(data):,} bytes is larger than the limit of {MAX_BYTES:,}")
    window = data[:MAX_HEADER_BYTES + 4]
    ends = [i for i in (window.find(b"\n\n"), window.find(b"\r\n\r\n")) if i >= 0]
    header_end = min(ends) if ends else len(window)
    if header_end > MAX_HEADER_BYTES:
        raise TooCostly(f"header is larger than the limit of {MAX_HEADER_BYTES:,} bytes")
    multiparts = len(re.findall(rb"(?i)content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/", data))
    if multiparts > MAX_MULTIPARTS:
        raise TooCostly(f"message has {multiparts:,} multipart parts, more than the limit of {MAX_MULTIPARTS}")


def parse_reply(data: bytes) -> Reply:
    if not data.strip():
        raise NotAMessage("no message on standard input")
    check_cost(data)
    message = BytesParser(policy=default).parsebytes(data)
    if not isinstance(message, EmailMessage) or not (message["From"] or message["Subject"]):
        raise NotAMessage("standard input is not an RFC 822 message (no From or Subject header)")
    name, sender = parseaddr(_one_line(str(message["From"] or "")))
    references = _ids(message.get("In-Reply-To")) + tuple(reversed(_ids(message.get("References"))))
    auto = str(message.get("Auto-Submitted") or "no").strip().lower()
    automatic = (auto != "no" or message.get_content_type() == "multipart/report"
                 or bool(message.get("X-Autoreply")) or sender.lower().startswith("mailer-daemon@"))
    return Reply(sender=sender, sender_name=name, subject=_one_line(str(message["Subject"] or "")),
                 message_id=_one_line(str(message["Message-ID"] or "")), references=_dedupe(references),
                 text=body_text(message)[:MAX_TEXT], automatic=automatic)


def body_text(message: EmailMessage) -> str:
    """The plain-text part; an HTML-only mail is reduced to its text."""
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part).strip()
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", _content(part))
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
        return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    return ""


def _content(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset: keep what can be read
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")


def _ids(header: object) -> tuple[str, ...]:
    return tuple(_ID_RE.findall(str(header or "")))


def _dedupe(ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _one_line(text: str) -> str:
    return " ".join(text.split())
