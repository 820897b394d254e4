"""New tickets: one at a time (the board, mail, a script) or many in one transaction (import, benchmarks)."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Iterable

from peewee import IntegrityError, fn

from app.board.ordering import sort_key
from app.board.workflow import support_status
from app.service.core import WritePath, check_text, serialize_key_allocation
from app.service.errors import Refused
from app.service.fields import next_rank, validate_fields
from data.models import History, Notification, Ticket

KEY_ATTEMPTS = 20


class Creation(WritePath):
    """Creating a ticket under a fresh key (or a given one), and inserting an import's rows as they were."""

    def create(self, *, title: str, by: str = "", description: str = "", requester_email: str = "",
               requester_name: str = "", service: str | None = None, kind: str = "bug",
               bug_class: str | None = None, priority: int | None = None, assignee: str | None = None,
               state: str | None = None, key: str | None = None, created: dt.datetime | None = None,
               **extra: Any) -> Ticket:
        title = (title or "").strip()
        if not title:
            raise Refused("a ticket needs a title")
        check_text({"title": title, "description": description, "requester_email": requester_email,
                     "requester_name": requester_name, **extra})
        validate_fields(self.config, service=service, kind=kind, bug_class=bug_class, assignee=assignee,
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
                serialize_key_allocation()
                number = (Ticket.select(fn.MAX(Ticket.number)).scalar() or 0) + 1
            ticket = Ticket.create(
                key=key or f"{self.config.board.key}-{number}", number=number, title=title,
                description=description, requester_email=requester_email, requester_name=requester_name,
                reporter=by, service=service, kind=kind, bug_class=bug_class, priority=priority,
                assignee=assignee, state=state, rank=next_rank(state), state_entered=created,
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
        self._touch(ids.values())
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


def _number_of(key: str, prefix: str) -> int:
    head, _, tail = key.partition("-")
    if head != prefix or not tail.isdigit():
        raise Refused(f"ticket key {key!r} does not match the board's prefix {prefix}-N")
    return int(tail)

