"""The `serve:` section: who may use the served board, and where requesters' links point.

`auth` decides how a browser becomes a team member: `mode: proxy` trusts a
header (Remote-User, X-Forwarded-User) only from the listed proxy addresses;
`mode: password` checks argon2 hashes in `password_file` (set with
`triageboard passwd HANDLE`). Without `auth`, `serve` keeps to loopback.
`public_url` is the address requesters' links are built on; without it mails
carry no link (a requester could not reach a loopback board anyway).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import msgspec

from app.config.durations import parse_duration
from app.config.yamlnodes import Section

MODES = ("proxy", "password")
DEFAULT_SESSION_HOURS = 12
DEFAULT_LINK_DAYS = 30
_HEADER_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class ServeAuth(msgspec.Struct, frozen=True):
    mode: str
    """"proxy" or "password"."""
    header: str = "Remote-User"
    """proxy: the header naming the user; it must be a `team:` handle."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    """Addresses (or networks) whose headers are believed: the user header, X-Forwarded-For/Proto."""
    logout_url: str = ""
    """proxy: where "Log out" sends the browser afterwards (oauth2-proxy: /oauth2/sign_out)."""
    password_file: Path | None = None
    """password: `handle:argon2-hash` lines, written by `triageboard passwd`."""
    session_seconds: int = DEFAULT_SESSION_HOURS * 3600
    """How long a login lasts (the cookie and the server's record of it)."""

    def trusts(self, address: str | None) -> bool:
        """Whether a peer at `address` is one of the listed proxies."""
        try:
            peer = ipaddress.ip_address((address or "").strip("[]"))
        except ValueError:
            return False
        return any(peer in ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)


class ServeConfig(msgspec.Struct, frozen=True):
    public_url: str = ""
    """The board's address for people outside (https://board.example.org); requester links start with it."""
    auth: ServeAuth | None = None
    link_seconds: int = DEFAULT_LINK_DAYS * 86400
    """How long a requester's link opens their page; an older one offers a fresh link by mail."""


def parse_serve(section: Section | None, config_dir: Path) -> ServeConfig:
    if section is None:
        return ServeConfig()
    section.only("public_url", "link_lifetime", "auth")

    def url(value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
            raise ValueError(f"expected an address such as https://board.example.org, got {value!r}")
        return value

    return ServeConfig(public_url=section.get("public_url", str, "", convert=url),
                       link_seconds=section.get("link_lifetime", (str, int), DEFAULT_LINK_DAYS * 86400,
                                                convert=lambda v: _seconds(v, "hdw")),
                       auth=_parse_auth(section.section("auth"), config_dir))


def _seconds(value: Any, units: str) -> int:
    seconds = int(parse_duration(value, allow_working=False, units=units).as_timedelta().total_seconds())
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def _parse_auth(section: Section | None, config_dir: Path) -> ServeAuth | None:
    if section is None:
        return None
    section.only("mode", "header", "trusted_proxies", "logout_url", "password_file", "session_lifetime")

    def mode(value: str) -> str:
        if value not in MODES:
            raise ValueError(f"expected one of {', '.join(MODES)}, got {value!r}")
        return value

    def header(value: str) -> str:
        if not _HEADER_RE.match(value):
            raise ValueError(f"{value!r} is not a header name (such as Remote-User or X-Forwarded-User)")
        return value

    def proxies(value: Any) -> tuple[str, ...]:
        found = []
        for item in value:
            try:
                ipaddress.ip_network(str(item), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (such as 127.0.0.1 or 10.0.0.0/8)") \
                    from None
            found.append(str(item))
        return tuple(found)

    chosen = section.require("mode", str, convert=mode)
    password_file = section.get("password_file", str, None, convert=lambda v: _path(v, config_dir))
    if chosen == "password" and password_file is None:
        raise section.fail("password_file", "mode: password needs a password_file (set entries with "
                                            "`triageboard passwd HANDLE`)")
    if chosen == "proxy" and "password_file" in section:
        raise section.fail("password_file", "only for mode: password")
    trusted = section.get("trusted_proxies", list, ("127.0.0.1", "::1"), convert=proxies)
    if chosen == "proxy" and not trusted:
        raise section.fail("trusted_proxies", "mode: proxy needs the proxy's address (such as [127.0.0.1])")
    return ServeAuth(mode=chosen, header=section.get("header", str, "Remote-User", convert=header),
                     trusted_proxies=trusted, logout_url=section.get("logout_url", str, ""),
                     password_file=password_file,
                     session_seconds=section.get("session_lifetime", (str, int), DEFAULT_SESSION_HOURS * 3600,
                                                 convert=lambda v: _seconds(v, "mhdw")))


def _path(value: str, config_dir: Path) -> Path:
    if not value.strip():
        raise ValueError("expected a file name")
    path = Path(value).expanduser()
    return path if path.is_absolute() else (config_dir / path).resolve()
