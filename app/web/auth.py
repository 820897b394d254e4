"""Who a request is: a team handle from the password file (argon2), or from a trusted proxy's header.

The password file is `handle:hash` lines, one per team member, the hash
argon2id's encoded form (argon2-cffi's `PasswordHasher`, its parameters
inside the hash, so a stronger default later still verifies old lines). It
is read on every login, so `triageboard passwd` needs no restart. A handle
with no line, or not in `team:`, fails exactly like a wrong password and
takes as long (a dummy hash is verified), so the form tells nothing about
who exists.

A proxy's header is believed only when the connection itself comes from one
of `serve.auth.trusted_proxies`; anyone else sending `Remote-User: alice`
is ignored.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.config.serve import ServeAuth

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password anyone has")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def read_hashes(path: Path) -> dict[str, str]:
    """handle -> encoded hash; a missing file is no entries."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    hashes = {}
    for line in text.splitlines():
        handle, sep, encoded = line.strip().partition(":")
        if sep and handle and encoded.startswith("$argon2"):
            hashes[handle] = encoded
    return hashes


def check_password(path: Path, handles: tuple[str, ...], handle: str, password: str) -> bool:
    """Whether `password` is `handle`'s; unknown handles cost the same time and fail."""
    encoded = read_hashes(path).get(handle) if handle in handles else None
    if not password or len(password) > MAX_PASSWORD:
        encoded = None
    try:
        return _HASHER.verify(encoded or _DUMMY, password or "-") and encoded is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password is at most {MAX_PASSWORD} characters"
    if "\n" in password or "\r" in password:
        return "a password is one line"
    return None


def set_password(path: Path, handle: str, password: str) -> None:
    """Write `handle`'s new hash, keeping the other lines; atomically, readable by the owner only."""
    hashes = read_hashes(path)
    hashes[handle] = _HASHER.hash(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(f"{name}:{encoded}\n" for name, encoded in sorted(hashes.items())))
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def proxy_user(auth: ServeAuth, peer: str | None, headers: Mapping[str, str],
               handles: tuple[str, ...]) -> str | None:
    """The team handle a trusted proxy vouches for, or None (untrusted peer, no header, not a handle)."""
    if auth.mode != "proxy" or not auth.trusts(peer):
        return None
    user = (headers.get(auth.header) or "").strip()
    return user if user in handles else None


def client_address(auth: ServeAuth | None, peer: str | None, headers: Mapping[str, str]) -> str:
    """The browser's address: X-Forwarded-For's last hop before a trusted proxy, else the peer."""
    peer = peer or ""
    if auth is None or not auth.trusts(peer):
        return peer
    hops = [hop.strip() for hop in (headers.get("X-Forwarded-For") or "").split(",") if hop.strip()]
    while hops and auth.trusts(hops[-1]):
        hops.pop()
    return hops[-1] if hops else peer
