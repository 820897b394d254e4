"""The core of the write path: one transaction per command, the version guard, the history row, the outbox row.

Every command of the service (`app.service.moves`, `.triage`, `.paging`, `.replies`,
`.reminders`, `.creation`) is a method on a subclass of `WritePath` that hands its
work to `_write` and changes tickets only through `_fetch_for_write`, `_save`,
`_record` and `_notify`. Nothing in here knows what a move or a page is.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any, Callable

from peewee import DatabaseError as PeeweeDatabaseError
from peewee import InterfaceError, OperationalError

from app.notify import drafts as outbox
from app.config.settings import Config
from app.oncall.escalation import AddWorking
from app.board.workflow import support_status
from app.service.errors import Conflict, DatabaseUnavailable, NotFound, Refused, first_line
from app.service.results import WriteResult
from data import live
from data.db import drop_connection, is_sqlite, storage_problem
from data.models import History, Notification, Ticket, database_proxy, utcnow
from data.statements import Prepared


class WritePath:
    """Ticket writes over the bound database, with an injectable clock for tests.

    What it guarantees: a command's change to a ticket, the history row that
    says so and the outbox rows it sends commit in one transaction, or none of
    them does. A lock wait (SQLite busy, a PostgreSQL deadlock or serialization
    failure) or a connection the server dropped before the commit reruns the
    whole `work`; a stale card is refused with `Conflict` and writes nothing;
    live boards hear of the change and `after_commit` runs only once it committed.

    What would break it:
    - writing a ticket outside `_write` (a screen calling `Ticket.save()`): no
      history, no version bump, no live board told;
    - changing a ticket's fields inside `work` other than through `_save`: a
      stale writer is no longer refused (only the stamps no screen edits, such
      as `answered` and `last_requester_update`, are written around it);
    - a side effect outside the database inside `work` (sending the mail, a
      prompt): `work` may run more than once; mail goes through the outbox;
    - catching a database error inside `work` and carrying on: the transaction
      would commit half a change (catching `Refused` is safe only where the
      refusal comes before any write, as a reply's move back does);
    - another thread or connection inside `work`: it does not join the transaction.
    """

    def __init__(self, config: Config, clock: Callable[[], dt.datetime] = utcnow,
                 add_working: AddWorking | None = None):
        self.config = config
        self.workflow = config.workflow
        self.clock = clock
        if add_working is None and config.sla is not None:
            add_working = config.sla.calendar.add_working
        self.add_working = add_working
        """Adds working time on the business calendar (`sla:`), for escalation delays
        such as "1 working hour"; tests may pass their own."""
        self.after_commit: list[Callable[[Ticket], None]] = []
        """Called with each ticket a write changed, once its transaction commits."""

    # -- reading ---------------------------------------------------------

    def get(self, key: str) -> Ticket:
        ticket = next(TICKET_BY_KEY.models(Ticket, False, key=key.strip().upper()), None)
        if ticket is None:
            raise NotFound(f"no ticket {key!r}")
        return ticket

    def status_of(self, ticket: Ticket) -> str:
        return support_status(self.workflow, ticket.state, ticket.hold_reason, ticket.solved)

    def history(self, ticket: Ticket) -> list[History]:
        return list(ticket.history.order_by(History.at, History.id))

    def today(self) -> dt.date:
        """The board's calendar date now (event windows count days in the team's time zone)."""
        return self.clock().replace(tzinfo=dt.timezone.utc).astimezone(self.config.board.tz).date()

    # -- the transaction -------------------------------------------------

    def _write(self, work: Callable[[], Any]) -> Any:
        """Run `work` in one transaction; SQLite's busy lock is waited out, not surfaced.

        SQLite takes the write lock up front (BEGIN IMMEDIATE) so two writers
        queue instead of deadlocking on a read-to-write upgrade. PostgreSQL
        runs writers concurrently; writers to one ticket queue on its row lock
        (`_fetch_for_write`), and a deadlock or serialization failure, should
        one ever occur, is retried like SQLite's busy. Called inside another
        write (a reply that moves its ticket), `work` joins the outer
        transaction, and the outer call runs the after-commit callbacks.
        """
        db = database_proxy.obj
        if db.in_transaction():
            if getattr(_DIRTY, "ids", None) is not None:
                return work()  # joins the outer write, whose end recomputes the due instants
            return self._with_due(work)
        attempts = 0
        reconnected = False
        while True:
            try:
                with (db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic()):
                    result = self._with_due(work)
                    # Inside the transaction: PostgreSQL delivers the NOTIFY on commit only.
                    live.announce(db, _announced(result))
                break
            except (OperationalError, InterfaceError) as exc:
                if _disconnected(exc) and not reconnected:
                    # The server went away (restarted, or the session was terminated) before the
                    # commit: nothing was written; reconnect once and run the transaction again.
                    reconnected = True
                    _reconnect(db)
                    continue
                if _disconnected(exc):
                    raise DatabaseUnavailable(f"lost the connection to the database: {first_line(exc)}") from None
                attempts += 1
                if isinstance(exc, OperationalError) and _retryable(exc) and attempts <= 50:
                    time.sleep(min(0.01 * attempts, 0.2))
                    continue
                _refuse_storage(exc)
                raise
            except PeeweeDatabaseError as exc:  # PostgreSQL's read-only transaction is an InternalError
                _refuse_storage(exc)
                raise
        for ticket in _touched(result):
            for callback in self.after_commit:
                callback(ticket)
        return result

    def _with_due(self, work: Callable[[], Any]) -> Any:
        """Run `work`, then recompute the stored due instants of every ticket it touched (same transaction).

        The one place `ticket.sla_warn_at`/`sla_due_at` are kept (app.sla.due): whatever a
        capability changed (a move, a priority, a reply sent or received, an edit of the
        requester, a creation, an import's rows), the ticket passed through `_save`,
        `_record`, `_notify` or `_touch`, so its instants are recomputed from its stored
        inputs after the change, before the commit. Like `answered`, they are written
        around the version guard: they derive from the row, nobody edits them.
        """
        _DIRTY.ids = set()
        try:
            result = work()
            touched = _DIRTY.ids | {t.id for t in _touched(result)}
            if touched:
                from app.sla.source import refresh_due  # the SLA engine: loaded by the first write, not at start

                refresh_due(self.config, sorted(touched), self.clock())
            return result
        finally:
            _DIRTY.ids = None

    def _touch(self, ticket_ids) -> None:
        """Mark tickets changed without `_save`/`_record`/`_notify` (an import's rows) for the due recompute."""
        dirty = getattr(_DIRTY, "ids", None)
        if dirty is not None:
            dirty.update(ticket_ids)

    def _record(self, ticket: Ticket, kind: str, by: str, now: dt.datetime, **fields: Any) -> History:
        self._touch((ticket.id,))
        if getattr(ticket, "answered", False) and self.config.member(by) is not None:
            # A team member's write on the ticket is a look: the "answered" mark goes.
            Ticket.update(answered=False).where(Ticket.id == ticket.id).execute()
            ticket.answered = False
        if kind == "create":
            setattr(ticket, LIVE_SOURCE, "")  # a new ticket: the live boards count it into its column
        detail = fields.pop("detail", None)
        return History.create(ticket=ticket, kind=kind, by=by or "", at=now,
                              detail=json.dumps(detail, default=str) if detail else "", **fields)

    # -- the version guard: every write to a ticket uses these two -------
    #
    # Inside `_write(work)`, a write reads its ticket with `_fetch_for_write`
    # and changes it only through `_save` (then appends its `_record`):
    #
    #     def work():
    #         ticket = self._fetch_for_write(key, expected_version)
    #         ...check the rules against `ticket`...
    #         self._save(ticket, {"assignee": handle}, expected_version, now)
    #         return WriteResult(ticket, self._record(ticket, "assign", by, now, detail=...))
    #
    # or, for a plain change of fields, call `edit()`, which does exactly that.
    # `expected_version` is the version the caller's screen showed (None from
    # a script, which means "the version I read now"). A stale version is
    # refused with `Conflict`, carrying the fresh ticket, and nothing is written.

    def _fetch_for_write(self, key: str, expected_version: int | None = None) -> Ticket:
        """The ticket a write is about to change, checked against the version the caller saw.

        On PostgreSQL the row is locked (SELECT … FOR UPDATE) until the
        transaction ends, so concurrent writers to one card queue up and each
        checks its rules against the committed state, as BEGIN IMMEDIATE makes
        them do on SQLite. A caller holding an older version than the row's is
        refused here, before any rule is judged against a state it never saw.
        """
        locking = not is_sqlite(database_proxy.obj)
        ticket = next(TICKET_BY_KEY.models(Ticket, locking, key=key.strip().upper()), None)
        if ticket is None:
            raise NotFound(f"no ticket {key!r}")
        if expected_version is not None and ticket.version != expected_version:
            raise self._conflict(ticket.id)
        return ticket

    def _save(self, ticket: Ticket, changes: dict[str, Any], expected_version: int | None, now: dt.datetime) -> Ticket:
        """Apply `changes` only if nobody changed the ticket since it was read; bumps the version.

        The UPDATE itself carries the guard (`WHERE version = v`), so even a
        write that skipped `_fetch_for_write` cannot overwrite a newer card.
        """
        self._touch((ticket.id,))
        version = ticket.version if expected_version is None else expected_version
        changes = {**changes, "updated": now, "version": version + 1}
        fields = Ticket._meta.fields
        values = {name: fields[name].db_value(value) for name, value in changes.items()}
        rows = UPDATE_TICKET.execute(tuple(changes), id=ticket.id, seen=version, **values).rowcount
        if rows != 1:
            raise self._conflict(ticket.id)
        if "state" in changes and not hasattr(ticket, LIVE_SOURCE):
            setattr(ticket, LIVE_SOURCE, ticket.state)  # the column it left, for the live boards' counts
        for name, value in changes.items():
            setattr(ticket, name, value)
        return ticket

    def edit(self, key: str, changes: dict[str, Any] | Callable[[Ticket], dict[str, Any]], *, kind: str,
             by: str = "", expected_version: int | None = None, reason: str = "",
             detail: dict[str, Any] | None = None) -> WriteResult:
        """Change plain fields of one ticket under the version guard, with one history row of `kind`.

        `changes` may be a function of the locked, fresh ticket (for rules
        that depend on it: raise `Refused` to refuse). The history detail
        defaults to {field: [old, new]} for the fields that really change.
        """

        def work() -> WriteResult:
            ticket = self._fetch_for_write(key, expected_version)
            wanted = changes(ticket) if callable(changes) else dict(changes)
            check_text(wanted)
            diff = {name: [getattr(ticket, name), value] for name, value in wanted.items()
                    if getattr(ticket, name) != value}
            now = self.clock()
            self._save(ticket, wanted, expected_version, now)
            entry = self._record(ticket, kind, by, now, reason=reason,
                                 detail=detail if detail is not None else diff)
            return WriteResult(ticket, entry)

        return self._write(work)

    def _conflict(self, ticket_id: int) -> Conflict:
        fresh = Ticket.get_by_id(ticket_id)
        last = (History.select().where(History.ticket == fresh).order_by(History.id.desc()).first())
        if last is not None and last.kind == "move":
            who = f" by {last.by}" if last.by else ""
            what = f"was moved to {self.workflow.column(last.to_state).title}{who} a moment ago"
        elif last is not None:
            what = f"was changed ({last.kind}){' by ' + last.by if last.by else ''} a moment ago"
        else:
            what = "was changed a moment ago"
        return Conflict(f"{fresh.key} {what}; the board now shows the fresh card", fresh)

    @property
    def mail_options(self) -> dict[str, Any]:
        """`templates` and `domain` for the drafting functions in `app.notify.drafts`."""
        return {"templates": self.config.notify.templates, "domain": self.config.notify.domain}

    def requester_link(self, ticket: Ticket) -> str:
        """The requester's page for `ticket` (`app.web.links`), or "" when no `serve.public_url` is set."""
        from app.web.links import url  # itsdangerous: only when a mail to the requester is drafted

        base = self.config.serve.public_url
        return url(base, ticket.key, ticket.page_secret or "") if base else ""

    def _notify(self, ticket: Ticket, draft: outbox.Draft | None, status_before: str | None = None) -> Notification | None:
        """Write `draft` to the outbox (and its webhook copy for pages and P1s) in the caller's transaction."""
        if draft is None:
            return None
        self._touch((ticket.id,))
        now = self.clock()
        row = Notification.create(ticket=ticket, kind=draft.kind, recipient=draft.recipient,
                                  subject=draft.subject, body=draft.body, message_id=draft.message_id,
                                  created=now, next_attempt=now, status_before=status_before)
        if self.config.notify.webhook_url and outbox.wants_webhook(draft.kind, ticket.priority):
            copy = outbox.webhook_copy(draft, ticket.key, self.config.notify.domain)
            Notification.create(ticket=ticket, kind=copy.kind, recipient=copy.recipient, subject=copy.subject,
                                body=copy.body, message_id=copy.message_id, created=now, next_attempt=now)
        return row


_DIRTY = threading.local()
"""The ids of the tickets the running write (this thread's) has touched; None outside a write."""


def _refuse_storage(exc: BaseException) -> None:
    """A full disk or a read-only database: a one-line refusal saying so (nothing was saved)."""
    problem = storage_problem(exc)
    if problem is not None:
        raise Refused(f"not saved: {problem}") from None


_RETRYABLE = ("locked", "busy", "deadlock detected", "could not serialize")


_DISCONNECTED = ("server closed the connection", "terminating connection", "connection already closed",
                 "connection not open", "could not connect", "connection refused", "no connection to the server")


def _disconnected(exc: Exception) -> bool:
    """A connection the server dropped (PostgreSQL's messages; an SQLite file has no connection to lose)."""
    message = str(exc).lower()
    return any(marker in message for marker in _DISCONNECTED)


def _reconnect(db) -> None:
    """Open a fresh connection for this thread; a server still away is `DatabaseUnavailable`."""
    drop_connection(db)
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:  # noqa: BLE001 - driver errors vary; the user needs the reason only
        raise DatabaseUnavailable(f"lost the connection to the database and could not reconnect: "
                                  f"{first_line(exc)}") from None


def _retryable(exc: OperationalError) -> bool:
    """A transient lock failure: the whole transaction is run again."""
    message = str(exc).lower()
    return any(marker in message for marker in _RETRYABLE)


def _touched(result: Any) -> list[Ticket]:
    """The tickets a write's result carries: a Ticket, anything with a `.ticket`, or a list of those."""
    if hasattr(result, "history") and result.history is None:
        return []  # a change that changed nothing
    if isinstance(result, Ticket):
        return [result]
    if isinstance(getattr(result, "ticket", None), Ticket):
        return [result.ticket]
    if isinstance(result, (list, tuple)):
        return [t for item in result for t in _touched(item)]
    return []


LIVE_SOURCE = "_live_source"
"""The attribute `_save` leaves on a ticket whose column it changed: the column before, as the
transaction found it (the first one, when one write moves a ticket twice)."""


def _announced(result: Any) -> list[live.Change] | None:
    """What live boards are told: each touched ticket with the column it left and the one it is in
    (a new ticket left none), or None ("reload everything") for a bulk write."""
    if isinstance(result, int) and not isinstance(result, bool):
        return None if result else []
    return [live.Change(t.id, t.version, getattr(t, LIVE_SOURCE, t.state), t.state) for t in _touched(result)]


# -- the locks PostgreSQL needs besides the row lock (SQLite's BEGIN IMMEDIATE already serialises writers)

KEY_LOCK = 0x7462_6B65_7973  # "tbkeys": PostgreSQL advisory lock id for key allocation


def serialize_key_allocation() -> None:
    """Make concurrent creates take numbers one after another (until this transaction ends).

    SQLite's BEGIN IMMEDIATE already serialises writers. On PostgreSQL two
    creates would both read the same MAX(number); a transaction-scoped
    advisory lock queues them instead of letting all but one fail and retry.
    """
    db = database_proxy.obj
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (KEY_LOCK,))


WIP_LOCK = 0x7462_7770  # "tbwp": the advisory lock class of moves into a WIP-limited column


def serialize_column(state: str) -> None:
    """Make moves into one WIP-limited column count and write one after another (until this transaction ends).

    Each move locks only its own card, so under READ COMMITTED two moves into
    a column with one free place both count it free and both commit (write
    skew): 8 boards moving 16 cards into In Progress (limit 5) left 6 to 10
    there. A transaction-scoped advisory lock keyed by the column makes the
    second mover wait until the first commits; its COUNT, a new statement,
    then sees that card. Moves out of the column take no lock: they can only
    free a place. SQLite needs nothing: BEGIN IMMEDIATE already serialises
    every writer, and the count runs inside that transaction.
    """
    db = database_proxy.obj
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (WIP_LOCK, state))


def _ticket_by_key(for_update: bool, *, key):
    query = Ticket.select().where(Ticket.key == key)
    return query.for_update() if for_update else query


TICKET_BY_KEY = Prepared(_ticket_by_key)
"""A whole ticket by key (locked for a write on PostgreSQL): built once, it reads in 0.3 ms instead of 1.6."""


def _update_ticket(columns: tuple[str, ...], *, id, seen, **values):
    return (Ticket.update({getattr(Ticket, name): values[name] for name in columns})
            .where((Ticket.id == id) & (Ticket.version == seen)))


UPDATE_TICKET = Prepared(_update_ticket)
"""A ticket's guarded update (`_save`), per set of columns: building it was 0.4 ms of every move."""


def check_text(values: dict[str, Any]) -> None:
    """Refuse a requester address that is not one and text holding NUL, before anything is written."""
    from app.notify.addresses import address_problem, nul_problem

    for name, value in values.items():
        problem = nul_problem(value) or (address_problem(value) if name == "requester_email" and value else None)
        if problem:
            raise Refused(f"{name.replace('_email', '')}: {problem}")
