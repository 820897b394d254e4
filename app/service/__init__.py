"""The one write path: every change to a ticket goes through `Service`, in one transaction
with its history row and its outbox rows.

`core` holds that transaction, the version guard, the history row and the outbox row;
`moves`, `triage`, `paging`, `replies`, `reminders` and `creation` each add one capability's
commands on it, and `service` composes them into the one `Service` the TUI and the command
line call. Its errors and the structs it returns live in `errors` and `results`.

Exported here because whatever uses the service needs all of it (`Service` imports every
capability; the email parser stays a lazy import). Modules inside this package import each
other by full name (`app.service.core`), never this package, so that it is never imported half-built.
"""

from app.service.errors import Conflict, DatabaseUnavailable, NotFound, Refused, write_error
from app.service.results import ChangeResult, MoveResult, Page, Reminder, ReplyResult, Suggestion, WriteResult
from app.service.service import Service

__all__ = [
    "ChangeResult",
    "Conflict",
    "DatabaseUnavailable",
    "MoveResult",
    "NotFound",
    "Page",
    "Refused",
    "Reminder",
    "ReplyResult",
    "Service",
    "Suggestion",
    "WriteResult",
    "write_error",
]
