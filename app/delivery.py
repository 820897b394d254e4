"""Delivering the outbox: SMTP for mail, an HTTP POST for the chat webhook.

At least once, never lost: a row is claimed, sent, and marked sent only after
the server accepted it (`data.outbox` explains the claim). A failure counts
an attempt, records the error and waits `retry.backoff`, doubling each time,
until `retry.max_attempts`, then the row is failed and shown until
`notify --retry-failed` requeues it. A permanent refusal (an invalid address,
a 5xx answer to the recipient or the data) fails the row at once: retrying
it would only repeat the refusal.

Headers are built from values people typed (a requester's name, a title), so
every header value is reduced to one line before it reaches
`EmailMessage`: a `\\r\\nBcc:` in a title stays text in the Subject and can
never become a header of its own. Recipients must be bare addresses.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Callable

import msgspec

from app.config import Config
from app.notify_config import NotifyConfig, SmtpSettings, is_address
from app.outbox import WEBHOOK, thread_id
from data import outbox as outbox_data
from data.models import Notification, Ticket, utcnow
from widgets.safe_text import shown

LEASE = dt.timedelta(minutes=10)
"""How long a claimed row is left alone; a sender that crashed mid-send is retried after it."""


class PermanentError(Exception):
    """The server (or our own check) refused the message for good: retrying cannot help."""


class Report(msgspec.Struct):
    """The outcome of one delivery round."""

    sent: list[Notification] = msgspec.field(default_factory=list)
    retrying: list[tuple[Notification, str]] = msgspec.field(default_factory=list)
    failed: list[tuple[Notification, str]] = msgspec.field(default_factory=list)

    def summary(self) -> str:
        return f"sent {len(self.sent)}, retrying {len(self.retrying)}, failed {len(self.failed)}"


def one_line(text: str, limit: int = 500) -> str:
    """A header value: line breaks and other control characters become spaces; runs of space collapse;
    C1 controls and bidirectional overrides, which `split` keeps, are shown escaped (`widgets.safe_text`)."""
    cleaned = "".join(" " if (ord(c) < 32 or ord(c) == 127 or c in "\x85\u2028\u2029") else c for c in text)
    return shown(" ".join(cleaned.split()))[:limit]


def display_name(row: Notification, ticket: Ticket | None, config: Config | None) -> str:
    """The name to show beside the recipient's address: the requester's, or the team member's."""
    if ticket is not None and ticket.requester_email == row.recipient:
        return one_line(ticket.requester_name, 100)
    if config is not None:
        for member in config.team:
            if member.email == row.recipient:
                return one_line(member.name, 100)
    return ""


def build_message(row: Notification, ticket: Ticket | None, settings: NotifyConfig,
                  name: str = "") -> EmailMessage:
    """The mail for one outbox row, with the stored Message-ID and the ticket's thread."""
    if not is_address(row.recipient):
        raise PermanentError(f"invalid recipient address {one_line(row.recipient, 100)!r}")
    smtp = settings.smtp
    message = EmailMessage()
    message["From"] = smtp.from_address
    try:
        message["To"] = Address(display_name=one_line(name, 100), addr_spec=row.recipient)
    except ValueError as exc:  # email.errors.HeaderParseError is a ValueError
        raise PermanentError(f"invalid recipient address {one_line(row.recipient, 100)!r}: {exc}") from None
    message["Subject"] = one_line(row.subject, 900)
    message["Date"] = format_datetime(row.created.replace(tzinfo=dt.timezone.utc))
    message["Message-ID"] = one_line(row.message_id)
    if ticket is not None:
        thread = thread_id(ticket.key, settings.domain)
        message["In-Reply-To"] = thread
        message["References"] = thread
    message["Reply-To"] = smtp.reply_address
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    message.set_content(row.body)
    return message


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    """An authenticated connection, TLS as configured; the password is read from the environment now."""
    password = smtp.password()
    if smtp.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
    if smtp.user:
        client.login(smtp.user, password or "")
    return client


def post_webhook(url: str, text: str, timeout: float = 15.0) -> None:
    """POST `{"text": ...}` (Slack/Mattermost incoming webhook); a non-2xx answer is an error."""
    request = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentError(f"webhook refused the post: HTTP {exc.code}") from None
        raise OSError(f"webhook answered HTTP {exc.code}") from None


class Deliverer:
    """One delivery round at a time, with an injectable clock and connection factory for tests."""

    def __init__(self, config: Config, *, clock: Callable[[], dt.datetime] = utcnow,
                 connect: Callable[[SmtpSettings], smtplib.SMTP] = connect,
                 post: Callable[[str, str], None] = post_webhook, batch: int = 100):
        self.config = config
        self.settings = config.notify
        self.clock = clock
        self.connect = connect
        self.post = post
        self.batch = batch

    def run_once(self) -> Report:
        """Deliver every row that is due now; one SMTP connection for the round."""
        report = Report()
        now = self.clock()
        rows = [row for row in outbox_data.due(now, self.batch) if outbox_data.claim(row, now, LEASE)]
        mails = [row for row in rows if row.recipient != WEBHOOK]
        for row in rows:
            if row.recipient == WEBHOOK:
                self._attempt(row, report, lambda r=row: self._post(r))
        if mails:
            self._send_mails(mails, report)
        return report

    def _post(self, row: Notification) -> None:
        if not self.settings.webhook_url:
            raise PermanentError("no notify.webhook.url is configured")
        self.post(self.settings.webhook_url, f"{row.subject}\n{row.body}")

    def _send_mails(self, rows: list[Notification], report: Report) -> None:
        try:
            client = self.connect(self.settings.smtp)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"cannot reach {self.settings.smtp.host}:{self.settings.smtp.port}: {_describe(exc)}"
            for row in rows:
                self._failed(row, error, report, permanent=False)
            return
        try:
            for row in rows:
                self._attempt(row, report, lambda r=row: self._send(client, r))
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def _send(self, client: smtplib.SMTP, row: Notification) -> None:
        ticket = Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
        message = build_message(row, ticket, self.settings, display_name(row, ticket, self.config))
        try:
            refused = client.send_message(message, from_addr=self.settings.smtp.sender, to_addrs=[row.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (PermanentError if code >= 500 else smtplib.SMTPException)(
                f"recipient refused: {code} {_text(text)}") from None
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            raise (PermanentError if exc.smtp_code >= 500 else smtplib.SMTPException)(
                f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        if refused:
            raise PermanentError(f"recipient refused: {refused}")

    def _attempt(self, row: Notification, report: Report, send: Callable[[], None]) -> None:
        try:
            send()
        except PermanentError as exc:
            self._failed(row, str(exc), report, permanent=True)
        except (OSError, smtplib.SMTPException) as exc:
            self._failed(row, _describe(exc), report, permanent=False)
        else:
            self.mark_sent(row)
            report.sent.append(row)

    def mark_sent(self, row: Notification) -> None:
        """Separate so a test can play the crash between the server's accept and this mark."""
        outbox_data.mark_sent(row, self.clock())

    def _failed(self, row: Notification, error: str, report: Report, *, permanent: bool) -> None:
        attempts = row.attempts + 1
        retry = self.settings.retry
        if permanent or attempts >= retry.max_attempts:
            outbox_data.mark_attempt_failed(row, error, retry_at=None)
            report.failed.append((row, error if permanent else f"{error} (gave up after {attempts} attempts)"))
        else:
            outbox_data.mark_attempt_failed(row, error, retry_at=self.clock() + retry.delay(attempts))
            report.retrying.append((row, error))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return one_line(str(exc) or type(exc).__name__, 300)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return one_line(str(value), 300)
