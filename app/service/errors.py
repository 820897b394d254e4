"""What a command refuses with: one line the TUI's status bar or the CLI's stderr shows as it is.

Every refusal is a `Refused`, so a caller that only reports it catches one class;
the subclasses are for callers that act on the reason (a `Conflict` carries the fresh ticket).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.models import Ticket


class Refused(Exception):
    """A request the rules refuse; the message is one line for the user."""


class NotFound(Refused):
    pass


class DatabaseUnavailable(Refused):
    """The database went away and one reconnection did not bring it back; nothing was written."""


class Conflict(Refused):
    """The card changed since the caller read it; `ticket` is the fresh one."""

    def __init__(self, message: str, ticket: Ticket):
        super().__init__(message)
        self.ticket = ticket


def write_error(key: str, exc: Exception) -> str:
    """One line for a write that failed unexpectedly (a locked file, a database that went away)."""
    return f"{key} was not saved: {first_line(exc)}"


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

