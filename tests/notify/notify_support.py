"""Helpers for the notification tests: a real SMTP server (aiosmtpd) on 127.0.0.1, a controlled clock.

The server runs in a thread of the test process, so both in-process delivery
and `triageboard` subprocesses talk to it over TCP, exactly as they would to
a real mail server. Stopping it plays the outage.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller

from app.config.settings import load_config
from app.service import Service
from data.db import open_database

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=default).parsebytes(self.raw)


class _Handler:
    def __init__(self, server: "MailServer"):
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 (aiosmtpd's hook)
        if self.server.delay:
            await asyncio.sleep(self.server.delay)  # a slow server: other connections are served meanwhile
        if not self.server.answer.startswith("250"):
            return self.server.answer
        self.server.inbox.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content)))
        if self.server.hang_up:  # drop the connection once the answer is out
            asyncio.get_running_loop().call_soon(server.transport.close)
        return self.server.answer


@dataclass
class MailServer:
    """An SMTP server that can be stopped and started again on the same port."""

    port: int = field(default_factory=free_port)
    inbox: list[Received] = field(default_factory=list)
    controller: Controller | None = None
    delay: float = 0.0
    """Seconds each message's DATA takes to be answered."""
    answer: str = "250 Message accepted for delivery"
    """The answer to DATA: e.g. '451 try again later' refuses every message for now."""
    hang_up: bool = False
    """Close each connection right after accepting a message."""

    def start(self) -> None:
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Clock:
    """Naive UTC, moved by hand."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 11, 3, 10, 0)):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


CONFIG = """\
board: {{key: SET, timezone: Europe/London}}
services: [LMS]
team:
  - {{handle: alice, name: Alice Adams, email: alice@example.org}}
  - {{handle: bob,   name: Bob Brown,   email: bob@example.org}}
workflow:
  columns:
    - {{key: todo,        title: To Do,       support_status: Open}}
    - {{key: ready,       title: Ready,       support_status: Open}}
    - {{key: in_progress, title: In Progress, support_status: In Progress}}
    - key: on_hold
      title: On Hold
      support_status: {{requester: Pending, external: On Hold}}
    - {{key: resolved,    title: Resolved,    support_status: Development Complete}}
    - {{key: closed,      title: Closed,      support_status: Released}}
  transitions:
    todo:        [ready, on_hold, closed]
    ready:       [in_progress, todo, on_hold]
    in_progress: [on_hold, resolved, ready]
    on_hold:     [in_progress, ready, todo]
    resolved:    [in_progress, closed]
    closed:      [in_progress]
notify:
  smtp:
    host: 127.0.0.1
    port: {port}
    from: Support <support@example.org>
  retry:
    max_attempts: 3
    backoff: 1m
{extra}"""


def write_config(path: Path, port: int, extra: str = "") -> Path:
    path.write_text(CONFIG.format(port=port, extra=textwrap.indent(extra, "  ") if extra else ""), encoding="utf-8")
    return path


def make_service(tmp_path: Path, server: MailServer, db_url: str, clock: Clock, extra: str = "") -> Service:
    config = load_config(write_config(tmp_path / "config.yaml", server.port, extra))
    open_database(db_url)
    return Service(config, clock=clock)


def run_cli(config: Path, db_url: str, *args: str, stdin: bytes | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "--config", str(config), "--db", db_url, *args],
                          input=stdin, capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
