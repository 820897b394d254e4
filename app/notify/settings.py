"""The `notify:` section of `config.yaml`: mail server, webhook, retries, templates.

Parsed beside the notification code rather than in `app.config.settings`, like every
capability's section. The SMTP password is never read from the file: the
file names an environment variable (`password_env`) and the password is read
from it when mail is sent, so `config.yaml` can be committed and shared.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from typing import TYPE_CHECKING

import msgspec

from app.config.durations import parse_duration
from app.notify.snippets import Snippet, parse_snippets
from app.notify.chat import DEFAULT_EVENTS, ChatTarget
from app.notify.templates import DEFAULTS, Templates, parse_templates
from app.config.yamlnodes import Section

if TYPE_CHECKING:
    from email.headerregistry import Address

_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDR_RE = re.compile(r"^[^@\s<>,;\"()\[\]\\]+@[A-Za-z0-9.-]+$")


def is_address(text: str) -> bool:
    """A bare address we are willing to put in an envelope: no spaces, no line breaks, no names."""
    return bool(_ADDR_RE.match(text or ""))


class SmtpSettings(msgspec.Struct, frozen=True):
    host: str = "localhost"
    port: int = 25
    sender: str = "triageboard@localhost"
    """The From address (`from:`); a display name is allowed: `Support <support@example.org>`."""
    sender_name: str = ""
    reply_to: str = ""
    """Where replies go (the address piped into `triageboard inbound`); default: the From address."""
    starttls: bool = False
    ssl: bool = False
    user: str | None = None
    password_env: str | None = None
    """The name of the environment variable holding the password; never the password itself."""
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "triageboard.local"

    @property
    def from_address(self) -> Address:
        from email.headerregistry import Address  # the email package: only when mail is sent

        return Address(display_name=self.sender_name, addr_spec=self.sender)

    @property
    def reply_address(self) -> str:
        return self.reply_to or self.sender

    def password(self) -> str | None:
        """The password from the environment; ValueError when the variable is unset."""
        if not self.user:
            return None
        value = os.environ.get(self.password_env or "")
        if value is None:
            raise ValueError(f"notify.smtp.password_env: environment variable {self.password_env} is not set")
        return value


class RetrySettings(msgspec.Struct, frozen=True):
    max_attempts: int = 8
    backoff: dt.timedelta = dt.timedelta(minutes=1)
    """The first retry waits this long; each further one twice as long as the last."""
    max_delay: dt.timedelta = dt.timedelta(hours=6)

    def delay(self, attempts: int) -> dt.timedelta:
        """How long to wait after the `attempts`-th failed try (1, 2, 4, … times `backoff`)."""
        # In float seconds: a timedelta doubled a thousand times would overflow.
        seconds = self.backoff.total_seconds() * 2.0 ** min(max(attempts - 1, 0), 1000)
        return self.max_delay if seconds >= self.max_delay.total_seconds() else dt.timedelta(seconds=seconds)


class NotifyConfig(msgspec.Struct, frozen=True):
    smtp: SmtpSettings = msgspec.field(default_factory=SmtpSettings)
    webhook_url: str | None = None
    """Slack/Mattermost incoming webhook for pages and P1s; None: no webhook."""
    webhook_timeout: float = 10.0
    """Seconds a webhook POST may take (`webhook.timeout`)."""
    webhook_allow: tuple[str, ...] = ()
    """Link-local / unspecified addresses the webhook may reach all the same (`webhook.allow_addresses`)."""
    retry: RetrySettings = msgspec.field(default_factory=RetrySettings)
    templates: Templates = DEFAULTS
    snippets: dict[str, Snippet] = msgspec.field(default_factory=dict)
    """Canned responses for `reply --snippet` and the board's compose dialog (`notify.snippets`), by name."""
    quarantine: str = ""
    """Where `inbound` keeps a message it refuses as too costly to read; empty: `quarantine/` beside the config."""
    chat: tuple[ChatTarget, ...] = ()
    """`notify.chat`: apprise URLs and the events each gets (`app.notify.chat`)."""

    def chat_target(self, name: str) -> ChatTarget | None:
        return next((t for t in self.chat if t.name == name), None)

    def chat_for(self, event: str) -> tuple[ChatTarget, ...]:
        return tuple(t for t in self.chat if t.wants(event))

    @property
    def domain(self) -> str:
        """The right-hand side of every Message-ID we mint: the sender's domain."""
        return self.smtp.domain


def parse_notify(section: Section | None) -> NotifyConfig:
    if section is None:
        return NotifyConfig()
    section.only("smtp", "webhook", "retry", "templates", "snippets", "quarantine", "chat")
    url, timeout, allow = _parse_webhook(section.section("webhook"))
    return NotifyConfig(smtp=_parse_smtp(section.section("smtp")), quarantine=section.get("quarantine", str, ""),
                        webhook_url=url, webhook_timeout=timeout, webhook_allow=allow,
                        chat=_parse_chat(section),
                        retry=_parse_retry(section.section("retry")),
                        templates=parse_templates(section.section("templates")),
                        snippets=dict(parse_snippets(section.section("snippets"))))


def _sender(text: str) -> tuple[str, str]:
    from email.utils import parseaddr

    name, address = parseaddr(text)
    if not is_address(address) or any(c in text for c in "\r\n"):
        raise ValueError(f"{text!r} is not an e-mail address (e.g. support@example.org "
                         "or 'Support <support@example.org>')")
    return name, address


