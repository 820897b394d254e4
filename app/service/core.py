"""The one write path: every change to a ticket goes through here.

The TUI and the command line both call these methods. Each validates with
the pure rules (`app.board.workflow`, `app.triage.rules`, `app.board.ordering`), then writes the
ticket, its history row and its notifications in one transaction, guarded by
the ticket's version so that a stale card never overwrites a newer one.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

import msgspec
from peewee import DatabaseError as PeeweeDatabaseError
from peewee import IntegrityError, InterfaceError, OperationalError, fn

from app.notify import drafts as outbox
from app.service.intake import IntakeCommands
from app.triage import assignment
from app.triage import rules as triage
from app.config.settings import KINDS, Config
from app.oncall.escalation import AddWorking, due_steps, next_due_at
from app.board.ordering import BUG_CLASSES, parse_priority, priority_label, sort_key
from app.oncall.rotation import on_duty
from app.sla.targets import SlaStatus, TargetStatus, reminders_due
from app.sla.labels import TARGET_PHRASES, TARGET_TITLES
from app.sla.source import aware, open_statuses
from app.board.workflow import HOLD_REASONS, SOLVED, check_move, default_reason, support_status
from data import triage as triage_queries
from data import outbox as outbox_data
from data import live
from data.db import drop_connection, is_sqlite, storage_problem
from data.models import History, Notification, Ticket, database_proxy, utcnow
from data.sla_inputs import CHUNK, REMINDER, REPLIED, SlaRow, reminder_keys
from data.statements import Prepared

if TYPE_CHECKING:
    from app.notify.inbound import Reply  # the email parser: imported by `triageboard inbound`, not by the board


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


class WriteResult(msgspec.Struct, frozen=True):
    """A committed write: the ticket as it now is, the history row it appended, any warnings."""

    ticket: Ticket
    history: History
    warnings: tuple[str, ...] = ()


MoveResult = WriteResult


class ChangeResult(msgspec.Struct, frozen=True):
    """A triage, route, assign or rank: the fresh ticket and what changed (field -> (old, new))."""

    ticket: Ticket
    history: History | None
    """None when nothing changed (nothing was written)."""
    changes: dict[str, tuple[Any, Any]]
    warnings: tuple[str, ...] = ()


class Suggestion(msgspec.Struct, frozen=True):
    """Whom to ask (None: nobody available) and why."""

    ticket: Ticket
    handle: str | None
    open_work: dict[str, int]
    last_asked: str | None
    history: History | None


class Page(msgspec.Struct, frozen=True):
    """One escalation step sent for a ticket: who was paged, for which step, when."""

    key: str
    step: int
    """The step's index in the config's `escalation` list (0 = the first)."""
    rotation: str
    paged: tuple[str, ...]
    """Who was on duty in `rotation` when the step fell due, longest-serving first."""
    due_at: dt.datetime
    """When the step fell due (naive UTC, like every instant in the database)."""
    at: dt.datetime
    """When it was sent (naive UTC); later than `due_at` if the clock was not running."""


class ReplyResult(msgspec.Struct, frozen=True):
    """What an inbound reply did: its comment, the move back (if it was Pending), the assignee's mail."""

    ticket: Ticket
    comment: History
    moved: MoveResult | None = None
    notified: Notification | None = None
    duplicate: bool = False
    """The same message (by Message-ID) was recorded before: nothing was written again."""
    not_moved: str = ""
    """Why a Pending ticket stayed where it was (In Progress at its WIP limit); empty when it moved or needn't."""
    held: bool = False
    """From an unknown sender: `comment` is the held entry (kind "held"); nothing moved, nobody was mailed."""


class Reminder(msgspec.Struct, frozen=True):
    """One reminder `remind_due` wrote: to whom, for which target of which ticket."""

    key: str
    target: str
    """`first_response` or `update_every`."""
    recipient: str
    """The team handle reminded."""
    state: str
    """The target's state when reminded: warning, or breached when nothing looked during the margin."""
    due: dt.datetime


HELD = "held"
"""The History kind of a mail from an unknown sender, kept until a team member accepts it."""

WORK_TYPES = ("support", "project", "adhoc")
UNDOABLE = ("move", "solve", "triage", "assign")
"""The changes `undo` reverses (the ticket's latest of these, whatever it was)."""
COALESCE_SECONDS = 5.0
"""One person's edits of one triage answer this close together are one history entry (`u u u`)."""
KEY_ATTEMPTS = 20


