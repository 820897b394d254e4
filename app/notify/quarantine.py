"""Keeping a refused inbound message for a person to look at.

`triageboard inbound` refuses a message too costly to read (`app.notify.inbound.TooCostly`);
its original bytes are written here, untouched, so nothing sent to the
support address is lost without a trace.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


def folder(configured: str, config_path: Path) -> Path:
    """`notify.quarantine` (relative to the config's folder), else `quarantine/` beside the config."""
    path = Path(configured).expanduser() if configured else Path("quarantine")
    return path if path.is_absolute() else (config_path.parent.resolve() / path)


def keep(head: bytes, rest: BinaryIO | None, where: Path, now: dt.datetime) -> Path:
    """Write `head` and whatever remains to be read of `rest` to a new file in `where`; its path."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
    with open(path, "xb") as out:
        out.write(head)
        while rest is not None and (chunk := rest.read(CHUNK)):
            out.write(chunk)
    return path
