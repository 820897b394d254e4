"""Reading a mail: one RFC 822 message into plain values the service can record.

Pure: bytes in, `Reply` out (a reply to a ticket, or a new request: the
service decides). The comment text has the quoted original and the
signature stripped (mail-parser-reply); `original` keeps the whole text. Which ticket the reply belongs to is decided
from the ids in `In-Reply-To`/`References` (the Message-IDs we stored, or a
ticket's thread id) and, failing those, the `[KEY]` in the subject; the
service does the lookup inside its transaction.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import default
from email.utils import getaddresses, parseaddr

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


class Attachment(msgspec.Struct, frozen=True):
    """A file the mail carried: its name as sent (unsafe: `safe_name` is what goes on disk), type and bytes."""

    name: str
    content_type: str
    data: bytes


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
    """An auto-reply, bounce or list mail: recorded, never acted on, never answered."""
    original: str = ""
    """The whole text part, quotes and signature included (`text` is without them)."""
    recipients: tuple[str, ...] = ()
    """Where it was sent, lower-cased: Delivered-To and X-Original-To first, then To and Cc."""
    attachments: tuple[Attachment, ...] = ()
    automatic_why: str = ""
    """Which header made it automatic, for the history entry."""

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
    if not isinstance(message, EmailMessage) or not (_header(message, "From") or _header(message, "Subject")):
        raise NotAMessage("standard input is not an RFC 822 message (no From or Subject header)")
    try:
        name, sender = sender_of(message)
        references = (_ids(message.get("In-Reply-To")) + tuple(reversed(_ids(message.get("References"))))
                      + returned_ids(message))
        original = body_text(message)
        why = automatic_reason(message, sender)
        return Reply(sender=_clean(sender), sender_name=_clean(name), subject=_clean(_one_line(_header(message, "Subject"))),
                     message_id=_clean(_one_line(_header(message, "Message-ID"))), references=_dedupe(references),
                     text=_clean(strip_quotes(original))[:MAX_TEXT], automatic=bool(why), automatic_why=why,
                     original=_clean(original)[:MAX_TEXT * 5], recipients=recipients(message),
                     attachments=attachments(message))
    except (ValueError, TypeError, LookupError, AttributeError, IndexError) as exc:
        # The standard parser tolerates nearly anything, but a header it cannot fold back
        # into text (a broken encoded word, a defect it raises on) is this mail's fault.
        raise NotAMessage(f"cannot read the message: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") \
            from None


def _raw(message: EmailMessage, name: str) -> list[str]:
    return [str(v) for k, v in message.raw_items() if k.lower() == name.lower()]


def sender_of(message: EmailMessage) -> tuple[str, str]:
    """(display name, address) of From; the address is read before any encoded word is decoded.

    A name such as `=?utf-8?q?Rita=0D=0ABcc=3A_x=40evil?=` decodes to text
    holding a line break and another address; parsed after decoding, that
    address would become the sender.
    """
    raw = _raw(message, "From")
    name, address = parseaddr(_one_line(raw[0] if raw else ""))
    try:
        name = str(make_header(decode_header(name)))
    except (ValueError, LookupError, UnicodeError):
        pass
    return _one_line(name), address


def _header(message: EmailMessage, name: str) -> str:
    """The header's text; one the structured parser refuses (an encoded CR LF in a name) is decoded plainly."""
    try:
        return str(message.get(name) or "")
    except (ValueError, TypeError, IndexError, AttributeError):
        raw = next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), "")
        try:
            return str(make_header(decode_header(raw)))
        except (ValueError, LookupError, UnicodeError):
            return raw


def _clean(text: str) -> str:
    """NUL cannot be stored (PostgreSQL): shown as U+FFFD instead of refusing the whole mail."""
    return text.replace("\x00", "\ufffd")


ROBOT_SENDERS = ("mailer-daemon@", "postmaster@", "noreply@", "no-reply@", "donotreply@")


def automatic_reason(message: EmailMessage, sender: str) -> str:
    """Why this mail is a robot's (an auto-reply, a bounce, a list), or "" for a person's.

    Such mail is recorded and never answered, so two robots cannot loop
    (RFC 3834; RFC 2369 List-* headers; Precedence, which many auto-responders still use).
    """
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto[:40]}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"):
        if message.get(name) is not None:
            return f"{name} header"
    if message.get_content_type() == "multipart/report":
        return "a delivery report (multipart/report)"
    if _header(message, "Return-Path").strip() == "<>":
        return "Return-Path <> (a bounce)"
    if sender.lower().startswith(ROBOT_SENDERS):
        return f"sent by {sender.split('@')[0].lower()}"
    return ""


def returned_ids(message: EmailMessage) -> tuple[str, ...]:
    """The Message-ID of the mail a bounce returns (RFC 3464 carries its headers), so the bounce finds its ticket."""
    if message.get_content_type() != "multipart/report":
        return ()
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if hasattr(inner, "get"):
                found.extend(_ids(inner.get("Message-ID")))
        elif kind == "text/rfc822-headers":
            headers = BytesParser(policy=default).parsebytes((part.get_payload(decode=True) or b""), headersonly=True)
            found.extend(_ids(headers.get("Message-ID")))
    return tuple(found)


def recipients(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        for value in _raw(message, name):
            for _, address in getaddresses([_one_line(value)]):
                if address and "@" in address:
                    found.append(address.strip().lower())
    return _dedupe(tuple(found))


def attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for part in message.iter_attachments() if message.is_multipart() else ():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        found.append(Attachment(name=_clean(_one_line(part.get_filename() or "")), content_type=part.get_content_type(),
                                data=payload))
    return tuple(found)


_REPLY_PARSER = None


def strip_quotes(text: str) -> str:
    """The new part of a reply: the quoted mail below it and the signature removed.

    mail-parser-reply knows the "On … wrote:" lines of a dozen languages; when
    it finds nothing new (a mail that is all quote), the whole text stays.
    """
    global _REPLY_PARSER
    if not text.strip():
        return ""
    from mailparser_reply import EmailReplyParser

    if _REPLY_PARSER is None:
        _REPLY_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs"])
    try:
        replies = _REPLY_PARSER.read(text).replies
    except Exception:  # noqa: BLE001 (a third-party parser's bug must not lose the mail: keep it whole)
        return text
    first = replies[0].body.strip() if replies else ""
    return first or text


def body_text(message: EmailMessage) -> str:
    """The plain-text part; an HTML-only mail is converted to readable text (html2text)."""
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part).strip()
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(_content(part))
    return ""


def html_to_text(markup: str) -> str:
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0  # keep the sender's lines: wrapping is the reader's
    converter.ignore_images = True
    try:
        return converter.handle(markup).strip()
    except Exception:  # noqa: BLE001 (html2text on hostile markup: fall back to the tags removed)
        return html.unescape(re.sub(r"<[^>]+>", " ", markup)).strip()


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
