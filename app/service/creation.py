"""New tickets: one at a time (the board, mail, a script) or many in one transaction (import, benchmarks)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import random
import time
from operator import itemgetter
from typing import Any, Iterable

from peewee import IntegrityError, fn

from app.board.ordering import sort_key
from app.board.workflow import support_status
from app.service.core import WritePath, check_text, serialize_key_allocation
from app.service.errors import Refused
from app.service.fields import next_rank, validate_fields
from data import bulk
from data.counts import counted_once
from data.models import Ticket
from data.search import deferred_indexing

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
                    *, notifications: dict[str, list[dict[str, Any]]] | None = None) -> int:
        """Insert validated rows in one transaction (import, the demo, benchmarks); all or nothing.

        Each table gets one prepared INSERT run over all its rows by the driver
        (`data.bulk`), with ids reserved first, so a ticket's history and
        outbox rows know their ticket without reading it back. A ticket
        without `histories` gets its "create" row. `notifications` are outbox
        rows by ticket key (a JSON export's): kept as they were, since the SLA
        and the detail read them.
        """
        histories = histories or {}
        outbox = notifications or {}
        rows = rows if isinstance(rows, list) else list(rows)

        if not rows:
            return 0
        def work() -> int:
            with deferred_indexing():  # the search index in one statement at the end, not a trigger per row
                count = self._insert_all(rows, histories, outbox)
                # Before that statement: planned as if the tables were empty, its join of each ticket to
                # its history ran for more than 15 minutes on PostgreSQL at 100,000 tickets.
                bulk.analyze(count)
            return count

        with bulk.bulk_session():
            return self._write(work)

    def _insert_all(self, rows: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]],
                    outbox: dict[str, list[dict[str, Any]]]) -> int:
        # Every column any row sets (a field only a later row sets, such as one ticket's work_type,
        # must not be dropped) and every one with a default; a row without it gets the model's default.
        fields = Ticket._meta.fields
        ids = bulk.reserve_ids("ticket", len(rows))
        due = self._due_of(rows, ids, histories, outbox)
        given = set().union(*rows, *([DUE_COLUMNS] if due else []), OWN_SECRETS)
        names = [field.name for field in Ticket._meta.sorted_fields  # and the defaults, as insert_many fills them
                 if field.name != "id" and (field.name in given or field.default is not None)]
        # One value of each default for the whole import (one `created` instant), except the
        # ticket's own secrets: the thread token and the requester page's key, each cut from one
        # block of random bytes. With one secret for a whole import, one leaked would open all its tickets.
        defaults = {name: fields[name].default() if callable(fields[name].default) else fields[name].default
                    for name in names if name not in OWN_SECRETS}
        # A default no row overrides is the same in every row: written once into the statement.
        constant = {name: value for name, value in defaults.items() if name not in given and not isinstance(value, float)}
        varying = [name for name in names if name not in constant]
        defaults = {name: value for name, value in defaults.items() if name not in constant}
        tokens = os.urandom(8 * len(rows)).hex()
        page_secrets = base64.urlsafe_b64encode(os.urandom(24 * len(rows))).decode()
        pick = itemgetter("id", *varying)
        id_of: dict[str, int] = {}
        values = []
        for index, (ticket_id, row) in enumerate(zip(ids, rows)):
            id_of[row["key"]] = ticket_id
            values.append(pick({**defaults, "thread_token": tokens[16 * index:16 * index + 16],
                                "page_secret": page_secrets[32 * index:32 * index + 32], **row,
                                **due.get(ticket_id, NO_DUE), "id": ticket_id}))
        with bulk.indexes_aside("ticket", len(values)), counted_once(len(values)):
            bulk.insert_rows("ticket", ["id", *[fields[name].column_name for name in varying]], values,
                             {fields[name].column_name: value for name, value in constant.items()})
        del values

        statuses: dict[tuple[str, str | None], str] = {}
        entries: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            ticket_id = id_of[row["key"]]
            found = histories.get(row["key"])
            if found is None:
                where = (row["state"], row.get("hold_reason"))
                status = statuses.get(where)
                if status is None:
                    status = statuses[where] = support_status(self.workflow, *where)
                entries.append((ticket_id, {"kind": "create", "at": row["created"], "by": row.get("reporter", ""),
                                            "to_state": row["state"], "status_after": status}))
            else:
                entries.extend((ticket_id, entry) for entry in found)
        history_ids = bulk.reserve_ids("history", len(entries))
        # An undo's link to the move it undoes is carried by the exported ids: renumbered here, per ticket.
        renumber = {(ticket_id, entry["_id"]): new for new, (ticket_id, entry) in zip(history_ids, entries)
                    if entry.get("_id") is not None}
        blank = dict.fromkeys(HISTORY_COLUMNS, None) | HISTORY_DEFAULTS
        # As for the tickets: a column no entry sets is its blank in every row (a CSV's "create" rows set five).
        named = set().union(*(entry for _, entry in entries), ("undoes",) if renumber else ())
        varying = [name for name in HISTORY_COLUMNS if name in named]
        if entries:  # a JSON file's tickets may all come with an empty history
            pick = _getter(varying)
            with bulk.indexes_aside("history", len(entries)):
                bulk.insert_rows("history", ("id", "ticket_id", *varying), [
                    (new, ticket_id, *pick({**blank, **entry,
                                            "undoes": renumber.get((ticket_id, entry.get("_undoes")))}))
                    for new, (ticket_id, entry) in zip(history_ids, entries)],
                    {name: blank[name] for name in HISTORY_COLUMNS if name not in named})

        carried = [(id_of[key], entry) for key, found in outbox.items() for entry in found]
        if carried:
            columns = list(dict.fromkeys(name for _, entry in carried for name in entry))
            bulk.insert_rows("notification", ("ticket_id", *columns),
                             ((ticket_id, *[entry.get(name) for name in columns]) for ticket_id, entry in carried))
        return len(rows)


    def _due_of(self, rows: list[dict[str, Any]], ids: list[int], histories: dict[str, list[dict[str, Any]]],
                outbox: dict[str, list[dict[str, Any]]]) -> dict[int, dict[str, Any]]:
        """The stored due instants of the new tickets, from the rows in hand: written by the INSERT itself.

        A ticket that comes without history or outbox rows has exactly the SLA
        inputs its row holds (its creation into its column, its first response),
        so `fresh_due_columns` computes them for the lot, as `row_due` would
        from what `data.sla_inputs` reads back: re-reading 100,000 tickets by
        chunks of 500, then an UPDATE per ticket, was half the import, and
        `row_due` per row another 2.5 s. The others (a JSON export's tickets)
        are marked for `WritePath._with_due`, which reads their history and
        outbox after the inserts.
        """
        from app.sla.due import fresh_due_columns  # the SLA engine, loaded by the first write as in core
        from app.sla.source import digest_of

        digest, now, reread, fresh_ids, fresh = digest_of(self.config), self.clock(), [], [], []
        for ticket_id, row in zip(ids, rows):
            key = row["key"]
            if key in histories or key in outbox:
                reread.append(ticket_id)
                continue
            fresh_ids.append(ticket_id)
            fresh.append((row["created"], row["state"], row.get("priority"), row.get("first_response")))
        columns = fresh_due_columns(self.config.sla, self.config.workflow, fresh, now)
        due = {ticket_id: {"sla_warn_at": warn, "sla_due_at": due_at, "sla_digest": digest}
               for ticket_id, (warn, due_at) in zip(fresh_ids, columns)}
        self._touch(reread)
        return due


OWN_SECRETS = frozenset(("thread_token", "page_secret"))
"""Defaults each imported ticket gets its own value of (`data.models.new_thread_token`, `new_page_secret`)."""
DUE_COLUMNS = {"sla_warn_at": None, "sla_due_at": None, "sla_digest": None}
"""The stored due instants (migration 0008); None for a ticket `WritePath._with_due` computes after the inserts."""
NO_DUE = DUE_COLUMNS
HISTORY_COLUMNS = ("at", "by", "kind", "from_state", "to_state", "status_before", "status_after", "hold_reason",
                   "reason", "detail", "message_id", "undoes")
"""The history columns an import writes, in the order `_insert_all` binds them (`undoes` last: renumbered)."""
HISTORY_DEFAULTS = {"by": "", "reason": "", "detail": ""}


def _getter(names: list[str]):
    """`itemgetter` that gives a tuple for one name too."""
    if len(names) == 1:
        (name,) = names
        return lambda row: (row[name],)
    return itemgetter(*names)


def _number_of(key: str, prefix: str) -> int:
    head, _, tail = key.partition("-")
    if head != prefix or not tail.isdigit():
        raise Refused(f"ticket key {key!r} does not match the board's prefix {prefix}-N")
    return int(tail)

