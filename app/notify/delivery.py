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
import smtplib
import socket
import ssl
import threading
import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Callable, Iterable, Iterator

import msgspec

from app.config.settings import Config
from app.notify.settings import NotifyConfig, SmtpSettings, is_address
from app.notify.chat import PREFIX as CHAT_PREFIX
from app.notify.drafts import WEBHOOK, thread_id
from data import outbox as outbox_data
from data.models import Notification, Ticket, database_proxy, utcnow
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
                  name: str = "", earlier: list[str] | tuple[str, ...] = ()) -> EmailMessage:
    """The mail for one outbox row, with the stored Message-ID and the ticket's thread.

    `earlier` is the conversation before it (`data.outbox.earlier_message_ids`):
    the mail answers the newest of those, and References chains them after the
    ticket's thread id, so the requester's mail reader threads it under their own.
    """
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
        thread = thread_id(ticket.key, settings.domain, ticket.thread_token or "")
        chain = [one_line(m) for m in earlier if m and m != row.message_id]
        message["In-Reply-To"] = chain[-1] if chain else thread
        message["References"] = " ".join([thread, *chain])
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
    client.ehlo_or_helo_if_needed()  # a server that greets and then hangs fails here, before any message
    if smtp.user:
        client.login(smtp.user, password or "")
    return client


def post_webhook(url: str, text: str, timeout: float = 10.0, allow: Iterable[str] = ()) -> None:
    """POST to the chat webhook (`app.notify.webhook`); a refusal to retry no further is a PermanentError."""
    from app.notify.webhook import WebhookRefused, post_webhook as post

    try:
        post(url, text, timeout, allow)
    except WebhookRefused as exc:
        raise PermanentError(str(exc)) from None


CLAIM_BATCH = 10
"""Rows claimed at a time: a row waits behind at most this many sends before its own lease is renewed."""

WEBHOOK_BUDGET = 2
"""A round starts no webhook post after this many webhook timeouts, so hung webhooks delay the next round little."""

_BROKEN = (smtplib.SMTPServerDisconnected, OSError)
"""Failures after which the SMTP connection is of no further use (a timeout is an OSError)."""


