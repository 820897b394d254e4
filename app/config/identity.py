"""Who is writing: every change is by a `team:` handle, one rule for the board and the command line.

`TRIAGEBOARD_USER` names the handle; without it the login name (`$USER`)
counts only when it is a team handle. No known identity: the board opens
read-only and the command line refuses a write (exit 2), each saying how to
set `TRIAGEBOARD_USER`.
"""

from __future__ import annotations

import os

from app.config.settings import Config

HOW_TO_SET = "set TRIAGEBOARD_USER to your team handle (the handles are under team: in config.yaml)"


class UnknownIdentity(Exception):
    """No team handle for this session, or one that is not in the team; the message is one line."""


def resolve_user(config: Config, given: str | None = None) -> str | None:
    """`given` (a `--by`), else TRIAGEBOARD_USER, else $USER if it is a team handle; None when none is known.

    An explicit handle (`given` or TRIAGEBOARD_USER) that is not in the team is `UnknownIdentity`: a typo
    must not quietly record changes by nobody.
    """
    explicit = (given or "").strip() or os.environ.get("TRIAGEBOARD_USER", "").strip()
    if explicit:
        if config.member(explicit) is None:
            raise UnknownIdentity(f"unknown team member {explicit!r} (team: {', '.join(config.handles)})")
        return explicit
    login = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    return login if login and config.member(login) is not None else None


def required_user(config: Config, given: str | None = None) -> str:
    """`resolve_user`, for a write: no identity is `UnknownIdentity` too."""
    handle = resolve_user(config, given)
    if handle is None:
        raise UnknownIdentity(f"who is writing? give --by HANDLE or {HOW_TO_SET}")
    return handle
