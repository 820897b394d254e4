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
load: a cache that cannot be read, written or decoded is a miss, and the
file is parsed as if there were none. Only files that parse are kept; a
config error is found again on every run.

The entries are data, never code: msgpack (msgspec) of a tagged tree of
mappings, lists and scalars, with a format number, so reading one can only
ever produce values. A directory or entry that someone else owns, or that
group or others may write, is not trusted: it is a miss, and nothing is
written there.

What it saves: importing PyYAML (20 ms: its reader compiles a pattern over all
of Unicode) and parsing, on every start whose config is unchanged. What would
break it: `app.config.yaml_loader` building its values differently without a
bump of `FORMAT` (old entries would decode into the old shapes), a module-level
`import yaml` anywhere on the start path, or keeping anything in an entry but
the tree of `app.config.lines` values (an entry must only ever decode to data).
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import date, datetime
from pathlib import Path
from typing import Any

FORMAT = 2
"""Bump when `app.config.yaml_loader` builds its values differently: older entries then miss."""


def cache_dir() -> Path:
    explicit = os.environ.get("TRIAGEBOARD_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "triageboard"


def _entry(path: Path) -> Path:
    name = hashlib.blake2b(str(path.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir() / f"config-{name}.msgpack"


def _digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _trusted(info: os.stat_result) -> bool:
    """Owned by this user (or root) and writable by nobody else."""
    owner_ok = info.st_uid in (os.getuid(), 0) if hasattr(os, "getuid") else True
    return owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _dir_trusted(directory: Path) -> bool:
    try:
        info = os.stat(directory, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _trusted(info)


def _encode(value: Any) -> Any:
    """A tree msgpack can carry; every list in it is a tag, since scalars are never lists."""
    from app.config.lines import LineDict, LineList

    if isinstance(value, LineDict):
        return ["d", value.line, [[_encode(k), value.key_lines.get(str(k), 0), _encode(v)] for k, v in value.items()]]
    if isinstance(value, LineList):
        return ["l", value.line, [[line, _encode(v)] for line, v in zip(value.item_lines, value)]]
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if -(2 ** 63) <= value < 2 ** 64 else ["i", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["D", value.isoformat()]
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decode(value: Any) -> Any:
    from app.config.lines import LineDict, LineList

    if not isinstance(value, list):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ValueError("not a cached value")
    tag = value[0]
    if tag == "d":
        result = LineDict()
        result.line, result.key_lines = int(value[1]), {}
        for key, line, item in value[2]:
            key = _decode(key)
            result[key] = _decode(item)
            result.key_lines[str(key)] = int(line)
        return result
    if tag == "l":
        items = LineList(_decode(item) for _, item in value[2])
        items.line, items.item_lines = int(value[1]), [int(line) for line, _ in value[2]]
        return items
    if tag == "i":
        return int(value[1])
    if tag == "t":
        return datetime.fromisoformat(value[1])
    if tag == "D":
        return date.fromisoformat(value[1])
    raise ValueError(f"unknown tag {tag!r}")


def get(path: Path, raw: bytes) -> Any | None:
    """What `raw` (the bytes of `path`) parsed to last time, or None."""
    import msgspec

    try:
        entry = _entry(path)
        if not _dir_trusted(entry.parent):
            return None
        handle = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(handle, "rb") as cached:
            info = os.fstat(cached.fileno())
            if not stat.S_ISREG(info.st_mode) or not _trusted(info):
                return None
            kept_format, digest, data = msgspec.msgpack.decode(cached.read())
        if kept_format != FORMAT or digest != _digest(raw):
            return None
        return _decode(data)
    except Exception:  # absent, unreadable, truncated, from another version, not ours: a miss
        return None


def put(path: Path, raw: bytes, data: Any) -> None:
    """Keep `data` as the parse of `raw`; written whole or not at all (a concurrent reader never sees half)."""
    import tempfile  # only when something is written

    import msgspec

    try:
        encoded = msgspec.msgpack.encode((FORMAT, _digest(raw), _encode(data)))
        directory = cache_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _dir_trusted(directory):
            return
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".config-", suffix=".tmp")
    except Exception:  # no home directory, a read-only one, a value msgpack cannot carry: nothing is kept
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(encoded)
        os.replace(temporary, _entry(path))
    except Exception:
        try:
            os.unlink(temporary)
        except OSError:
            pass


__all__ = ["FORMAT", "cache_dir", "get", "put"]