class Deliverer:
    """One delivery round at a time, with an injectable clock and connection factory for tests.

    A round drains every due row, mail and webhook each in its own thread, so
    a hung webhook never holds up the requester's mail. Rows are claimed
    `batch` at a time and each claim is renewed just before its send (see
    `data.outbox.renew`), so a second notifier never sends a row this one still
    holds, however slow the server.
    """

    def __init__(self, config: Config, *, clock: Callable[[], dt.datetime] = utcnow,
                 connect: Callable[[SmtpSettings], smtplib.SMTP] = connect,
                 post: Callable[..., None] | None = None, batch: int = CLAIM_BATCH,
                 lease: dt.timedelta | None = None, before_round: Callable[[], object] | None = None,
                 chat_post: Callable[..., None] | None = None):
        self.config = config
        self.settings = config.notify
        self.clock = clock
        self.connect = connect
        self.post = post
        self.chat_post = chat_post
        self.before_round = before_round
        """Writes the scheduled chat posts (handoffs, summaries, new P1s) into the outbox first; see `Paging.post_chat_due`."""
        self.batch = batch
        self.lease = lease or max(LEASE, dt.timedelta(seconds=4 * max(self.settings.smtp.timeout,
                                                                      self.settings.webhook_timeout)))

    def run_once(self) -> Report:
        """Deliver every row that is due now; the mail shares one SMTP connection while it holds."""
        if self.before_round is not None and self.settings.chat:
            self.before_round()
        report = Report()
        start = self.clock()
        errors: list[BaseException] = []
        hooks = threading.Thread(target=self._in_own_connection,
                                 args=(self._post_webhooks, start, report, errors), name="webhooks", daemon=True)
        hooks.start()
        try:
            self._send_mails(start, report)
        finally:
            hooks.join()
        if errors:  # a database error in the webhook thread is the round's, as it would be in this one
            raise errors[0]
        return report

    def _in_own_connection(self, channel: Callable[[dt.datetime, Report], None], start: dt.datetime,
                           report: Report, errors: list[BaseException]) -> None:
        try:
            channel(start, report)
        except Exception as exc:  # noqa: BLE001 (handed to the round's thread)
            errors.append(exc)
        finally:
            database_proxy.close()  # this thread's connection only

    def _claimed(self, start: dt.datetime, *, webhook: bool, batch: int | None = None) -> Iterator[Notification]:
        """Every row of the channel that was due at `start`, claimed a batch at a time, renewed before its turn."""
        misses = 0
        while True:
            rows = [row for row in outbox_data.due(start, batch or self.batch, webhook=webhook)
                    if outbox_data.claim(row, self.clock(), self.lease)]
            if not rows:  # all due rows taken by another sender meanwhile, or none left
                misses += 1
                if misses > 3 or not outbox_data.due(start, 1, webhook=webhook):
                    return
                continue
            misses = 0
            for row in rows:
                if outbox_data.renew(row, self.clock(), self.lease):
                    yield row

    def _post_webhooks(self, start: dt.datetime, report: Report) -> None:
        """One post at a time, within WEBHOOK_BUDGET timeouts: what is left waits for the next round, uncharged."""
        began = time.monotonic()
        for row in self._claimed(start, webhook=True, batch=1):
            if time.monotonic() - began > WEBHOOK_BUDGET * self.settings.webhook_timeout:
                outbox_data.postpone(row, row.last_error, self.clock())
                return
            self._attempt(row, report, lambda r=row: self._post(r))

    def _post(self, row: Notification) -> None:
        if row.recipient.startswith(CHAT_PREFIX):
            self._post_chat(row)
            return
        if not self.settings.webhook_url:
            raise PermanentError("no notify.webhook.url is configured")
        text = f"{row.subject}\n{row.body}"
        if self.post is not None:
            self.post(self.settings.webhook_url, text)
        else:
            post_webhook(self.settings.webhook_url, text, self.settings.webhook_timeout, self.settings.webhook_allow)

    def _post_chat(self, row: Notification) -> None:
        """A `notify.chat` target through apprise; the same address check as the webhook's."""
        from app.notify.chat import host_of, post
        from app.notify.webhook import forbidden_address

        name = row.recipient[len(CHAT_PREFIX):]
        target = self.settings.chat_target(name)
        if target is None:
            raise PermanentError(f"no notify.chat target named {name!r} (it was removed from the config)")
        refused = forbidden_address(host_of(target.url), self.settings.webhook_allow)
        if refused:
            raise PermanentError(f"chat {name} not posted: {host_of(target.url)} {refused} "
                                 "(notify.webhook.allow_addresses allows it)")
        if self.chat_post is not None:
            self.chat_post(target, row.subject, row.body)
            return
        if not post(target.url, row.subject, row.body):
            raise OSError(f"chat {name} did not accept the post")

    def _send_mails(self, start: dt.datetime, report: Report) -> None:
        """One connection while it holds; a dropped one is opened again before the next message.

        A message is charged (an attempt, the backoff) only for a failure in
        its own transaction. When the server cannot be reached, or hangs
        before a message's turn, no message is charged: each is given back
        with the error, due again after the first backoff step.
        """
        smtp = self.settings.smtp
        client: smtplib.SMTP | None = None
        fresh = False
        down = ""
        try:
            for row in self._claimed(start, webhook=False):
                if not down and client is not None and not fresh and not _alive(client):
                    _close(client)
                    client = None
                if not down and client is None:
                    try:
                        client, fresh = self.connect(smtp), True
                    except (OSError, smtplib.SMTPException) as exc:
                        down = f"cannot reach {smtp.host}:{smtp.port}: {_describe(exc)}"
                if down:
                    self._postponed(row, down, report)
                    continue
                fresh = False
                try:
                    self._attempt(row, report, lambda r=row: self._send(client, r), reraise=_BROKEN)
                except _BROKEN:
                    _close(client)
                    client = None
        finally:
            if client is not None:
                try:
                    client.quit()
                except (OSError, smtplib.SMTPException):
                    client.close()

    def _send(self, client: smtplib.SMTP, row: Notification) -> None:
        ticket = Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
        earlier = (outbox_data.earlier_message_ids(ticket.id, row.id, row.recipient)
                   if ticket is not None and row.recipient == ticket.requester_email else ())
        message = build_message(row, ticket, self.settings, display_name(row, ticket, self.config), earlier)
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

    def _attempt(self, row: Notification, report: Report, send: Callable[[], None],
                 reraise: tuple[type[BaseException], ...] = ()) -> None:
        try:
            send()
        except PermanentError as exc:
            self._failed(row, str(exc), report, permanent=True)
        except (OSError, smtplib.SMTPException) as exc:
            self._failed(row, _describe(exc), report, permanent=False)
            if isinstance(exc, reraise):
                raise
        else:
            self.mark_sent(row)
            report.sent.append(row)

    def mark_sent(self, row: Notification) -> None:
        """Separate so a test can play the crash between the server's accept and this mark."""
        outbox_data.mark_sent(row, self.clock())

    def _postponed(self, row: Notification, error: str, report: Report) -> None:
        if outbox_data.postpone(row, error, self.clock() + self.settings.retry.backoff):
            report.retrying.append((row, error))

    def _failed(self, row: Notification, error: str, report: Report, *, permanent: bool) -> None:
        attempts = row.attempts + 1
        retry = self.settings.retry
        if permanent or attempts >= retry.max_attempts:
            outbox_data.mark_attempt_failed(row, error, retry_at=None)
            report.failed.append((row, error if permanent else f"{error} (gave up after {attempts} attempts)"))
        else:
            outbox_data.mark_attempt_failed(row, error, retry_at=self.clock() + retry.delay(attempts))
            report.retrying.append((row, error))


def _alive(client: smtplib.SMTP) -> bool:
    """Whether a connection that served a message is still there (a NOOP answers)."""
    try:
        return client.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.close()
        except OSError:
            pass


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
