"""The one write path: every change to a ticket goes through here.

The TUI and the command line both call these methods. Each validates with
the pure rules (`app.workflow`, `app.triage`, `app.ordering`), then writes the
ticket, its history row and its notifications in one transaction, guarded by
the ticket's version so that a stale card never overwrites a newer one.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from peewee import IntegrityError, OperationalError, fn

from app import outbox, triage
from app.config import KINDS, Config
from app.escalation import AddWorking, due_steps, next_due_at
from app.ordering import BUG_CLASSES, priority_label, sort_key
from app.workflow import HOLD_REASONS, SOLVED, check_move, default_reason, support_status
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
class MoveResult:
    ticket: Ticket
    history: History
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
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


WORK_TYPES = ("support", "project", "adhoc")


class Service:
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
        queue instead of deadlocking on a read-to-write upgrade.
        """
        db = database_proxy.obj
        attempts = 0
        while True:
            try:
                with (db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic()):
                    result = work()
                break
            except OperationalError as exc:
                attempts += 1
                if "locked" not in str(exc) and "busy" not in str(exc) or attempts > 50:
                    raise
                time.sleep(min(0.01 * attempts, 0.2))
        for ticket in _touched(result):
            for callback in self.after_commit:
                callback(ticket)
        return result

    def _record(self, ticket: Ticket, kind: str, by: str, now: dt.datetime, **fields: Any) -> History:
        detail = fields.pop("detail", None)
        return History.create(ticket=ticket, kind=kind, by=by or "", at=now,
                              detail=json.dumps(detail) if detail else "", **fields)

    def _save(self, ticket: Ticket, changes: dict[str, Any], expected_version: int | None, now: dt.datetime) -> Ticket:
        """Apply `changes` only if nobody changed the ticket since it was read."""
        version = ticket.version if expected_version is None else expected_version
        changes = {**changes, "updated": now, "version": version + 1}
        rows = (Ticket.update(**changes)
                .where((Ticket.id == ticket.id) & (Ticket.version == version)).execute())
        if rows != 1:
            raise self._conflict(ticket.id)
        for name, value in changes.items():
            setattr(ticket, name, value)
        return ticket

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
            number = _number_of(key, self.config.board.key) if key else (Ticket.select(fn.MAX(Ticket.number)).scalar() or 0) + 1
            ticket = Ticket.create(
                key=key or f"{self.config.board.key}-{number}", number=number, title=title,
                description=description, requester_email=requester_email, requester_name=requester_name,
                reporter=by, service=service, kind=kind, bug_class=bug_class, priority=priority,
                assignee=assignee, state=state, rank=_next_rank(state), state_entered=created,
                sort_key=sort_key(kind, bug_class, priority), created=created, updated=now,
                needs_ack=priority == 1, page_started=created if priority == 1 else None, **extra)
            self._record(ticket, "create", by, created, to_state=state, status_after=self.status_of(ticket))
            return ticket

        try:
            return self._write(work)
        except IntegrityError:
            raise Refused(f"ticket key {key!r} already exists") from None

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
            ticket = self.get(key)
            if expected_version is not None and ticket.version != expected_version:
                raise self._conflict(ticket.id)
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
            ticket = self.get(key)
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
            ticket = self.get(key)
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
            ticket = self.get(key)
            if expected_version is not None and ticket.version != expected_version:
                raise self._conflict(ticket.id)
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
                        priority=priority_label(ticket.priority), since=f"{since:%Y-%m-%d %H:%M %Z}"))
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
        for row in rows:
            entries = histories.get(row["key"])
            if entries is None:
                entries = [{"kind": "create", "at": row["created"], "by": row.get("reporter", ""),
                            "to_state": row["state"],
                            "status_after": support_status(self.workflow, row["state"], row.get("hold_reason"))}]
            history_rows.extend({**entry, "ticket": ids[row["key"]]} for entry in entries)
        for start in range(0, len(history_rows), 2000):
            History.insert_many(history_rows[start:start + 2000]).execute()
        return len(rows)


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
    if isinstance(result, MoveResult):
        return [result.ticket]
    if isinstance(result, Ticket):
        return [result]
    return []


def _next_rank(state: str) -> float:
    """Bottom of the column: one past the highest rank there (an indexed MAX)."""
    highest = Ticket.select(fn.MAX(Ticket.rank)).where(Ticket.state == state).scalar()
    return (highest or 0.0) + 1.0


def _number_of(key: str, prefix: str) -> int:
    head, _, tail = key.partition("-")
    if head != prefix or not tail.isdigit():
        raise Refused(f"ticket key {key!r} does not match the board's prefix {prefix}-N")
    return int(tail)