class Service(IntakeCommands):
    """Ticket operations over the bound database, with an injectable clock for tests."""

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
            return work()
        attempts = 0
        reconnected = False
        while True:
            try:
                with (db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic()):
                    result = work()
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
                    raise DatabaseUnavailable(f"lost the connection to the database: {_first_line(exc)}") from None
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

    def _record(self, ticket: Ticket, kind: str, by: str, now: dt.datetime, **fields: Any) -> History:
        if getattr(ticket, "answered", False) and self.config.member(by) is not None:
            # A team member's write on the ticket is a look: the "answered" mark goes.
            Ticket.update(answered=False).where(Ticket.id == ticket.id).execute()
            ticket.answered = False
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
        version = ticket.version if expected_version is None else expected_version
        changes = {**changes, "updated": now, "version": version + 1}
        fields = Ticket._meta.fields
        values = {name: fields[name].db_value(value) for name, value in changes.items()}
        rows = UPDATE_TICKET.execute(tuple(changes), id=ticket.id, seen=version, **values).rowcount
        if rows != 1:
            raise self._conflict(ticket.id)
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
            _check_text(wanted)
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

    def _notify(self, ticket: Ticket, draft: outbox.Draft | None, status_before: str | None = None) -> Notification | None:
        """Write `draft` to the outbox (and its webhook copy for pages and P1s) in the caller's transaction."""
        if draft is None:
            return None
        now = self.clock()
        row = Notification.create(ticket=ticket, kind=draft.kind, recipient=draft.recipient,
                                  subject=draft.subject, body=draft.body, message_id=draft.message_id,
                                  created=now, next_attempt=now, status_before=status_before)
        if self.config.notify.webhook_url and outbox.wants_webhook(draft.kind, ticket.priority):
            copy = outbox.webhook_copy(draft, ticket.key, self.config.notify.domain)
            Notification.create(ticket=ticket, kind=copy.kind, recipient=copy.recipient, subject=copy.subject,
                                body=copy.body, message_id=copy.message_id, created=now, next_attempt=now)
        return row

    # -- creating --------------------------------------------------------

    def create(self, *, title: str, by: str = "", description: str = "", requester_email: str = "",
               requester_name: str = "", service: str | None = None, kind: str = "bug",
               bug_class: str | None = None, priority: int | None = None, assignee: str | None = None,
               state: str | None = None, key: str | None = None, created: dt.datetime | None = None,
               **extra: Any) -> Ticket:
        title = (title or "").strip()
        if not title:
            raise Refused("a ticket needs a title")
        _check_text({"title": title, "description": description, "requester_email": requester_email,
                     "requester_name": requester_name, **extra})
        self.validate_fields(service=service, kind=kind, bug_class=bug_class, assignee=assignee,
                             work_type=extra.get("work_type"))
        state = state or self.workflow.initial
        if state not in self.workflow.keys:
            raise Refused(f"unknown state {state!r} (states: {', '.join(self.workflow.keys)})")
        now = self.clock()
        created = created or now

        def work() -> Ticket:
            if key:
                number = _number_of(key, self.config.board.key)
            else:
                _serialize_key_allocation()
                number = (Ticket.select(fn.MAX(Ticket.number)).scalar() or 0) + 1
            ticket = Ticket.create(
                key=key or f"{self.config.board.key}-{number}", number=number, title=title,
                description=description, requester_email=requester_email, requester_name=requester_name,
                reporter=by, service=service, kind=kind, bug_class=bug_class, priority=priority,
                assignee=assignee, state=state, rank=_next_rank(state), state_entered=created,
                sort_key=sort_key(kind, bug_class, priority), created=created, updated=now,
                needs_ack=priority == 1, page_started=created if priority == 1 else None, **extra)
            self._record(ticket, "create", by, created, to_state=state, status_after=self.status_of(ticket))
            return ticket

        for _ in range(KEY_ATTEMPTS):
            try:
                return self._write(work)
            except IntegrityError:
                if key:
                    raise Refused(f"ticket key {key!r} already exists") from None
                # Another session committed the same next number between our MAX and our
                # INSERT (a writer that does not take the allocation lock, such as an
                # import): the retry reads the new MAX.
                time.sleep(random.uniform(0.001, 0.02))
        raise Refused(f"could not allocate a new ticket key after {KEY_ATTEMPTS} attempts; try again")

    def validate_fields(self, *, service: str | None = None, kind: str | None = None, bug_class: str | None = None,
                        assignee: str | None = None, work_type: str | None = None) -> None:
        if service is not None and self.config.services and service not in self.config.services:
            raise Refused(f"unknown service {service!r} (services: {', '.join(self.config.services)})")
        if kind is not None and kind not in KINDS:
            raise Refused(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
        if bug_class is not None and bug_class not in BUG_CLASSES:
            raise Refused(f"unknown bug class {bug_class!r} (classes: {', '.join(BUG_CLASSES)})")
        if assignee is not None and self.config.member(assignee) is None:
            raise Refused(f"unknown team member {assignee!r} (team: {', '.join(self.config.handles)})")
        if work_type is not None and work_type not in WORK_TYPES:
            raise Refused(f"unknown work type {work_type!r} (types: {', '.join(WORK_TYPES)})")

    # -- moving ----------------------------------------------------------

    def move(self, key: str, target: str, *, by: str = "", reason: str | None = None,
             hold_reason: str | None = None, expected_version: int | None = None) -> MoveResult:
        """Move a card to `target` (a column key, or "solved" after the final column)."""
        target = target.strip().lower().replace(" ", "_")
        if target == "solved":
            return self.solve(key, by=by, expected_version=expected_version)

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            if hold_reason is not None and hold_reason not in HOLD_REASONS:
                raise Refused(f"unknown hold reason {hold_reason!r} (requester or external)")
            # Counting a column of 30,000 cards is the slowest part of a move: only a WIP limit needs it.
            limited = target in self.workflow.keys and self.workflow.column(target).wip_limit is not None
            if limited:
                _serialize_column(target)  # before counting: two moves must not both see the last free place
            count = Ticket.select().where(Ticket.state == target).count() if limited else 0
            verdict = check_move(self.workflow, ticket.state, target, hold_reason=hold_reason,
                                 count_in_target=count, triage_missing=self.triage_missing(ticket))
            if not verdict.ok:
                raise Refused(f"{ticket.key}: {'; '.join(verdict.errors)}")
            return self._transition(ticket, target, hold_reason, by,
                                    reason if reason is not None else default_reason(self.workflow, ticket.state, target) or "",
                                    expected_version, warnings=verdict.warnings)

        return self._write(work)

    def triage_missing(self, ticket: Ticket) -> tuple[str, ...]:
        return triage.missing(actionable=ticket.actionable, priority=ticket.priority, acknowledged=ticket.acknowledged,
                              impact=ticket.impact, urgency=self.effective_urgency(ticket))

    def _transition(self, ticket: Ticket, target: str, hold_reason: str | None, by: str, reason: str,
                    expected_version: int | None, *, undoes: int | None = None,
                    warnings: tuple[str, ...] = ()) -> MoveResult:
        now = self.clock()
        before_state, before_hold = ticket.state, ticket.hold_reason
        before = self.status_of(ticket)
        self._save(ticket, {"state": target, "hold_reason": hold_reason, "solved": False,
                            "rank": _next_rank(target), "state_entered": now}, expected_version, now)
        after = self.status_of(ticket)
        entry = self._record(ticket, "move", by, now, from_state=before_state, to_state=target,
                             status_before=before, status_after=after, hold_reason=hold_reason,
                             reason=reason, undoes=undoes,
                             detail={"hold_before": before_hold} if before_hold else None)
        self._status_changed(ticket, before, after, reason, now)
        return MoveResult(ticket, entry, warnings)

    def _status_changed(self, ticket: Ticket, before: str, after: str, reason: str, now: dt.datetime) -> None:
        """Tell the requester the new status, once: an undelivered status mail is superseded by this one.

        The requester last saw the status the oldest undelivered mail says the
        ticket left; back there (a move and its undo), nothing is sent at all.
        """
        if before == after or not ticket.requester_email:
            return
        superseded = outbox_data.supersede_status_mails(ticket.id, now)
        if superseded and superseded[0].status_before:
            before = superseded[0].status_before
        draft = outbox.status_change(key=ticket.key, title=ticket.title, requester_email=ticket.requester_email,
                                     requester_name=ticket.requester_name, before=before, after=after,
                                     reason=reason, **self.mail_options)
        if self._notify(ticket, draft, status_before=before) is not None:
            changes = {"last_requester_update": now}
            if ticket.first_response is None:
                changes["first_response"] = now
            Ticket.update(**changes).where(Ticket.id == ticket.id).execute()
            for name, value in changes.items():
                setattr(ticket, name, value)

    def solve(self, key: str, *, by: str = "", expected_version: int | None = None) -> MoveResult:
        """The requester confirms a released fix: Released becomes Solved."""

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            if ticket.state != self.workflow.final or ticket.solved:
                where = "already Solved" if ticket.solved else f"in {self.workflow.column(ticket.state).title}"
                raise Refused(f"{ticket.key} is {where}; only a {self.workflow.column(self.workflow.final).title} "
                              "ticket can be marked Solved")
            now = self.clock()
            before = self.status_of(ticket)
            self._save(ticket, {"solved": True}, expected_version, now)
            entry = self._record(ticket, "solve", by, now, from_state=ticket.state, to_state=ticket.state,
                                 status_before=before, status_after=SOLVED, reason="confirmed by the requester")
            member = self.config.member(ticket.assignee) if ticket.assignee else None
            if member is not None:
                self._notify(ticket, outbox.solved(key=ticket.key, title=ticket.title, recipient=member.email,
                                                   name=member.name, requester_name=ticket.requester_name,
                                                   **self.mail_options))
            return MoveResult(ticket, entry)

        return self._write(work)

    def undo(self, key: str, *, by: str = "", expected_version: int | None = None) -> MoveResult:
        """Compensate the ticket's last change (a move, Solved, a triage answer, an assignment) with a new entry.

        History is never edited: the undo is an entry of its own (`undoes` names the one it reverses).

        The way back is allowed even where the graph has no edge (To Do ->
        Closed is a loop; Closed -> To Do is not), because it restores a state
        the ticket legitimately had.
        """

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            last = (History.select().where((History.ticket == ticket) & History.kind.in_(UNDOABLE))
                    .order_by(History.id.desc()).first())
            if last is None:
                raise Refused(f"{ticket.key} has no change to undo")
            if last.undoes is not None:
                raise Refused(f"{ticket.key}: the last change was already an undo (change it on instead)")
            if last.kind in ("triage", "assign"):
                return self._undo_change(ticket, last, by, expected_version)
            if last.kind == "solve":  # only the confirmation is undone: Solved goes back to Released
                now = self.clock()
                before = self.status_of(ticket)
                self._save(ticket, {"solved": False}, expected_version, now)
                entry = self._record(ticket, "solve", by, now, from_state=ticket.state, to_state=ticket.state,
                                     status_before=before, status_after=self.status_of(ticket),
                                     reason="undo of Solved", undoes=last.id)
                return MoveResult(ticket, entry)
            hold_before = json.loads(last.detail).get("hold_before") if last.detail else None
            return self._transition(ticket, last.from_state, hold_before, by, f"undo of move to {last.to_state}",
                                    expected_version, undoes=last.id)

        return self._write(work)

    def _undo_change(self, ticket: Ticket, last: History, by: str, expected_version: int | None) -> WriteResult:
        """Put back what a triage answer or an assignment changed, as a new entry of the same kind."""
        now = self.clock()
        detail = json.loads(last.detail) if last.detail else {}
        if last.kind == "assign":
            before = ticket.assignee
            self._save(ticket, {"assignee": detail.get("from")}, expected_version, now)
            entry = self._record(ticket, "assign", by, now, undoes=last.id,
                                 reason=f"undo: assigned to {ticket.assignee}" if ticket.assignee else "undo: unassigned",
                                 detail={"from": before, "to": ticket.assignee})
            return WriteResult(ticket, entry)
        update: dict[str, Any] = {}
        for name, (old, _new) in detail.get("changes", {}).items():
            if name == "priority":
                old = parse_priority(old) if old else None
            update[name] = old
        if "priority" in update:
            level = update["priority"]
            update["sort_key"] = sort_key(ticket.kind, ticket.bug_class, level)
            if level == 1 and ticket.priority != 1:
                update.update(needs_ack=True, page_started=now, ack_at=None, ack_by=None)
            elif ticket.priority == 1 and ticket.needs_ack and ticket.ack_at is None:
                update["needs_ack"] = False
        changes = {name: (getattr(ticket, name), value) for name, value in update.items()
                   if name in _TRIAGE_FIELDS and getattr(ticket, name) != value}
        self._save(ticket, update, expected_version, now)
        entry = self._record(ticket, "triage", by, now, undoes=last.id,
                             reason="undo: " + (_summary(changes) if changes else "nothing to put back"),
                             detail={"changes": {n: _shown(n, o, v) for n, (o, v) in changes.items()}})
        return WriteResult(ticket, entry)

    # -- triage ----------------------------------------------------------

    def today(self) -> dt.date:
        """The board's calendar date now (event windows count days in the team's time zone)."""
        return self.clock().replace(tzinfo=dt.timezone.utc).astimezone(self.config.board.tz).date()

    def effective_urgency(self, ticket: Ticket) -> str | None:
        """The answered urgency raised by a near event or deadline (see app.triage.rules)."""
        return triage.effective_urgency(ticket.urgency, ticket.deadline, self.today(), self.config.triage)

    def triage(self, key: str, *, by: str = "", impact: Any = ..., urgency: Any = ..., users_affected: Any = ...,
               frequency: Any = ..., service_down: Any = ..., deadline: Any = ..., reproducible: Any = ...,
               actionable: Any = ..., acknowledged: Any = ..., next_steps_sent: Any = ..., eta: Any = ...,
               priority: int | str | None = None, clear_override: bool = False, description: Any = ...,
               background: Any = ..., impact_statement: Any = ..., extra_info: Any = ...,
               expected_version: int | None = None) -> ChangeResult:
        """Set triage answers; `...` leaves an answer as it is, None clears it.

        The priority follows the configured matrix (impact x urgency, urgency
        raised by a near event) unless overridden: `priority` overrides it and
        the override sticks until `clear_override`, which returns to the
        matrix. An unanswered impact is filled from 2i2c's three questions.
        Reaching P1 marks the ticket as needing acknowledgement and starts the
        escalation clock; leaving P1 before anyone acknowledged stops it.
        One transaction, one History row (kind "triage", detail: field -> [old, new]).
        """
        given = {name: value for name, value in (
            ("impact", impact), ("urgency", urgency), ("users_affected", users_affected),
            ("frequency", frequency), ("service_down", service_down), ("deadline", deadline),
            ("reproducible", reproducible), ("actionable", actionable), ("acknowledged", acknowledged),
            ("next_steps_sent", next_steps_sent), ("eta", eta), ("description", description),
            ("background", background), ("impact_statement", impact_statement), ("extra_info", extra_info),
        ) if value is not ...}
        answers = _check_answers(given)
        if priority is not None and clear_override:
            raise Refused("give a priority override or clear it, not both")
        level = None
        if priority is not None:
            try:
                level = parse_priority(str(priority))
            except ValueError as exc:
                raise Refused(str(exc)) from None

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            now = self.clock()
            notes: list[str] = []
            new = {name: getattr(ticket, name) for name in _TRIAGE_FIELDS}
            new.update(answers)
            if "impact" not in answers and new["impact"] is None:
                hint = triage.suggested_impact(users_affected=new["users_affected"], frequency=new["frequency"],
                                               service_down=new["service_down"])
                if hint:
                    new["impact"] = hint
                    notes.append(f"impact {hint} from the impact questions")
            overridden = ticket.priority_overridden
            if level is not None:
                overridden = True
                new["priority"] = level
                notes.append(f"priority overridden to P{level}")
            elif clear_override and overridden:
                overridden = False
                notes.append("priority override cleared")
            if not overridden:
                urgency_now = triage.effective_urgency(new["urgency"], new["deadline"], self.today(),
                                                       self.config.triage)
                if urgency_now != new["urgency"] and urgency_now is not None:
                    notes.append(f"urgency raised to {urgency_now} by the event on {new['deadline']}")
                new["priority"] = triage.suggested_priority(new["impact"], urgency_now, self.config.triage.matrix)
            new["priority_overridden"] = overridden

            changes = {name: (getattr(ticket, name), value) for name, value in new.items()
                       if getattr(ticket, name) != value}
            if not changes:
                return ChangeResult(ticket, None, {})
            update: dict[str, Any] = {name: value for name, (_, value) in changes.items()}
            if "priority" in changes:
                old_level, new_level = changes["priority"]
                update["sort_key"] = sort_key(ticket.kind, ticket.bug_class, new_level)
                if new_level == 1:
                    update.update(needs_ack=True, page_started=now, ack_at=None, ack_by=None)
                    notes.append("P1: review immediately; escalation clock started")
                elif old_level == 1 and ticket.needs_ack and ticket.ack_at is None:
                    update["needs_ack"] = False
                    notes.append("no longer P1: escalation clock stopped")
            self._save(ticket, update, expected_version, now)
            entry = self._coalesced_triage(ticket, by, now, changes, notes)
            if entry is None:
                detail = {"changes": {name: _shown(name, old, value) for name, (old, value) in changes.items()}}
                if notes:
                    detail["notes"] = notes
                entry = self._record(ticket, "triage", by, now, reason="; ".join([_summary(changes), *notes]),
                                     detail=detail)
            warnings = []
            if ticket.actionable == "yes" and "actionable" in changes:
                lacking = triage.intake_missing(description=ticket.description, background=ticket.background,
                                                impact_statement=ticket.impact_statement,
                                                extra_info=ticket.extra_info)
                if lacking:
                    warnings.append(f"{ticket.key} judged actionable although the intake lacks {', '.join(lacking)}")
            return ChangeResult(ticket, entry, changes, tuple(warnings))

        return self._write(work)

    def _coalesced_triage(self, ticket: Ticket, by: str, now: dt.datetime, changes: dict[str, tuple[Any, Any]],
                          notes: list[str]) -> History | None:
        """Fold this answer into the ticket's last history row when it is the same person's edit of the same answers
        within `COALESCE_SECONDS` (cycling urgency with `u u u` is one decision, not three); None otherwise.

        The row keeps the first old value and takes the new one, its time and its notes: what a reader of the
        history needs, without the steps in between. Only the row this session could have just written
        (the newest of the ticket) is ever folded into.
        """
        last = History.select().where(History.ticket == ticket).order_by(History.id.desc()).first()
        if (last is None or last.kind != "triage" or last.by != by or last.undoes is not None or not last.detail
                or (now - last.at).total_seconds() > COALESCE_SECONDS):
            return None
        earlier = json.loads(last.detail).get("changes", {})
        answered = {name for name in changes if name not in ("priority", "priority_overridden")}
        if not answered or answered != {n for n in earlier if n not in ("priority", "priority_overridden")}:
            return None
        merged = {name: (earlier[name][0] if name in earlier else _shown(name, old, new)[0],
                         _shown(name, old, new)[1]) for name, (old, new) in changes.items()}
        merged.update({name: tuple(pair) for name, pair in earlier.items() if name not in merged})
        detail = {"changes": {name: list(pair) for name, pair in merged.items()}, "coalesced": True}
        if notes:
            detail["notes"] = notes
        last.at, last.detail = now, json.dumps(detail, default=str)
        last.reason = "; ".join([_summary({n: (o, v) for n, (o, v) in changes.items()}), *notes])
        last.save()
        return last

    def route(self, key: str, *, by: str = "", service: str | None = None, team: str | None = None,
              kind: str | None = None, bug_class: str | None = None,
              expected_version: int | None = None) -> ChangeResult:
        """Send a ticket where it belongs: service, team, kind, bug class.

        None leaves a field as it is; "" clears service, team or bug class.
        Turning a ticket into a feature request is Mattermost's "recommend
        turning non-bugs into stories or feature requests": recorded with the
        reason "converted to feature request". A kind other than bug drops the
        bug class; the priority-of-work order (`sort_key`) follows.
        """
        wanted: dict[str, Any] = {}
        if service is not None:
            wanted["service"] = service.strip() or None
        if team is not None:
            wanted["team"] = team.strip() or None
        if kind is not None:
            wanted["kind"] = kind.strip().lower()
        if bug_class is not None:
            wanted["bug_class"] = bug_class.strip().lower() or None
        self.validate_fields(service=wanted.get("service"), kind=wanted.get("kind"), bug_class=wanted.get("bug_class"))

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            new = {"service": ticket.service, "team": ticket.team, "kind": ticket.kind, "bug_class": ticket.bug_class}
            new.update(wanted)
            if new["kind"] != "bug":
                if wanted.get("bug_class"):
                    raise Refused(f"{ticket.key}: a bug class only applies to a bug, not a {new['kind']}")
                new["bug_class"] = None
            changes = {name: (getattr(ticket, name), value) for name, value in new.items()
                       if getattr(ticket, name) != value}
            if not changes:
                return ChangeResult(ticket, None, {})
            now = self.clock()
            update = {name: value for name, (_, value) in changes.items()}
            update["sort_key"] = sort_key(new["kind"], new["bug_class"], ticket.priority)
            self._save(ticket, update, expected_version, now)
            if "kind" in changes and new["kind"] == "feature":
                reason = "converted to feature request"
            else:
                reason = "routed: " + ", ".join(f"{name} {value or '-'}" for name, (_, value) in changes.items())
            entry = self._record(ticket, "route", by, now, reason=reason,
                                 detail={"changes": {n: [o, v] for n, (o, v) in changes.items()}})
            return ChangeResult(ticket, entry, changes)

        return self._write(work)

    def assign(self, key: str, handle: str | None, *, by: str = "", expected_version: int | None = None) -> ChangeResult:
        """Assign to a team member (None or "" unassigns); recorded as kind "assign"."""
        handle = (handle or "").strip() or None
        self.validate_fields(assignee=handle)

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            if ticket.assignee == handle:
                return ChangeResult(ticket, None, {})
            now = self.clock()
            before = ticket.assignee
            self._save(ticket, {"assignee": handle}, expected_version, now)
            entry = self._record(ticket, "assign", by, now, reason=f"assigned to {handle}" if handle else "unassigned",
                                 detail={"from": before, "to": handle})
            member = self.config.member(handle) if handle else None
            warnings = (f"{handle} is marked unavailable in the config",) if member and not member.available else ()
            return ChangeResult(ticket, entry, {"assignee": (before, handle)}, warnings)

        return self._write(work)

    def suggest_assignee(self, key: str, *, by: str = "") -> Suggestion:
        """Whom to ask to take `key`: fair across the team and across sessions.

        The available member with the least open work (assigned, not in the
        final column) who was not the last one asked (the latest suggestion
        or assignment on any ticket), ties alphabetical. The suggestion is
        recorded (History kind "suggest", detail {"asked": handle}) so the next
        one, on any board, skips this person. Assigning is a separate step.
        """

        def work() -> Suggestion:
            ticket = self._fetch_for_write(key)
            available = [m.handle for m in self.config.team if m.available]
            counts = triage_queries.open_work_counts(self.workflow.final)
            last = triage_queries.last_asked()
            handle = assignment.suggest_assignee(available, counts, last)
            if handle is None:
                raise Refused("nobody is available to ask (every team member is marked available: false)")
            now = self.clock()
            considered = {h: counts.get(h, 0) for h in sorted(available)}
            entry = self._record(ticket, "suggest", by, now, reason=f"asked {handle}",
                                 detail={"asked": handle, "open_work": considered, "last_asked": last})
            return Suggestion(ticket, handle, considered, last, entry)

        return self._write(work)

    def rank(self, key: str, direction: str | None = None, *, position: int | None = None, by: str = "",
             mode: str = "work", expected_version: int | None = None) -> ChangeResult:
        """Move a card within its column: direction up/down/top/bottom, or to `position` (0 = first).

        In "work" mode (the default board order) a card moves among the cards
        of its own priority-of-work group and priority, because the group
        decides first; in "manual" mode among the whole column. Ranks are
        floats, so a move writes one row; the manual rank persists and is
        recorded (History kind "rank").
        """
        if (direction is None) == (position is None):
            raise Refused("give a direction (up, down, top, bottom) or a position")
        if direction is not None and direction not in ("up", "down", "top", "bottom"):
            raise Refused(f"unknown direction {direction!r} (up, down, top, bottom)")
        if mode not in triage_queries.ORDERINGS:
            raise Refused(f"unknown order {mode!r} (work or manual)")

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            new_rank = self._new_rank(ticket, direction, position, mode)
            if new_rank is None:
                where = "top" if direction in ("up", "top") or position == 0 else "bottom"
                group = " of its priority group" if mode == "work" else ""
                raise Refused(f"{ticket.key} is already at the {where}{group} in "
                              f"{self.workflow.column(ticket.state).title}")
            now = self.clock()
            before = ticket.rank
            self._save(ticket, {"rank": new_rank}, expected_version, now)
            entry = self._record(ticket, "rank", by, now, reason=f"moved {direction or f'to position {position}'}",
                                 detail={"from": before, "to": new_rank, "mode": mode})
            return ChangeResult(ticket, entry, {"rank": (before, new_rank)})

        return self._write(work)

    def _new_rank(self, ticket: Ticket, direction: str | None, position: int | None, mode: str) -> float | None:
        """The rank that puts `ticket` where asked among its peers, or None if it is there already."""
        for _ in range(2):
            peers = Ticket.select(Ticket.id, Ticket.rank).where(Ticket.state == ticket.state)
            if mode == "work":
                peers = peers.where(Ticket.sort_key == ticket.sort_key)
            others = peers.where(Ticket.id != ticket.id)
            before = others.where((Ticket.rank < ticket.rank) | ((Ticket.rank == ticket.rank) & (Ticket.id < ticket.id)))
            after = others.where((Ticket.rank > ticket.rank) | ((Ticket.rank == ticket.rank) & (Ticket.id > ticket.id)))
            if position is not None:
                ordered = others.order_by(Ticket.rank, Ticket.id)
                index = min(max(0, position), others.count())
                above = ordered.offset(index - 1).limit(1).first() if index > 0 else None
                below = ordered.offset(index).limit(1).first()
                current = before.count()
                if current == index:
                    return None
                low, high = (above.rank if above else None), (below.rank if below else None)
            elif direction in ("up", "top"):
                ahead = list(before.order_by(Ticket.rank.desc(), Ticket.id.desc()).limit(2))
                if not ahead:
                    return None
                if direction == "top":
                    return (others.select(fn.MIN(Ticket.rank)).scalar()) - 1.0
                low, high = (ahead[1].rank if len(ahead) > 1 else None), ahead[0].rank
            else:
                behind = list(after.order_by(Ticket.rank, Ticket.id).limit(2))
                if not behind:
                    return None
                if direction == "bottom":
                    return (others.select(fn.MAX(Ticket.rank)).scalar()) + 1.0
                low, high = behind[0].rank, (behind[1].rank if len(behind) > 1 else None)
            if low is None:
                return high - 1.0
            if high is None:
                return low + 1.0
            if high - low > 1e-6:
                return (low + high) / 2
            _renumber(ticket.state)  # the gap is worn out (or ranks tie): spread the column, then retry
            ticket.rank = Ticket.get_by_id(ticket.id).rank
        raise Refused(f"{ticket.key}: could not find a free rank")
    # -- acknowledgement and escalation ------------------------------------

    def acknowledge(self, key: str, *, by: str, expected_version: int | None = None) -> Ticket:
        """`by` takes the page: the escalation stops, and the ticket says who has it.

        `needs_ack` stays true (the ticket was a page); `ack_at` set is what
        "acknowledged" means. Refused when nothing was paged or someone already
        acknowledged it, naming them, so two people never think they both hold it.
        """
        by = (by or "").strip()
        if self.config.member(by) is None:
            raise Refused(f"unknown team member {by!r} (team: {', '.join(self.config.handles)})")

        def work() -> Ticket:
            ticket = self._fetch_for_write(key, expected_version)
            if not ticket.needs_ack:
                raise Refused(f"{ticket.key} does not need acknowledging (nothing was paged)")
            if ticket.ack_at is not None:
                at = ticket.ack_at.replace(tzinfo=dt.timezone.utc).astimezone(self.config.board.tz)
                raise Refused(f"{ticket.key} was already acknowledged by {ticket.ack_by or 'someone'} "
                              f"at {at:%Y-%m-%d %H:%M %Z}")
            now = self.clock()
            paged = self._last_pages([ticket.id]).get(ticket.id, ())
            self._save(ticket, {"ack_at": now, "ack_by": by}, expected_version, now)
            self._record(ticket, "ack", by, now, reason="acknowledged",
                         detail={"paged": list(paged)} if paged else None)
            return ticket

        return self._write(work)

    def escalate_due(self, now: dt.datetime | None = None) -> list[Page]:
        """Send every escalation step that is due at `now` (default: the clock); idempotent.

        A step already recorded (a History row of kind "page" with its index)
        is never sent again, so a second run at the same instant pages nobody.
        Each ticket's steps are written in one transaction: the History rows,
        one notification per paged person, and a version bump. Two `escalate`
        processes at once are safe: the transaction re-reads the ticket and its
        pages before writing, and the version guard makes the slower one give
        up that ticket (SQLite also queues the writers).
        """
        now = _naive_utc(now) if now is not None else self.clock()
        waiting = list(Ticket.select().where(Ticket.needs_ack & Ticket.ack_at.is_null()).order_by(Ticket.id))
        sent = self._sent_steps([t.id for t in waiting])
        pages: list[Page] = []
        for ticket in waiting:
            if self._due(ticket, sent.get(ticket.id, set()), now):
                try:
                    pages.extend(self._page(ticket.id, now))
                except Conflict:
                    continue  # another escalation process sent this ticket's steps just now
        return pages

    def next_escalation_at(self) -> dt.datetime | None:
        """When the next step of any waiting ticket falls due (naive UTC), or None.

        Lets a running `escalate` sleep until there is something to do; new
        pages arriving meanwhile are caught by its poll interval.
        """
        waiting = list(Ticket.select().where(Ticket.needs_ack & Ticket.ack_at.is_null()))
        sent = self._sent_steps([t.id for t in waiting])
        times = []
        for ticket in waiting:
            due = self._call(next_due_at, self.config.oncall, _aware(_paged_at(ticket)), None,
                             sent.get(ticket.id, set()), add_working=self.add_working)
            if due is not None:
                times.append(_naive_utc(due))
        return min(times, default=None)

    def paged_now(self, ticket: Ticket) -> tuple[str, ...]:
        """Who the last page went to, while the ticket is still unacknowledged; () otherwise."""
        return self.paged_now_for([ticket]).get(ticket.key, ())

    def paged_now_for(self, tickets: Iterable[Ticket]) -> dict[str, tuple[str, ...]]:
        """`paged_now` for many cards in one query: {key: handles} for those being paged."""
        waiting = {t.id: t.key for t in tickets if t.needs_ack and t.ack_at is None}
        return {waiting[i]: paged for i, paged in self._last_pages(list(waiting)).items()}

    def paging_now_for(self, tickets: Iterable[Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """`paged_now_for` with the rotation of the step that paged them: {key: (rotation, handles)}.

        One query for a whole page of board cards; anything with `id`, `key`,
        `needs_ack` and `ack_at` will do (the board passes its `CardRow`s).
        """
        waiting = {t.id: t.key for t in tickets if t.needs_ack and t.ack_at is None}
        latest: dict[str, tuple[str, tuple[str, ...]]] = {}
        for ticket_id, detail in self._page_rows(list(waiting)):  # oldest first: the last one wins
            latest[waiting[ticket_id]] = (str(detail.get("rotation", "")), tuple(detail.get("paged", ())))
        return latest

    def _due(self, ticket: Ticket, sent: set[int], now: dt.datetime) -> list:
        return self._call(due_steps, self.config.oncall, _aware(_paged_at(ticket)), None, sent, _aware(now),
                          add_working=self.add_working)

    def _page(self, ticket_id: int, now: dt.datetime) -> list[Page]:
        """Record and notify the due steps of one ticket, in one transaction."""
        pages: list[Page] = []

        def work() -> Ticket:
            ticket = Ticket.get_by_id(ticket_id)
            if not ticket.needs_ack or ticket.ack_at is not None:
                return ticket
            due = self._due(ticket, self._sent_steps([ticket.id]).get(ticket.id, set()), now)
            if not due:
                return ticket
            self._save(ticket, {}, ticket.version, now)  # first: a concurrent escalator waits here, then gives up
            since = _aware(_paged_at(ticket)).astimezone(self.config.board.tz)
            for step in due:
                due_at = _naive_utc(step.due_at)
                self._record(ticket, "page", "", now,
                             reason=f"step {step.step.index + 1} ({step.step.rotation}): paged {', '.join(step.paged)}",
                             detail={"step": step.step.index, "rotation": step.step.rotation,
                                     "paged": list(step.paged), "due_at": due_at.isoformat()})
                for handle in step.paged:
                    member = self.config.member(handle)
                    self._notify(ticket, outbox.escalation_page(
                        key=ticket.key, title=ticket.title, recipient=member.email if member else "",
                        name=member.name if member else handle, handle=handle, step=step.step.rotation,
                        priority=priority_label(ticket.priority), since=f"{since:%Y-%m-%d %H:%M %Z}",
                        **self.mail_options))
                pages.append(Page(ticket.key, step.step.index, step.step.rotation, step.paged, due_at, now))
            return ticket

        self._write(work)
        return pages

    def _sent_steps(self, ticket_ids: list[int]) -> dict[int, set[int]]:
        """{ticket id: indexes of the escalation steps already sent}, in one query."""
        sent: dict[int, set[int]] = {}
        for ticket_id, detail in self._page_rows(ticket_ids):
            sent.setdefault(ticket_id, set()).add(detail["step"])
        return sent

    def _last_pages(self, ticket_ids: list[int]) -> dict[int, tuple[str, ...]]:
        last: dict[int, tuple[str, ...]] = {}
        for ticket_id, detail in self._page_rows(ticket_ids):
            last[ticket_id] = tuple(detail.get("paged", ()))  # rows come oldest first
        return last

    def _page_rows(self, ticket_ids: list[int]) -> Iterable[tuple[int, dict[str, Any]]]:
        if not ticket_ids:
            return []
        rows = (History.select(History.ticket, History.detail)
                .where((History.kind == "page") & History.ticket.in_(ticket_ids))
                .order_by(History.id).tuples())
        return [(ticket_id, json.loads(detail)) for ticket_id, detail in rows if detail]

    @staticmethod
    def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The escalation rules' ValueError (a working-time delay without a calendar) as a refusal."""
        try:
            return function(*args, **kwargs)
        except ValueError as exc:
            raise Refused(str(exc)) from None
    # -- replies ---------------------------------------------------------

    def find_reply_ticket(self, reply: Reply) -> Ticket | None:
        """The ticket a reply belongs to: a stored Message-ID, a thread id with its token, then guessable anchors."""
        ticket = outbox_data.ticket_for_message_ids(reply.references)
        if ticket is not None:
            return ticket
        for key, token in reply.thread_tokens.items():  # an unguessable thread id of ours
            ticket = Ticket.get_or_none((Ticket.key == key) & (Ticket.thread_token == token))
            if ticket is not None:
                return ticket
        # Guessable anchors (an old thread id, the subject's [KEY]): the sender check
        # in `receive_reply` holds such a mail unless it is from a participant.
        for key in reply.thread_keys + reply.subject_keys:
            ticket = Ticket.get_or_none(Ticket.key == key)
            if ticket is not None:
                return ticket
        return None

    def receive_reply(self, reply: Reply) -> ReplyResult:
        """Record a requester's reply as a comment; a Pending ticket goes back to work; the assignee hears.

        One transaction: the comment, the move (through `move`, reason
        "requester replied") and the assignee's mail commit together or not
        at all. The reply is the requester speaking, not the team responding,
        so the SLA stamps (first response, last update to the requester) are
        left as they were even though the move mails the requester. An
        auto-reply or bounce is recorded and nothing else, so an
        out-of-office cannot bounce a ticket around. A message already
        recorded (same Message-ID) is not recorded twice: mail is delivered
        at least once, to us too.
        """

        def work() -> ReplyResult:
            ticket = self.find_reply_ticket(reply)
            if ticket is None:
                raise NotFound("no ticket matches this message (no known Message-ID in In-Reply-To/References, "
                               "no [KEY] in the subject)")
            earlier = self._comment_with_message_id(ticket, reply.message_id)
            if earlier is not None:
                return ReplyResult(ticket, earlier, duplicate=True, held=earlier.kind == HELD)
            if not self.is_participant(ticket, reply.sender):
                now = self.clock()
                entry = self._record(ticket, HELD, reply.sender or reply.sender_name or "unknown sender", now,
                                     reason="from an unknown sender: not applied until a team member accepts it",
                                     detail=_reply_detail(reply), message_id=reply.message_id or None)
                return ReplyResult(ticket, entry, held=True)
            return self._apply_reply(ticket, reply)

        return self._write(work)

    def seen(self, key: str, *, by: str) -> Ticket | None:
        """A team member opened the ticket's detail: its "answered" mark goes (None: nothing to clear)."""
        if self.config.member(by) is None:
            return None

        def work() -> Ticket | None:
            ticket = self._fetch_for_write(key)
            if not ticket.answered:
                return None
            now = self.clock()
            self._save(ticket, {"answered": False}, None, now)
            self._record(ticket, "seen", by, now, reason="looked at the requester's reply")
            return ticket

        return self._write(work)

    def is_participant(self, ticket: Ticket, address: str) -> bool:
        """The requester, a team member, or a sender a team member accepted on this ticket before.

        A stranger's mail (a forged `In-Reply-To`, a `[KEY]` in the subject)
        is held instead: it never moves the ticket, never reaches the
        requester and is not forwarded to the assignee.
        """
        address = (address or "").strip().lower()
        if not address:
            return False
        if address == (ticket.requester_email or "").strip().lower():
            return True
        if any(address == (m.email or "").strip().lower() for m in self.config.team):
            return True
        return (History.select().where((History.ticket == ticket) & (History.kind == "comment")
                                       & (fn.LOWER(History.by) == address)).exists())

    def accept_held(self, key: str, entry_id: int, *, by: str) -> ReplyResult:
        """A team member accepts a held mail: recorded as the requester's reply, its sender now a participant."""
        if self.config.member(by) is None:
            raise Refused(f"unknown team member {by!r} (team: {', '.join(self.config.handles)})")

        from app.notify.inbound import Reply

        def work() -> ReplyResult:
            ticket = self._fetch_for_write(key)
            held = History.get_or_none((History.id == entry_id) & (History.ticket == ticket) & (History.kind == HELD))
            if held is None:
                raise NotFound(f"{ticket.key} has no held message {entry_id}")
            values = json.loads(held.detail) if held.detail else {}
            if self._comment_with_message_id(ticket, held.message_id or "", kinds=("comment",)) is not None \
                    or History.select().where((History.ticket == ticket) & (History.kind == "comment")
                                              & History.detail.contains(f'"accepted": {entry_id}, ')).exists():
                raise Refused(f"{ticket.key}: held message {entry_id} was already accepted")
            reply = Reply(sender=values.get("from", ""), sender_name=values.get("name", ""),
                          subject=values.get("subject", ""), message_id=values.get("message_id", ""),
                          references=(), text=values.get("body", ""), automatic=bool(values.get("automatic")))
            return self._apply_reply(ticket, reply, accepted=(entry_id, by))

        return self._write(work)

    def _apply_reply(self, ticket: Ticket, reply: Reply, accepted: tuple[int, str] | None = None) -> ReplyResult:
        """The requester's reply and its effects: the comment, the move back from Pending, the assignee's mail."""
        now = self.clock()
        sender = reply.sender or reply.sender_name or "unknown sender"
        detail = _reply_detail(reply)
        if accepted is not None:
            detail.update(accepted=accepted[0], accepted_by=accepted[1])
        moved = None
        if not reply.automatic and self.workflow.column(ticket.state).is_hold and ticket.hold_reason == "requester":
            stamps = {"first_response": ticket.first_response,
                      "last_requester_update": ticket.last_requester_update}
            try:
                moved = self.move(ticket.key, self.workflow.active, by=sender, reason="requester replied")
            except Refused as exc:  # e.g. In Progress is full: keep the reply, tell the assignee
                detail["not_moved"] = str(exc)
            else:
                ticket = moved.ticket
                Ticket.update(**stamps).where(Ticket.id == ticket.id).execute()
                for name, value in stamps.items():
                    setattr(ticket, name, value)
        comment = self._record(ticket, "comment", sender, now, detail=detail, message_id=reply.message_id or None,
                               reason="" if reply.automatic else REPLIED)
        if reply.automatic:
            return ReplyResult(ticket, comment)
        Ticket.update(answered=True).where(Ticket.id == ticket.id).execute()
        ticket.answered = True
        member = self.config.member(ticket.assignee) if ticket.assignee else None
        notified = None
        if member is not None:
            notified = self._notify(ticket, outbox.reply_received(
                key=ticket.key, title=ticket.title, recipient=member.email, name=member.name,
                sender=sender, sender_name=reply.sender_name,
                subject=reply.subject, text=reply.text, status=self.status_of(ticket), **self.mail_options))
        return ReplyResult(ticket, comment, moved, notified, not_moved=detail.get("not_moved", ""))

    def _comment_with_message_id(self, ticket: Ticket, message_id: str,
                                 kinds: tuple[str, ...] = ("comment", HELD)) -> History | None:
        """The reply (or held mail) already recorded with this Message-ID, the accepted reply first."""
        if not message_id:
            return None
        return (History.select().where((History.message_id == message_id) & (History.ticket == ticket)
                                       & History.kind.in_(kinds)).order_by(History.kind, History.id).first())

    # -- response targets ------------------------------------------------

    def remind_due(self, now: dt.datetime | None = None) -> list[Reminder]:
        """Remind the team of every open ticket whose response target has entered its warning margin.

        One reminder per target cycle (`TargetStatus.reminder_key`): the
        first response once, each update cycle once. A target already breached
        when nothing looked during its margin (the loop was down over a
        weekend) is reminded once too. Each reminder is a notification to the
        person responsible and a History row kind "reminder" (detail:
        `reminder_key`, target, due, recipient) in one transaction; the row is
        what makes a second run send nothing, checked again inside the
        transaction so two loops on one team database cannot both send.

        Who is reminded: the assignee; for an unassigned ticket, whoever is on
        duty in the rotation of the first escalation step (the primary on
        call); with no escalation configured, the first member of `team:`.
        Open tickets are read in chunks (`data.sla_inputs.CHUNK`), three
        queries each plus one for the reminders already sent.
        """
        instant = aware(now or self.clock())
        now = instant.astimezone(dt.timezone.utc).replace(tzinfo=None)  # stored instants are naive UTC
        written: list[Reminder] = []
        batch: list[tuple[SlaRow, SlaStatus]] = []

        def flush() -> None:
            sent = reminder_keys([row.id for row, _ in batch])
            for row, status in batch:
                for target in reminders_due(status, sent.get(row.id, set())):
                    reminder = self._remind(row.id, target, instant, now)
                    if reminder is not None:
                        written.append(reminder)
            batch.clear()

        for row, status in open_statuses(self.config, instant):
            batch.append((row, status))
            if len(batch) >= CHUNK:
                flush()
        flush()
        return written

    def responsible(self, assignee: str | None, instant: dt.datetime) -> str:
        """The handle a reminder goes to: the assignee, else the first escalation step's on-duty member, else the first team member."""
        if assignee and self.config.member(assignee) is not None:
            return assignee
        oncall = self.config.oncall
        if oncall.escalation:
            holders = on_duty(oncall.rotation(oncall.escalation[0].rotation), oncall.overrides, instant)
            if holders:
                return holders[0]
        return self.config.team[0].handle

    def _remind(self, ticket_id: int, target: TargetStatus, instant: dt.datetime, now: dt.datetime) -> Reminder | None:
        def work() -> Reminder | None:
            ticket = Ticket.get_or_none(Ticket.id == ticket_id)
            if ticket is None:
                return None
            already = (History.select().where((History.ticket == ticket) & (History.kind == REMINDER)
                                              & History.detail.contains(target.reminder_key)))
            if any(json.loads(h.detail).get("reminder_key") == target.reminder_key for h in already):
                return None
            handle = self.responsible(ticket.assignee, instant)
            member = self.config.member(handle)
            tz = self.config.board.tz
            due = target.due.astimezone(tz)
            last = ticket.last_requester_update
            draft = outbox.response_reminder(
                key=ticket.key, title=ticket.title, recipient=member.email if member else "",
                name=member.name if member else handle, target=TARGET_PHRASES[target.name],
                due=f"{due:%a %d %b %H:%M %Z}",
                last_update=f"{last.replace(tzinfo=dt.timezone.utc).astimezone(tz):%a %d %b %H:%M %Z}" if last else "never",
                **self.mail_options)
            self._notify(ticket, draft)
            self._record(ticket, REMINDER, "triageboard", now, reason=f"{TARGET_TITLES[target.name]} {target.state}",
                         detail={"reminder_key": target.reminder_key, "target": target.name, "state": target.state,
                                 "due": due.isoformat(), "to": handle})
            return Reminder(key=ticket.key, target=target.name, recipient=handle, state=target.state, due=due)

        return self._write(work)

    # -- import ----------------------------------------------------------

    def bulk_insert(self, rows: Iterable[dict[str, Any]], histories: dict[str, list[dict[str, Any]]] | None = None,
                    batch: int = 2000, *, notifications: dict[str, list[dict[str, Any]]] | None = None) -> int:
        """Insert validated rows in one transaction (import and benchmarks); all or nothing.

        `notifications` are outbox rows by ticket key (a JSON export's): kept as
        they were, since the SLA and the detail read them.
        """
        histories = histories or {}
        outbox = notifications or {}

        def work() -> int:
            count = 0
            pending: list[dict[str, Any]] = []
            for row in rows:
                pending.append(row)
                if len(pending) >= batch:
                    count += self._insert_batch(pending, histories)
                    pending = []
            if pending:
                count += self._insert_batch(pending, histories)
            if outbox:
                ids = dict(Ticket.select(Ticket.key, Ticket.id).where(Ticket.key.in_(list(outbox))).tuples())
                carried = [{**entry, "ticket": ids[key]} for key, entries in outbox.items() for entry in entries]
                for start in range(0, len(carried), 1000):
                    Notification.insert_many(carried[start:start + 1000]).execute()
            return count

        return self._write(work)

    def _insert_batch(self, rows: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]]) -> int:
        # insert_many takes its columns from the first row: a field that only a later row sets
        # (an import where one ticket has a work_type) would be dropped without a word.
        columns = {name for row in rows for name in row}
        defaults = {name: Ticket._meta.fields[name].default for name in columns}
        rows = [{name: row[name] if name in row else (default() if callable(default) else default)
                 for name, default in defaults.items()} for row in rows]
        Ticket.insert_many(rows).execute()
        keys = [r["key"] for r in rows]
        ids = dict(Ticket.select(Ticket.key, Ticket.id).where(Ticket.key.in_(keys)).tuples())
        history_rows = []
        links: dict[int, list[tuple[Any, Any]]] = {}  # ticket id -> (exported id, exported undoes) per entry
        for row in rows:
            entries = histories.get(row["key"])
            if entries is None:
                entries = [{"kind": "create", "at": row["created"], "by": row.get("reporter", ""),
                            "to_state": row["state"],
                            "status_after": support_status(self.workflow, row["state"], row.get("hold_reason"))}]
            ticket_id = ids[row["key"]]
            pairs = [(entry.get("_id"), entry.get("_undoes")) for entry in entries]
            if any(undoes is not None for _, undoes in pairs):
                links[ticket_id] = pairs
            history_rows.extend({**{k: v for k, v in entry.items() if not k.startswith("_")}, "ticket": ticket_id}
                                for entry in entries)
        for start in range(0, len(history_rows), 2000):
            History.insert_many(history_rows[start:start + 2000]).execute()
        self._relink_undoes(links)
        return len(rows)

    @staticmethod
    def _relink_undoes(links: dict[int, list[tuple[Any, Any]]]) -> None:
        """Point each imported undo at the new id of the move it undoes (same ticket, same order)."""
        for ticket_id, pairs in links.items():
            new_ids = [h for (h,) in History.select(History.id).where(History.ticket == ticket_id)
                       .order_by(History.id).tuples()]
            renumber = {old: new for (old, _), new in zip(pairs, new_ids) if old is not None}
            for (_, undoes), new in zip(pairs, new_ids):
                if undoes is not None and undoes in renumber:
                    History.update(undoes=renumber[undoes]).where(History.id == new).execute()


def _reply_detail(reply: Reply) -> dict[str, Any]:
    return {"from": reply.sender or reply.sender_name or "unknown sender", "name": reply.sender_name,
            "subject": reply.subject, "message_id": reply.message_id, "body": reply.text,
            "automatic": reply.automatic, "original": reply.original}


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
                                  f"{_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def write_error(key: str, exc: Exception) -> str:
    """One line for a write that failed unexpectedly (a locked file, a database that went away)."""
    return f"{key} was not saved: {_first_line(exc)}"


def _retryable(exc: OperationalError) -> bool:
    """A transient lock failure: the whole transaction is run again."""
    message = str(exc).lower()
    return any(marker in message for marker in _RETRYABLE)


def _paged_at(ticket: Ticket) -> dt.datetime:
    """When the ticket's page started; a flagged ticket without a start counts from its creation."""
    return ticket.page_started or ticket.created


def _aware(naive_utc: dt.datetime) -> dt.datetime:
    return naive_utc.replace(tzinfo=dt.timezone.utc)


def _naive_utc(instant: dt.datetime) -> dt.datetime:
    """The database's form of an instant: UTC without an offset (a naive value is taken as UTC)."""
    if instant.tzinfo is None:
        return instant
    return instant.astimezone(dt.timezone.utc).replace(tzinfo=None)


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


_TRIAGE_FIELDS = ("impact", "urgency", "users_affected", "frequency", "service_down", "deadline", "reproducible",
                  "actionable", "acknowledged", "next_steps_sent", "eta", "description", "background",
                  "impact_statement", "extra_info", "priority", "priority_overridden")

_CHOICES = {"impact": triage.IMPACTS, "urgency": triage.URGENCIES, "users_affected": triage.USERS_AFFECTED,
            "frequency": triage.FREQUENCIES, "reproducible": triage.REPRODUCIBLE, "actionable": triage.ACTIONABLE}


def _check_answers(given: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise triage answers; Refused names the accepted words."""
    answers: dict[str, Any] = {}
    for name, value in given.items():
        if name in _CHOICES:
            if isinstance(value, str):
                value = value.strip().lower() or None
            if value is not None and value not in _CHOICES[name]:
                raise Refused(f"{name.replace('_', ' ')} must be one of {', '.join(_CHOICES[name])}, got {value!r}")
        elif name == "service_down":
            if value is not None and not isinstance(value, bool):
                raise Refused(f"service down is yes or no, got {value!r}")
        elif name in ("acknowledged", "next_steps_sent"):
            value = bool(value)
        elif name == "deadline":
            if isinstance(value, dt.date):
                value = value.isoformat()[:10]
            else:
                try:
                    day = triage.parse_date(value)
                except ValueError as exc:
                    raise Refused(f"deadline: {exc}") from None
                value = day.isoformat() if day else None
        elif name == "eta":
            value = (str(value).strip() or None) if value is not None else None
        else:  # the intake texts
            value = (str(value) if value is not None else "").strip()
        answers[name] = value
    return answers


def _shown(name: str, old: Any, new: Any) -> list[Any]:
    if name == "priority":
        return [f"P{old}" if old else None, f"P{new}" if new else None]
    return [old, new]


def _summary(changes: dict[str, tuple[Any, Any]]) -> str:
    """One line for the history view: "set impact high, urgency soon, priority P2"."""
    parts = []
    for name, (old, new) in changes.items():
        if name == "priority_overridden":
            continue  # the notes say "overridden" or "override cleared"
        label = name.replace("_", " ")
        shown = {True: "yes", False: "no"}.get(new, new) if isinstance(new, bool) else _shown(name, old, new)[1]
        parts.append(label if isinstance(new, str) and len(new) > 30 else f"{label} {shown if shown is not None else '-'}")
    return "set " + ", ".join(parts)


def _renumber(state: str) -> None:
    """Give a column's cards ranks 1, 2, 3, … in their manual order (rarely needed)."""
    ids = [row[0] for row in Ticket.select(Ticket.id).where(Ticket.state == state)
           .order_by(Ticket.rank, Ticket.id).tuples()]
    for number, ticket_id in enumerate(ids, start=1):
        Ticket.update(rank=float(number)).where(Ticket.id == ticket_id).execute()


def _announced(result: Any) -> list[tuple[int, int]] | None:
    """What live boards are told: the touched tickets, or None ("reload everything") for a bulk write."""
    if isinstance(result, int) and not isinstance(result, bool):
        return None if result else []
    return [(t.id, t.version) for t in _touched(result)]


KEY_LOCK = 0x7462_6B65_7973  # "tbkeys": PostgreSQL advisory lock id for key allocation


def _serialize_key_allocation() -> None:
    """Make concurrent creates take numbers one after another (until this transaction ends).

    SQLite's BEGIN IMMEDIATE already serialises writers. On PostgreSQL two
    creates would both read the same MAX(number); a transaction-scoped
    advisory lock queues them instead of letting all but one fail and retry.
    """
    db = database_proxy.obj
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (KEY_LOCK,))


WIP_LOCK = 0x7462_7770  # "tbwp": the advisory lock class of moves into a WIP-limited column


def _serialize_column(state: str) -> None:
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

HIGHEST_RANK = Prepared(lambda *, state: Ticket.select(fn.MAX(Ticket.rank)).where(Ticket.state == state))


def _next_rank(state: str) -> float:
    """Bottom of the column: one past the highest rank there (an indexed MAX)."""
    highest = HIGHEST_RANK.execute(state=state).fetchone()[0]
    return (highest or 0.0) + 1.0


def _number_of(key: str, prefix: str) -> int:
    head, _, tail = key.partition("-")
    if head != prefix or not tail.isdigit():
        raise Refused(f"ticket key {key!r} does not match the board's prefix {prefix}-N")
    return int(tail)


def _check_text(values: dict[str, Any]) -> None:
    """Refuse a requester address that is not one and text holding NUL, before anything is written."""
    from app.notify.addresses import address_problem, nul_problem

    for name, value in values.items():
        problem = nul_problem(value) or (address_problem(value) if name == "requester_email" and value else None)
        if problem:
            raise Refused(f"{name.replace('_email', '')}: {problem}")
