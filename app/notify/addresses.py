"""The one check of an e-mail address and of stored text, at the door (Service.create/edit and import).

An address is parsed by the standard library's RFC 5322 parser
(`email.headerregistry.Address`), which refuses CR/LF, a missing domain and
stray text; control characters are refused too, so a requester address can
never smuggle a header into a mail. NUL is refused in every text field on
both backends, since PostgreSQL cannot store it.
"""

from __future__ import annotations

from email.headerregistry import Address


def address_problem(value: str) -> str | None:
    """Why `value` is not a usable e-mail address, or None (the empty address means "no requester")."""
    if not value:
        return None
    shown = value.encode("unicode_escape").decode("ascii")[:80]
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return f"{shown!r} is not an e-mail address (it contains a control character)"
    try:
        parsed = Address(addr_spec=value)
    except Exception:  # the parser raises ValueError, HeaderParseError or a defect: all mean "not an address"
        return f"{shown!r} is not an e-mail address"
    if not parsed.username or not parsed.domain:
        return f"{shown!r} is not an e-mail address"
    return None


def nul_problem(value: object) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        return "contains a NUL character (\\x00), which PostgreSQL cannot store"
    return None


__all__ = ["address_problem", "nul_problem"]
