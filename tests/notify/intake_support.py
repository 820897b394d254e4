"""Helpers for the mail-intake tests: a config with an `intake:` section, and real RFC 822 mails built by hand."""

from __future__ import annotations

import textwrap
from email.message import EmailMessage
from pathlib import Path

from app.config.settings import load_config
from app.service import Service
from data.db import open_database

from notify_support import Clock, MailServer, write_config

INTAKE = """\
intake:
  attachments_dir: files
  max_attachment_bytes: 1000
  acknowledge: true
  addresses:
    urgent@example.org: {kind: escalation, priority: P1}
    billing@example.org: {kind: question, service: LMS}
"""


def intake_config(tmp_path: Path, server: MailServer, intake: str = INTAKE, before: str = "") -> Path:
    path = write_config(tmp_path / "config.yaml", server.port)
    path.write_text(before + path.read_text(encoding="utf-8") + textwrap.dedent(intake), encoding="utf-8")
    return path


def intake_service(tmp_path: Path, server: MailServer, db_url: str, clock: Clock, intake: str = INTAKE) -> Service:
    config = load_config(intake_config(tmp_path, server, intake))
    open_database(db_url)
    return Service(config, clock=clock)


def new_mail(text: str = "Certificates are not issued for the spring run.", *,
             subject: str = "Certificates not issued", sender: str = "Rita Reyes <rita@customer.example>",
             to: str = "support@example.org", message_id: str = "<first@customer.example>",
             headers: dict[str, str] | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    return mail
