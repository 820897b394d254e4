"""Fetching the support mailbox by IMAP (imapclient): each message recorded, then moved out of the way.

The order is what makes a crash harmless. A message is recorded first (its
transaction keyed by the Message-ID) and moved to the processed folder
after; a crash between the two leaves it in the inbox, and the next fetch
finds it already recorded and only moves it. A message without a
Message-ID is given one from the mailbox's UIDVALIDITY and its UID, which
name it as uniquely and as stably. Nothing is deleted: a message that
cannot be read is kept in the quarantine folder before it is moved.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Callable

import msgspec

from app.notify.intake_settings import ImapSettings

FETCH_BATCH = 20
"""Messages fetched per round trip: a crash loses no more work than this."""
MAX_FETCH_BYTES = 11 * 1024 * 1024
"""A message larger than this is fetched only in part, to the quarantine (inbound's own limit is 10 MiB)."""


class ImapProblem(Exception):
    """The server cannot be reached, refuses the login, or hangs up; one line for the user."""


class Fetched(msgspec.Struct, frozen=True):
    uid: int
    raw: bytes
    fallback_id: str
    """A Message-ID for a message that carries none: `<imap.UIDVALIDITY.UID.user@host>`."""
    size: int = 0


def context(settings: ImapSettings) -> ssl.SSLContext:
    """Verified TLS: the system's CAs, or `intake.imap.ca_file` (a private CA, a test server)."""
    return ssl.create_default_context(cafile=settings.ca_file)


class Mailbox:
    """One IMAP session on the configured folder."""

    def __init__(self, settings: ImapSettings):
        self.settings = settings
        self.client = None
        self.uidvalidity = 0

    def __enter__(self) -> "Mailbox":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        from imapclient import IMAPClient

        s = self.settings
        password = s.password()
        try:
            client = IMAPClient(s.host, port=s.port, ssl=s.tls, ssl_context=context(s) if s.tls else None,
                                timeout=s.timeout)
            if s.starttls:
                client.starttls(context(s))
            client.login(s.user, password)
            if not client.folder_exists(s.processed_folder):
                client.create_folder(s.processed_folder)
            selected = client.select_folder(s.folder)
        except Exception as exc:  # noqa: BLE001 (socket, TLS, imaplib and imapclient errors all mean "cannot use it")
            raise ImapProblem(f"{s.host}:{s.port}: {describe(exc)}") from None
        self.client = client
        self.uidvalidity = int(selected.get(b"UIDVALIDITY", 0))

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001 (a connection already gone)
            try:
                self.client.shutdown()
            except Exception:  # noqa: BLE001
                pass
        self.client = None

    @property
    def can_idle(self) -> bool:
        return self.client is not None and self.client.has_capability("IDLE")

    def waiting(self) -> list[int]:
        """UIDs in the folder, oldest first (those deleted but not yet expunged left out)."""
        return sorted(self._call(lambda c: c.search(["NOT", "DELETED"])))

    def fetch(self, uids: list[int]) -> list[Fetched]:
        sizes = self._call(lambda c: c.fetch(uids, ["RFC822.SIZE"]))
        small = [u for u in uids if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= MAX_FETCH_BYTES]
        found = []
        bodies = self._call(lambda c: c.fetch(small, ["BODY.PEEK[]"])) if small else {}
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if uid in bodies:
                raw = bodies[uid].get(b"BODY[]") or b""
            else:  # too large to read whole: the first part goes to the quarantine, which says so
                part = self._call(lambda c, u=uid: c.fetch([u], [f"BODY.PEEK[]<0.{MAX_FETCH_BYTES}>"]))
                raw = next(iter(part.get(uid, {}).values()), b"") if part.get(uid) else b""
                raw = raw if isinstance(raw, bytes) else b""
            found.append(Fetched(uid=uid, raw=raw, size=size,
                                 fallback_id=f"<imap.{self.uidvalidity}.{uid}.{self.settings.user}"
                                             f"@{self.settings.host}>".replace(" ", "")))
        return found

    def move_done(self, uid: int) -> None:
        """Move one message to the processed folder (MOVE, else COPY, flag \\Deleted and expunge it alone)."""
        target = self.settings.processed_folder

        def move(client) -> None:
            if client.has_capability("MOVE"):
                client.move([uid], target)
            else:
                client.copy([uid], target)
                client.add_flags([uid], [b"\\Deleted"])
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge([uid])

        self._call(move)

    def idle(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait in IDLE until the server reports a change or `seconds` pass; whether something arrived."""
        client = self.client
        deadline = time.monotonic() + seconds
        self._call(lambda c: c.idle())
        try:
            while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
                responses = self._call(lambda c: c.idle_check(timeout=min(1.0, max(deadline - time.monotonic(), 0.01))))
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return True
            return False
        finally:
            if self.client is client:
                self._call(lambda c: c.idle_done())

    def _call(self, action: Callable):
        if self.client is None:
            raise ImapProblem("not connected")
        try:
            return action(self.client)
        except ImapProblem:
            raise
        except Exception as exc:  # noqa: BLE001 (the connection is of no further use)
            self.close()
            raise ImapProblem(f"{self.settings.host}:{self.settings.port}: {describe(exc)}") from None


def describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's certificate is not trusted ({exc.verify_message}); set intake.imap.ca_file " \
               "to the CA that signed it"
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = exc.args[0] if exc.args else ""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text or exc)
    return f"{type(exc).__name__}: {' '.join(text.split())[:200]}"
