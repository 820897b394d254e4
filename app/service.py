"""The one write path: every change to a ticket goes through here.

The TUI and the command line both call these methods. Each validates with
the pure rules (`app.workflow`, `app.triage`, `app.ordering`), then writes the
ticket, its history row and its notifications in one transaction, guarded by
the ticket's version so that a stale card never overwrites a newer one.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from peewee import IntegrityError, OperationalError, fn

from app import outbox, triage
from app.config import KINDS, Config
from app.ordering import BUG_CLASSES, sort_key
from app.workflow import HOLD_REASONS, SOLVED, check_move, default_reason, support_status
from data import live
from data.db import is_sqlite
from data.models import History, Notification, Ticket, database_proxy, utcnow


class Refused(Exception):
    """A request the rules refuse; the message is one line for the user."""


class NotFound(Refused):
    pass


class Conflict(Refused):
    """The card changed since the caller read it; `ticket` is the fresh one."""

    def __init__(self, message: str, ticket: Ticket):
        super().__init__(message)
        self.ticket = ticket


@dataclass(frozen=True)
class WriteResult:
    """A committed write: the ticket as it now is, the history row it appended, any warnings."""

    ticket: Ticket
    history: History
    warnings: tuple[str, ...] = ()


MoveResult = WriteResult


WORK_TYPES = ("support", "project", "adhoc")
KEY_ATTEMPTS = 20


class Service:
    """Ticket operations over the bound database, with an injectable clock for tests."""

    def __init__(self, config: Config, clock: Callable[[], dt.datetime] = utcnow):
        self.config = config
        self.workflow = config.workflow
        self.clock = clock
        self.after_commit: list[Callable[[Ticket], None]] = []
        """Called with each ticket a write changed, once its transaction commits."""

    # -- reading ---------------------------------------------------------

    def get(self, key: str) -> Ticket:
        ticket = Ticket.get_or_none(Ticket.key == key.strip().upper())
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
        one ever occur, is retried like SQLite's busy.
        """
        db = database_proxy.obj
        attempts = 0
        while True:
            try:
                with (db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic()):
                    result = work()
                    # Inside the transaction: PostgreSQL delivers the NOTIFY on commit only.
                    live.announce(db, _announced(result))
                break
            except OperationalError as exc:
                attempts += 1
                if not _retryable(exc) or attempts > 50:
                    raise
                time.sleep(min(0.01 * attempts, 0.2))
        for ticket in _touched(result):
            for callback in self.after_commit:
                callback(ticket)
        return result

    def _record(self, ticket: Ticket, kind: str, by: str, now: dt.datetime, **fields: Any) -> History:
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
        query = Ticket.select().where(Ticket.key == key.strip().upper())
        if not is_sqlite(database_proxy.obj):
            query = query.for_update()
        ticket = query.first()
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
        rows = (Ticket.update(**changes)
                .where((Ticket.id == ticket.id) & (Ticket.version == version)).execute())
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

    def _notify(self, ticket: Ticket, draft: outbox.Draft | None) -> Notification | None:
        if draft is None:
            return None
        return Notification.create(ticket=ticket, kind=draft.kind, recipient=draft.recipient,
                                   subject=draft.subject, body=draft.body, message_id=draft.message_id,
                                   created=self.clock(), next_attempt=self.clock())

    # -- creating --------------------------------------------------------

    def create(self, *, title: str, by: str = "", description: str = "", requester_email: str = "",
               requester_name: str = "", service: str | None = None, kind: str = "bug",
               bug_class: str | None = None, priority: int | None = None, assignee: str | None = None,
               state: str | None = None, key: str | None = None, created: dt.datetime | None = None,
               **extra: Any) -> Ticket:
        title = (title or "").strip()
        if not title:
            raise Refused("a ticket needs a title")
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
            count = Ticket.select().where(Ticket.state == target).count() if target in self.workflow.keys else 0
            verdict = check_move(self.workflow, ticket.state, target, hold_reason=hold_reason,
                                 count_in_target=count, triage_missing=self.triage_missing(ticket))
            if not verdict.ok:
                raise Refused(f"{ticket.key}: {'; '.join(verdict.errors)}")
            return self._transition(ticket, target, hold_reason, by,
                                    reason if reason is not None else default_reason(self.workflow, ticket.state, target) or "",
                                    expected_version, warnings=verdict.warnings)

        return self._write(work)

    def triage_missing(self, ticket: Ticket) -> tuple[str, ...]:
        return triage.missing(actionable=ticket.actionable, priority=ticket.priority, acknowledged=ticket.acknowledged)

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
        draft = outbox.status_change(key=ticket.key, title=ticket.title, requester_email=ticket.requester_email,
                                     before=before, after=after, reason=reason)
        if self._notify(ticket, draft) is not None:
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
            return MoveResult(ticket, entry)

        return self._write(work)

    def undo(self, key: str, *, by: str = "", expected_version: int | None = None) -> MoveResult:
        """Compensate the ticket's last move with a new move back; history is never edited.

        The way back is allowed even where the graph has no edge (To Do ->
        Closed is a loop; Closed -> To Do is not), because it restores a state
        the ticket legitimately had.
        """

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            last = (History.select().where((History.ticket == ticket) & (History.kind == "move"))
                    .order_by(History.id.desc()).first())
            if last is None:
                raise Refused(f"{ticket.key} has no move to undo")
            if last.undoes is not None:
                raise Refused(f"{ticket.key}: the last move was already an undo (move it on instead)")
            hold_before = json.loads(last.detail).get("hold_before") if last.detail else None
            return self._transition(ticket, last.from_state, hold_before, by, f"undo of move to {last.to_state}",
                                    expected_version, undoes=last.id)

        return self._write(work)

    # -- import ----------------------------------------------------------

    def bulk_insert(self, rows: Iterable[dict[str, Any]], histories: dict[str, list[dict[str, Any]]] | None = None,
                    batch: int = 2000) -> int:
        """Insert validated rows in one transaction (import and benchmarks); all or nothing."""
        histories = histories or {}

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
            return count

        return self._write(work)

    def _insert_batch(self, rows: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]]) -> int:
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


_RETRYABLE = ("locked", "busy", "deadlock detected", "could not serialize")


def _retryable(exc: OperationalError) -> bool:
    """A transient lock failure: the whole transaction is run again."""
    message = str(exc).lower()
    return any(marker in message for marker in _RETRYABLE)


def _touched(result: Any) -> list[Ticket]:
    """The tickets a write's result carries: a Ticket, anything with a `.ticket`, or a list of those."""
    if isinstance(result, Ticket):
        return [result]
    if isinstance(getattr(result, "ticket", None), Ticket):
        return [result.ticket]
    if isinstance(result, (list, tuple)):
        return [t for item in result for t in _touched(item)]
    return []


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


def _next_rank(state: str) -> float:
    """Bottom of the column: one past the highest rank there (an indexed MAX)."""
    highest = Ticket.select(fn.MAX(Ticket.rank)).where(Ticket.state == state).scalar()
    return (highest or 0.0) + 1.0


def _number_of(key: str, prefix: str) -> int:
    head, _, tail = key.partition("-")
    if head != prefix or not tail.isdigit():
        raise Refused(f"ticket key {key!r} does not match the board's prefix {prefix}-N")
    return int(tail)
