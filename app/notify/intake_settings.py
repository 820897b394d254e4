"""The `intake:` section of `config.yaml`: tickets from e-mail, and the IMAP mailbox they are fetched from.

Without the section, `triageboard inbound` records replies only and refuses
a mail that matches no ticket, as before; with it, such a mail opens a
ticket. The IMAP password, like the SMTP one, is never in the file: it
names an environment variable.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

import msgspec

from app.board.ordering import parse_priority
from app.config.yamlnodes import Section
from app.notify.settings import is_address

_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_MAX_ATTACHMENT = 10 * 1024 * 1024


class Route(msgspec.Struct, frozen=True):
    """What a mail to one address becomes: `urgent@…: {kind: escalation, priority: P1}`."""

    kind: str | None = None
    priority: int | None = None
    service: str | None = None
    team: str | None = None


class ImapSettings(msgspec.Struct, frozen=True):
    host: str
    user: str
    password_env: str
    port: int = 993
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    tls: bool = True
    """Implicit TLS (port 993); `starttls: true` upgrades a plain connection (port 143) instead."""
    starttls: bool = False
    ca_file: str | None = None
    """A CA bundle to verify the server with (absolute once parsed); None: the system's."""
    timeout: float = 60.0

    def password(self) -> str:
        value = os.environ.get(self.password_env)
        if value is None:
            raise ValueError(f"intake.imap.password_env: environment variable {self.password_env} is not set")
        return value


class IntakeConfig(msgspec.Struct, frozen=True):
    attachments_dir: str = "attachments"
    """Absolute once parsed (a relative one is beside the config file)."""
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT
    addresses: Mapping[str, Route] = msgspec.field(default_factory=dict)
    acknowledge: bool = False
    """Mail the requester their ticket key when a mail opens a ticket."""
    ack_counts_as_response: bool = False
    """Whether that acknowledgement stamps the first response (by default a person's answer does)."""
    imap: ImapSettings | None = None

    def route(self, recipients: tuple[str, ...]) -> tuple[str, Route] | None:
        """The first configured address the mail was sent to, with its route."""
        wanted = {address.lower(): (address, route) for address, route in self.addresses.items()}
        for recipient in recipients:
            if recipient.lower() in wanted:
                return wanted[recipient.lower()]
        return None


def parse_intake(section: Section | None, config_path: Path, services: tuple[str, ...],
                 kinds: tuple[str, ...]) -> IntakeConfig | None:
    """`kinds` and `services` are the config's, which a route must name."""
    if section is None:
        return None
    section.only("attachments_dir", "max_attachment_bytes", "addresses", "acknowledge", "ack_counts_as_response",
                 "imap")
    folder = section.get("attachments_dir", str, "attachments")
    if not folder.strip():
        raise section.fail("attachments_dir", "a folder is needed (relative paths are beside the config file)")
    size = section.get("max_attachment_bytes", int, DEFAULT_MAX_ATTACHMENT)
    if not 0 <= size <= 1024 ** 3:
        raise section.fail("max_attachment_bytes", "a size in bytes between 0 and 1073741824 (1 GiB)")
    return IntakeConfig(attachments_dir=str(_beside(folder, config_path)), max_attachment_bytes=size,
                        addresses=_parse_addresses(section.section("addresses"), services, kinds),
                        acknowledge=section.get("acknowledge", bool, False),
                        ack_counts_as_response=section.get("ack_counts_as_response", bool, False),
                        imap=_parse_imap(section.section("imap"), config_path))


def _beside(text: str, config_path: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else config_path.parent.resolve() / path


def _parse_addresses(section: Section | None, services: tuple[str, ...], kinds: tuple[str, ...]) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    if section is None:
        return routes
    for address in section.keys():
        if not is_address(address):
            raise section.fail(address, f"{address!r} is not an e-mail address")
        if address.lower() in (a.lower() for a in routes):
            raise section.fail(address, f"{address!r} is listed twice")
        sub = section.section(address)
        if sub is None:
            raise section.fail(address, "expected a mapping such as {kind: escalation, priority: P1}")
        sub.only("kind", "priority", "service", "team")
        kind = sub.get("kind", str)
        if kind is not None and kind not in kinds:
            raise sub.fail("kind", f"unknown kind {kind!r} (kinds: {', '.join(kinds)})")
        priority = sub.get("priority", (str, int), None, convert=parse_priority)
        service = sub.get("service", str)
        if service is not None and services and service not in services:
            raise sub.fail("service", f"unknown service {service!r} (services: {', '.join(services)})")
        routes[address] = Route(kind=kind, priority=priority, service=service,
                                team=sub.get("team", str))
    return routes


def _parse_imap(section: Section | None, config_path: Path) -> ImapSettings | None:
    if section is None:
        return None
    section.only("host", "port", "user", "password_env", "folder", "processed_folder", "tls", "starttls",
                 "ca_file", "timeout")
    tls = section.get("tls", bool, True)
    starttls = section.get("starttls", bool, False)
    if tls and starttls:
        raise section.fail("starttls", "use either tls (implicit TLS, port 993) or starttls (port 143), not both; "
                                       "set tls: false with starttls: true")
    port = section.get("port", int, 993 if tls else 143)
    if not 0 < port < 65536:
        raise section.fail("port", f"{port} is not a TCP port")
    password_env = section.require("password_env", str)
    if not _ENV_RE.match(password_env):
        raise section.fail("password_env", f"{password_env!r} is not an environment variable name "
                                           "(the password itself never goes in this file)")
    folder = section.get("folder", str, "INBOX")
    processed = section.get("processed_folder", str, "Processed")
    if not processed.strip() or processed == folder:
        raise section.fail("processed_folder", "a folder other than the one fetched from")
    ca_file = section.get("ca_file", str)
    if ca_file is not None:
        ca_path = _beside(ca_file, config_path)
        if not ca_path.is_file():
            raise section.fail("ca_file", f"no such file: {ca_path}")
        ca_file = str(ca_path)
    timeout = section.get("timeout", (int, float), 60)
    if not 0 < timeout <= 600:
        raise section.fail("timeout", "a timeout is a number of seconds between 0 and 600")
    return ImapSettings(host=section.require("host", str), user=section.require("user", str),
                        password_env=password_env, port=port, folder=folder, processed_folder=processed,
                        tls=tls, starttls=starttls, ca_file=ca_file, timeout=float(timeout))