def _parse_smtp(section: Section | None) -> SmtpSettings:
    if section is None:
        return SmtpSettings()
    section.only("host", "port", "from", "reply_to", "starttls", "ssl", "user", "password_env", "timeout")
    starttls = section.get("starttls", bool, False)
    ssl = section.get("ssl", bool, False)
    if starttls and ssl:
        raise section.fail("ssl", "use either ssl (implicit TLS, port 465) or starttls (port 587), not both")
    port = section.get("port", int, 465 if ssl else 587 if starttls else 25)
    if not 0 < port < 65536:
        raise section.fail("port", f"{port} is not a TCP port")
    name, sender = section.get("from", str, ("", SmtpSettings().sender), convert=_sender)
    _, reply_to = section.get("reply_to", str, ("", ""), convert=_sender)
    user = section.get("user", str)
    password_env = section.get("password_env", str)
    if password_env is not None and not _ENV_RE.match(password_env):
        raise section.fail("password_env", f"{password_env!r} is not an environment variable name "
                                           "(the password itself never goes in this file)")
    if user and not password_env:
        raise section.fail("user", "a user needs password_env: the name of the environment variable "
                                   "holding the password")
    if password_env and not user:
        raise section.fail("password_env", "password_env needs a user")
    timeout = section.get("timeout", (int, float), 30)
    if not 0 < timeout <= 300:
        raise section.fail("timeout", "a timeout is a number of seconds between 0 and 300")
    return SmtpSettings(host=section.get("host", str, "localhost"), port=port, sender=sender, sender_name=name,
                        reply_to=reply_to, starttls=starttls, ssl=ssl, user=user, password_env=password_env,
                        timeout=float(timeout))


def _parse_webhook(section: Section | None) -> tuple[str | None, float, tuple[str, ...]]:
    from app.notify.webhook import forbidden_address, webhook_host

    default = NotifyConfig()
    if section is None:
        return None, default.webhook_timeout, ()
    section.only("url", "timeout", "allow_addresses")

    def address(text: str) -> str:
        try:
            return str(ipaddress.ip_address(text.strip("[]")))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address") from None

    allow = section.get("allow_addresses", list, (), convert=lambda items: tuple(address(str(i)) for i in items))

    def url(text: str) -> str:
        if not re.match(r"^https?://[^\s]+$", text):
            raise ValueError(f"{text!r} is not an http(s) URL")
        host = webhook_host(text)
        if not host:
            raise ValueError(f"{text!r} names no host")
        refused = forbidden_address(host, allow)
        if refused:
            raise ValueError(f"{text!r} {refused}; list the address under notify.webhook.allow_addresses "
                             "if it is really meant")
        return text

    timeout = section.get("timeout", (int, float), default.webhook_timeout)
    if not 0 < timeout <= 300:
        raise section.fail("timeout", "a timeout is a number of seconds between 0 and 300")
    return section.get("url", str, None, convert=url), float(timeout), allow


def _parse_chat(section: Section) -> tuple[ChatTarget, ...]:
    """`chat:` is a list of {url, events, name, summary_at}; a URL apprise does not know is refused here."""
    from app.notify.chat import EVENTS, check_name, check_url, default_name

    targets: list[ChatTarget] = []
    for index, _, item, _ in section.items("chat"):
        if item is None:
            raise section.item_error("chat", index, "a chat target is a mapping {url, events}")
        item.only("url", "events", "name", "summary_at")
        url = item.require("url", str, convert=check_url)
        events = item.get("events", list, None)
        if events is None:
            events = list(DEFAULT_EVENTS)
        if not events:
            raise item.fail("events", f"name at least one of: {', '.join(EVENTS)}")
        for event in events:
            if event not in EVENTS:
                raise item.fail("events", f"unknown event {event!r} (events: {', '.join(EVENTS)})")
        name = item.get("name", str, default_name(url), convert=check_name)
        if any(t.name == name for t in targets):
            raise item.fail("name" if "name" in item else "url", f"a second chat target named {name!r}")
        summary_at = item.get("summary_at", str, dt.time(9), convert=_clock_time)
        targets.append(ChatTarget(name=name, url=url, events=tuple(dict.fromkeys(events)), summary_at=summary_at))
    return tuple(targets)


def _clock_time(text: str) -> dt.time:
    match = re.match(r"^\s*(\d{1,2}):(\d{2})\s*$", text)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return dt.time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"expected a 24-hour time such as '09:00', got {text!r}")


def _parse_retry(section: Section | None) -> RetrySettings:
    if section is None:
        return RetrySettings()
    section.only("max_attempts", "backoff", "max_delay")
    default = RetrySettings()  # a struct's class attributes are its slots, not the defaults
    attempts = section.get("max_attempts", int, default.max_attempts)
    if not 1 <= attempts <= 1000:
        raise section.fail("max_attempts", "at least 1 and at most 1000")

    def wall(text: object) -> dt.timedelta:
        value = parse_duration(text, allow_working=False, units="mhd").as_timedelta()
        if value <= dt.timedelta(0):
            raise ValueError("a delay must be longer than zero")
        return value

    return RetrySettings(max_attempts=attempts,
                         backoff=section.get("backoff", (str, int), default.backoff, convert=wall),
                         max_delay=section.get("max_delay", (str, int), default.max_delay, convert=wall))
