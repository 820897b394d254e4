"""The last parse of each config file, kept by the digest of its text: an unchanged file is not parsed again.

Every `triageboard` command and every board reads `config.yaml`, which
changes rarely; parsing it means importing PyYAML, 20 ms of a start that
should feel instant. Like Python's own `__pycache__`, this keeps the result
of the last parse, but keyed by the bytes of the file rather than its mtime:
a file edited twice within the clock's resolution, or restored from a backup,
still misses when its text differs by one byte.

Where: `$TRIAGEBOARD_CACHE`, else `$XDG_CACHE_HOME/triageboard`, else
`~/.cache/triageboard`; one file per config path (so the directory does not
grow with every edit), readable by its owner only. Nothing here ever fails a
load: a cache that cannot be read, written or unpickled is a miss, and the
file is parsed as if there were none. Only files that parse are kept; a
config error is found again on every run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

FORMAT = 1
"""Bump when `app.yaml_loader` builds its values differently: older entries then miss."""


def cache_dir() -> Path:
    explicit = os.environ.get("TRIAGEBOARD_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "triageboard"


def _entry(path: Path) -> Path:
    name = hashlib.blake2b(str(path.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir() / f"config-{name}.pickle"


def _digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def get(path: Path, raw: bytes) -> Any | None:
    """What `raw` (the bytes of `path`) parsed to last time, or None."""
    try:
        with open(_entry(path), "rb") as cached:
            kept_format, digest, data = pickle.load(cached)
    except Exception:  # absent, unreadable, truncated, from another version: a miss
        return None
    return data if kept_format == FORMAT and digest == _digest(raw) else None


def put(path: Path, raw: bytes, data: Any) -> None:
    """Keep `data` as the parse of `raw`; written whole or not at all (a concurrent reader never sees half)."""
    import tempfile  # only when something is written

    try:
        directory = cache_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".config-", suffix=".tmp")
    except Exception:  # no home directory, a read-only one: nothing is kept
        return
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump((FORMAT, _digest(raw), data), out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, _entry(path))
    except Exception:
        try:
            os.unlink(temporary)
        except OSError:
            pass


__all__ = ["FORMAT", "cache_dir", "get", "put"]
