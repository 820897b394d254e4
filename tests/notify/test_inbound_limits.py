"""`triageboard inbound` refuses mail that costs too much to read, and keeps it for a person (issue 21.4)."""

from __future__ import annotations

import time
from pathlib import Path

from app.service import Service
from data.models import History

from notify_support import run_cli

HEAD = b"From: Rita <rita@customer.example>\r\nSubject: Re: [SET-1] hi\r\nMessage-ID: <r@customer.example>\r\n"


def nested(depth: int) -> bytes:
    parts = [HEAD + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n']
    for level in range(1, depth):
        parts.append(f'--b{level - 1}\r\nContent-Type: multipart/mixed; boundary="b{level}"\r\n\r\n'.encode())
    parts.append(f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nhello\r\n".encode())
    for level in reversed(range(depth)):
        parts.append(f"--b{level}--\r\n".encode())
    return b"".join(parts)


def refused_and_kept(done, tmp_path: Path, original: bytes, words: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("triageboard: message refused: ") and words in lines[0]
    assert "Traceback" not in done.stderr.decode()
    kept = list((tmp_path / "quarantine").iterdir())
    assert len(kept) == 1 and lines[0].endswith(f"kept in {kept[0]}")
    assert kept[0].read_bytes() == original


def test_two_thousand_nested_multiparts_are_refused_and_kept(tmp_path: Path, service: Service, db_url: str):
    service.create(title="Certificates", requester_email="rita@customer.example")
    message = nested(2000)
    done = run_cli(service.config.path, db_url, "inbound", stdin=message)
    refused_and_kept(done, tmp_path, message, "2,000 multipart parts")
    assert History.select().where(History.kind == "comment").count() == 0


def test_a_references_header_of_200000_ids_is_refused_at_once(tmp_path: Path, service: Service, db_url: str):
    service.create(title="Certificates", requester_email="rita@customer.example")
    refs = b" ".join(b"<id%d@x.example>" % n for n in range(200_000))
    message = HEAD + b"References: " + refs + b"\r\n\r\nhello\r\n"
    started = time.monotonic()
    done = run_cli(service.config.path, db_url, "inbound", stdin=message)
    elapsed = time.monotonic() - started
    refused_and_kept(done, tmp_path, message, "header is larger than the limit")
    assert elapsed < 5  # the whole subprocess, start-up included; before: a minute of CPU


def test_a_message_over_the_size_limit_is_kept_whole(tmp_path: Path, service: Service, db_url: str):
    message = HEAD + b"\r\n" + b"x" * (10 * 1024 * 1024 + 10)
    done = run_cli(service.config.path, db_url, "inbound", stdin=message)
    refused_and_kept(done, tmp_path, message, "larger than the limit of 10,485,760")


def test_a_modest_nested_reply_is_still_read(service: Service, db_url: str):
    service.create(title="Certificates", requester_email="rita@customer.example")
    done = run_cli(service.config.path, db_url, "inbound", stdin=nested(5))
    assert done.returncode == 0, done.stderr
    assert History.select().where(History.kind == "comment").count() == 1
