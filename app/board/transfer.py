"""Import and export of tickets as CSV (a spreadsheet's view) and JSON (everything).

Import validates the whole file before it writes a row: a bad row is
reported with its line number and nothing is imported. The rows then go in
batched inserts in one transaction, so 100,000 rows take seconds.
Export as JSON carries the history, so exporting from one database and
importing into an empty one (SQLite to a team's PostgreSQL) keeps keys and
history.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import deque
from itertools import accumulate, count as count_from, repeat
from operator import add, itemgetter
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TextIO

import msgspec
from peewee import BooleanField, fn

from app.notify.addresses import address_problem, nul_problem
from app.config.settings import KINDS, Config
from app.board.ordering import BUG_CLASSES, parse_priority, priority_label, sort_key
from app.board.serialize import HISTORY_FIELDS, TICKET_FIELDS, TICKET_TIMES, iso, parse_iso
from app.board.timeline import is_internal
from app.board.workflow import support_status
from app.triage.rules import missing as triage_missing
from app.service import Refused, Service
from app.service.fields import WORK_TYPES
from app.board.workflow import HOLD_REASONS
from data.bulk import stream
from data.db import is_sqlite
from data.models import Attachment, History, Notification, Ticket, database_proxy, utcnow

NOTIFICATION_FIELDS = ("kind", "recipient", "subject", "body", "message_id", "created", "attempts",
                       "next_attempt", "last_error", "sent_at", "status")
NOTIFICATION_TIMES = ("created", "next_attempt", "sent_at")
"""The outbox rows a JSON export carries: the SLA (a first response, a pause) and the detail read them."""

CSV_COLUMNS = ("title", "key", "state", "priority", "kind", "service", "requester", "requester_name",
               "assignee", "description", "created")


class ImportError_(Refused):
    """A row of the file is wrong; the message starts with its line number."""


class _Rows(msgspec.Struct):
    tickets: list[dict[str, Any]]
    histories: dict[str, list[dict[str, Any]]]
    notifications: dict[str, list[dict[str, Any]]] = {}


def export_json(service: Service, out: TextIO) -> int:
    """Write every ticket with its history, outbox rows and files, in key-number order, as it reads them.

    One query per table, each a stream (`data.bulk.stream`: a server-side
    cursor on PostgreSQL) in the tickets' number order, merged here ticket by
    ticket, all in one read transaction so they agree. Memory stays flat and
    nothing is read twice; the shape is `ticket_dict`'s (a test keeps them
    equal), encoded by msgspec.
    """
    workflow = service.workflow
    sqlite = is_sqlite(database_proxy.obj)
    when = _db_iso if sqlite else iso
    flag = (lambda value: None if value is None else bool(value)) if sqlite else (lambda value: value)
    encode = msgspec.json.Encoder().encode
    decode = msgspec.json.decode
    statuses: dict[tuple, str] = {}
    missing: dict[tuple, list[str]] = {}
    width = len(TICKET_FIELDS)
    flags = [index for index, name in enumerate(TICKET_FIELDS) if name in _FLAGS]
    out.write('{"format": "triageboard", "version": 1, "tickets": [\n')
    count = 0
    with database_proxy.obj.atomic():
        # The few parents' keys first (one query, as many rows as there are parents): a self-join
        # in the stream let PostgreSQL, with no statistics yet after an import, loop over the table.
        parent = Ticket.alias()
        parents = dict(parent.select(parent.id, parent.key).where(
            parent.id.in_(Ticket.select(Ticket.parent).where(Ticket.parent.is_null(False)))).tuples())
        tickets = stream(Ticket.select(*[getattr(Ticket, name) for name in TICKET_FIELDS], Ticket.priority,
                                       Ticket.parent, *[getattr(Ticket, name) for name in TICKET_TIMES],
                                       Ticket.number).order_by(Ticket.number))
        histories = _by_number(stream(
            History.select(Ticket.number, *[getattr(History, name) for name in HISTORY_FIELDS], History.id,
                           History.at, History.detail).join(Ticket).order_by(Ticket.number, History.id)))
        outboxes = _by_number(stream(
            Notification.select(Ticket.number, *[getattr(Notification, name) for name in NOTIFICATION_FIELDS])
            .join(Ticket).order_by(Ticket.number, Notification.id)))
        files = _by_number(stream(
            Attachment.select(Ticket.number, Attachment.name, Attachment.path, Attachment.size,
                              Attachment.content_type, Attachment.note, Attachment.message_id, Attachment.created)
            .join(Ticket).order_by(Ticket.number, Attachment.id)))
        times = [NOTIFICATION_FIELDS.index(name) for name in NOTIFICATION_TIMES]
        clocks = list(zip(TICKET_TIMES, range(width + 2, width + 2 + len(TICKET_TIMES))))
        chunk: list[bytes] = []
        for row in tickets:
            values = list(row[:width])
            for index in flags:
                values[index] = flag(values[index])
            data = dict(zip(TICKET_FIELDS, values))
            priority = row[width]
            data["priority"] = priority_label(priority) if priority else None
            where = (data["state"], data["hold_reason"], data["solved"])
            status = statuses.get(where)
            if status is None:
                status = statuses[where] = support_status(workflow, *where)
            data["support_status"] = status
            asked = (data["actionable"], priority, data["acknowledged"], data["impact"], data["urgency"])
            gaps = missing.get(asked)
            if gaps is None:
                gaps = missing[asked] = list(triage_missing(actionable=asked[0], priority=asked[1],
                                                            acknowledged=asked[2], impact=asked[3],
                                                            urgency=asked[4]))
            data["triage_missing"] = gaps
            data["parent"] = parents.get(row[width + 1]) if row[width + 1] is not None else None
            for name, index in clocks:
                value = row[index]
                data[name] = None if value is None else when(value)
            number = row[-1]
            history, links = [], []
            # Each stream is looked at before it is walked: most tickets have no outbox rows nor files,
            # and a generator a ticket for each was a tenth of the export.
            if histories.head is not None and histories.head[0] == number:
                for entry in histories.take(number):
                    item = dict(zip(HISTORY_FIELDS, entry[1:-3]))
                    kind, at, detail = item["kind"], when(entry[-2]), entry[-1]
                    item["id"] = entry[-3]
                    item["at"] = at
                    item["detail"] = decode(detail) if detail else None
                    item["internal"] = is_internal(kind)
                    history.append(item)
                    if kind == "link":
                        extra = item["detail"] if isinstance(item["detail"], dict) else {}
                        links.append({"url": extra.get("url", ""), "label": extra.get("label", ""),
                                      "by": item["by"] or "", "at": at, "id": item["id"]})
            data["history"] = history
            data["links"] = links
            notes = []
            if outboxes.head is not None and outboxes.head[0] == number:
                for entry in outboxes.take(number):
                    note = dict(zip(NOTIFICATION_FIELDS, entry[1:]))
                    for index in times:
                        name = NOTIFICATION_FIELDS[index]
                        note[name] = when(note[name])
                    notes.append(note)
            data["notifications"] = notes
            data["attachments"] = [] if files.head is None or files.head[0] != number else [
                {"name": name, "path": path or None, "size": size, "content_type": content_type,
                 "note": note or None, "message_id": message_id, "created": when(created)}
                for _, name, path, size, content_type, note, message_id, created in files.take(number)]
            chunk.append(encode(data))
            if len(chunk) == WRITE_EVERY:
                out.write(("" if not count else ",\n") + b",\n".join(chunk).decode())
                count += len(chunk)
                chunk.clear()
        if chunk:
            out.write(("" if not count else ",\n") + b",\n".join(chunk).decode())
            count += len(chunk)
    out.write("\n]}\n")
    return count


WRITE_EVERY = 1000
"""Tickets encoded before one write: a write a ticket was a tenth of the export."""

_FLAGS = frozenset(name for name in TICKET_FIELDS if isinstance(Ticket._meta.fields[name], BooleanField))
"""The ticket's yes/no fields: SQLite hands them over as 0/1."""


class _by_number:
    """A stream of (number, ...) rows in number order, taken one ticket's worth at a time."""

    def __init__(self, rows: Iterator[tuple]):
        self.rows = rows
        self.head: tuple | None = next(rows, None)

    def take(self, number: int) -> Iterator[tuple]:
        while self.head is not None and self.head[0] == number:
            yield self.head
            self.head = next(self.rows, None)


def _db_iso(value: Any) -> str | None:
    """An instant as SQLite stores it ('2026-01-01 00:07:00[.ffffff]', naive UTC) in `iso`'s form, without parsing."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) >= 19 and value[10] == " " and "+" not in value[19:]:
        return f"{value[:10]}T{value[11:]}+00:00"
    return iso(Ticket.created.python_value(value))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is read as a formula by spreadsheets (OWASP's CSV injection list)."""
MAX_FIELD = 100_000
"""The longest CSV field import reads; a longer one is refused with its line."""
MAX_NUMBER = 2 ** 31 - 1
"""The largest ticket number a key may carry (the column is a 32-bit integer on PostgreSQL)."""


def safe_cell(value: str) -> str:
    """`value` prefixed with `'` when a spreadsheet would run it as a formula; import does not strip it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def export_csv(service: Service, out: TextIO) -> int:
    """The spreadsheet's columns of every ticket, in number order, written as one stream reads them."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    when = _db_iso if is_sqlite(database_proxy.obj) else iso
    count = 0
    with database_proxy.obj.atomic():
        for title, key, state, priority, kind, service_name, email, name, assignee, description, created in stream(
                Ticket.select(Ticket.title, Ticket.key, Ticket.state, Ticket.priority, Ticket.kind, Ticket.service,
                              Ticket.requester_email, Ticket.requester_name, Ticket.assignee, Ticket.description,
                              Ticket.created).order_by(Ticket.number)):
            writer.writerow([safe_cell(cell) for cell in (
                title, key, state, f"P{priority}" if priority else "", kind, service_name or "", email, name,
                assignee or "", description, when(created))])
            count += 1
    return count


def import_file(service: Service, path: Path, fmt: str | None = None, *, page_open_p1: bool = False) -> int:
    """Validate all of `path`, then insert it in one transaction. Returns the count.

    Import never pages: an open P1 that nobody acknowledged comes in outside the
    escalation clock (`needs_ack` false), since the ticket may be months old,
    unless `page_open_p1` keeps it waiting for acknowledgement as it was.
    """
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "json")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"{path}: cannot read: {exc}") from None
    rows = _read_csv(service.config, text, str(path)) if fmt == "csv" else _read_json(service.config, text, str(path))
    _check_keys_free(rows, str(path))
    if not page_open_p1:
        for row in rows.tickets:
            if row.get("needs_ack") and row.get("ack_at") is None:
                row["needs_ack"] = False
    return service.bulk_insert(rows.tickets, rows.histories, notifications=rows.notifications)


def _check_keys_free(rows: _Rows, name: str) -> None:
    """Refuse keys the database already has: one range read over the number index, not a query per 900 keys.

    Every key was checked to be the board's prefix and a number, and a
    ticket's key is its prefix and number, so only tickets numbered within
    the file's range can clash.
    """
    if rows.tickets:
        numbers = [r["number"] for r in rows.tickets]
        keys = {r["key"] for r in rows.tickets}
        query = (Ticket.select(Ticket.key).where(Ticket.number.between(min(numbers), max(numbers)))
                 .order_by(Ticket.number).tuples())
        taken = next((key for (key,) in query.iterator() if key in keys), None)
        if taken is not None:
            line = next(r["_line"] for r in rows.tickets if r["key"] == taken)
            raise ImportError_(f"{name}:{line}: ticket {taken} already exists in the database; nothing imported")
    for row in rows.tickets:
        row.pop("_line", None)


_FIELDS = frozenset(TICKET_FIELDS)
_CLOCKS = frozenset(("ack_at", "page_started", "first_response", "last_requester_update"))


class _RowChecker:
    """Checks one value at a time and numbers keys; errors carry the line.

    Plain functions over sets worked out once per file: at 100,000 rows the
    checks were a third of the import (a tuple of the columns built per
    value, an address parsed again for every ticket of one requester).
    """

    def __init__(self, config: Config, name: str):
        self.config = config
        self.name = name
        self.prefix = config.board.key
        self.next_number = (Ticket.select(fn.MAX(Ticket.number)).scalar() or 0) + 1
        self.seen: dict[str, int] = {}
        self.now = utcnow()
        self.rank: dict[str, float] = {}
        workflow = config.workflow
        self.initial = workflow.initial
        self.states = workflow.keys
        self.holds = frozenset(c.key for c in workflow.columns if c.is_hold)
        self.services = frozenset(config.services)
        self.handles = frozenset(config.handles)
        self.addresses: dict[str, str | None] = {}
        """Each requester address checked once per file (RFC 5322 parsing is 20 us an address)."""

    def fail(self, line: int, message: str) -> ImportError_:
        return ImportError_(f"{self.name}:{line}: {message}; nothing imported")

    def choice(self, line: int, column: str, value: Any, allowed: tuple[str, ...], empty_ok: bool = True) -> Any:
        if value in (None, "") and empty_ok:
            return None
        if value not in allowed:
            raise self.fail(line, f"{column}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def requester(self, line: int, value: Any) -> str:
        email = str(value or "").strip()
        problem = self.addresses.get(email, "")
        if problem == "":
            problem = self.addresses[email] = address_problem(email)
        if problem:
            raise self.fail(line, f"requester: {problem}")
        return email

    def state(self, line: int, value: Any) -> Any:
        return self.choice(line, "state", value or self.initial, self.states)

    def priority(self, line: int, value: Any) -> int | None:
        if value in (None, ""):
            return None
        try:
            return parse_priority(value)
        except ValueError as exc:
            raise self.fail(line, str(exc)) from None

    def kind(self, line: int, value: Any) -> Any:
        return self.choice(line, "kind", value or "bug", KINDS)

    def service(self, line: int, value: Any) -> Any:
        service = value or None
        if service is not None and self.services and service not in self.services:
            raise self.fail(line, f"service: {service!r} is not one of {', '.join(self.config.services)}")
        return service

    def assignee(self, line: int, value: Any) -> Any:
        assignee = value or None
        if assignee is not None and assignee not in self.handles:
            raise self.fail(line, f"assignee: {assignee!r} is not on the team ({', '.join(self.config.handles)})")
        return assignee

    def ticket(self, line: int, values: dict[str, Any], nul_free: bool = False) -> dict[str, Any]:
        """One ticket's row, checked; `nul_free`: the caller knows no value holds NUL (a CSV without one).

        The order of the checks is the order of the messages: a CSV's column
        checks (`_CsvColumns`) report the row this would stop at first.
        """
        if not nul_free:
            for column, value in values.items():
                if isinstance(value, str) and "\x00" in value:
                    raise self.fail(line, f"{column}: {nul_problem(value)}")
        self.requester(line, values.get("requester_email"))
        title = str(values.get("title") or "").strip()
        if not title:
            raise self.fail(line, "title is required")
        key = str(values.get("key") or "").strip().upper()
        if key:
            head, _, tail = key.partition("-")
            if head != self.prefix or not (tail.isascii() and tail.isdigit()):  # "1²" is a digit to isdigit, not to int
                raise self.fail(line, f"key {key[:40]!r} does not match the board's prefix ({self.prefix}-N)")
            if len(tail) > 10 or int(tail) > MAX_NUMBER:
                raise self.fail(line, f"key {key[:40]!r}: the number is larger than {MAX_NUMBER}")
            number = int(tail)
        else:
            number = self.next_number
            key = f"{self.prefix}-{number}"
        if key in self.seen:
            raise self.fail(line, f"duplicate key {key} (also on line {self.seen[key]})")
        self.seen[key] = line
        if number >= self.next_number:
            self.next_number = number + 1
        state = self.state(line, values.get("state"))
        hold = self.choice(line, "hold_reason", values.get("hold_reason"), HOLD_REASONS)
        if hold is None and state in self.holds:
            hold = "external"
        priority = self.priority(line, values.get("priority"))
        kind = self.kind(line, values.get("kind"))
        bug_class = self.choice(line, "bug_class", values.get("bug_class"), BUG_CLASSES)
        service = self.service(line, values.get("service"))
        assignee = self.assignee(line, values.get("assignee"))
        self.choice(line, "work_type", values.get("work_type"), WORK_TYPES)
        times: dict[str, Any] = {}
        for name in TICKET_TIMES:
            raw = values.get(name)
            if raw is None or raw == "":
                continue
            try:
                times[name] = parse_iso(str(raw))
            except ValueError:
                raise self.fail(line, f"{name}: {raw!r} is not an ISO 8601 date-time") from None
        created = times.get("created", self.now)
        rank = values.get("rank")
        if rank in (None, ""):
            rank = self.rank.get(state, 0.0) + 1.0
        rank = float(rank)
        if rank > self.rank.get(state, 0.0):
            self.rank[state] = rank
        row = {name: value for name, value in values.items() if value is not None and name in _FIELDS}
        row["version"] = int(values.get("version") or 1)
        row.update(key=key, number=number, title=title, state=state, hold_reason=hold, priority=priority,
                   kind=kind, bug_class=bug_class, service=service, assignee=assignee, rank=rank,
                   sort_key=sort_key(kind, bug_class, priority), created=created,
                   updated=times.get("updated", created), state_entered=times.get("state_entered", created),
                   needs_ack=bool(values.get("needs_ack", priority == 1)), _line=line)
        for name in times.keys() & _CLOCKS:
            row[name] = times[name]
        row.setdefault("requester_email", "")
        return row


def _read_csv(config: Config, text: str, name: str) -> _Rows:
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        return _read_csv_columns(config, text, name)
    finally:
        csv.field_size_limit(previous)


def _csv_header(reader: Any, name: str) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportError_(f"{name}:1: the file is empty; nothing imported") from None
    except csv.Error as exc:
        raise ImportError_(f"{name}:1: not valid CSV: {exc}; nothing imported") from None
    header = [h.strip() for h in header]
    for column in header:
        if column not in CSV_COLUMNS:
            raise ImportError_(f"{name}:1: unknown column {column!r} (columns: {', '.join(CSV_COLUMNS)}); "
                               "nothing imported")
    if "title" not in header:
        raise ImportError_(f"{name}:1: the column 'title' is required; nothing imported")
    return header


def _csv_values(header: list[str], record: list[str]) -> dict[str, Any]:
    """One record as `_RowChecker.ticket` takes it: stripped, the requester under its field's name."""
    values = dict(zip(header, map(str.strip, record)))
    values["requester_email"] = values.pop("requester", "")
    return values


def _csv_error(checker: _RowChecker, line: int, exc: csv.Error) -> ImportError_:
    limit = f" (at most {MAX_FIELD:,} characters)" if "field limit" in str(exc) else ""
    return checker.fail(line, f"not valid CSV: {exc}{limit}")


def _read_csv_rows(config: Config, text: str, name: str) -> _Rows:
    """The file checked a row at a time: the reference the column checks agree with, and their fallback."""
    reader = csv.reader(io.StringIO(text))
    header = _csv_header(reader, name)
    checker = _RowChecker(config, name)
    nul_free = "\x00" not in text  # then no row needs the check
    tickets = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(checker, reader.line_num, exc) from None
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise checker.fail(line, f"expected {len(header)} fields, found {len(record)}")
        tickets.append(checker.ticket(line, _csv_values(header, record), nul_free))
    return _Rows(tickets, {})


def _read_csv_columns(config: Config, text: str, name: str) -> _Rows:
    """The file checked a column at a time (`_CsvColumns`): the same rows and messages as `_read_csv_rows`.

    Falls back to the row-wise reader where a file is unusual in a way the
    columns do not model (a CSV syntax error, a column named twice, line
    numbers that do not add up).
    """
    reader = csv.reader(io.StringIO(text))
    header = _csv_header(reader, name)
    if len(set(header)) != len(header):
        return _read_csv_rows(config, text, name)
    checker = _RowChecker(config, name)
    read = _split_columns(text, reader.line_num, len(header)) or _reader_columns(checker, reader, len(header))
    if read is None:
        return _read_csv_rows(config, text, name)
    columns, lines, refused = read
    tickets = _CsvColumns(checker, header, columns, lines, refused, nul_free="\x00" not in text).tickets()
    return _Rows(tickets, {}) if tickets is not None else _read_csv_rows(config, text, name)


def _split_columns(text: str, header_lines: int, width: int) -> tuple[list[Sequence[str]], range, None] | None:
    """The columns of a file without quotes, carriage returns or long lines, cut at its commas; else None.

    The reader reads such a file a record a line, each cut at every comma
    (a blank line is a record of one empty cell here, skipped as blank
    later): `str.split` does the same in half the time, and slices give
    the columns without building a list per record and transposing them.
    """
    if header_lines != 1 or '"' in text or "\r" in text:
        return None
    body = text.split("\n")[1:]
    if body and body[-1] == "":
        body.pop()  # the last line break ends the last record
    if not body:
        return [[] for _ in range(width)], range(0), None
    if max(map(len, body)) > MAX_FIELD or not all(map((width - 1).__eq__, map(str.count, body, repeat(",")))):
        return None
    cells = ",".join(body).split(",")
    return [cells[index::width] for index in range(width)], range(2, 2 + len(body)), None


def _reader_columns(checker: _RowChecker, reader: Any,
                    width: int) -> tuple[list[Sequence[str]], list[int] | range, ImportError_ | None] | None:
    """The columns of the records the csv reader reads, their lines and a record of the wrong width; None when
    the reader fails (the row-wise reader then says where) or the lines do not add up."""
    first = reader.line_num + 1
    try:
        records = list(reader)
    except csv.Error:
        return None
    last = reader.line_num
    refused = None
    if all(map(width.__eq__, map(len, records))):
        columns = list(zip(*records)) if records else [() for _ in range(width)]
        lines = _record_lines(columns, len(records), first, last)
    else:
        lines = _record_lines([list(map("".join, records))], len(records), first, last)
        if lines is not None:
            records, lines, refused = _skip_records(checker, records, lines, width)
            columns = list(zip(*records)) if records else [() for _ in range(width)]
    return None if lines is None else (columns, lines, refused)


def _skip_records(checker: _RowChecker, records: list[list[str]], lines: Sequence[int],
                  width: int) -> tuple[list[list[str]], list[int], ImportError_ | None]:
    """Blank records skipped; the records from the first one of the wrong width on held back, with its error."""
    kept, kept_lines = [], []
    for record, line in zip(records, lines):
        if len(record) != width:
            if not any(cell.strip() for cell in record):
                continue
            return kept, kept_lines, checker.fail(line, f"expected {width} fields, found {len(record)}")
        kept.append(record)
        kept_lines.append(line)
    return kept, kept_lines, None


def _record_lines(columns: list[Sequence[str]], count: int, first: int, last: int) -> list[int] | range | None:
    """The line each of `count` records ends on (`reader.line_num` after it), from its `columns`; None when
    they do not add up to `last`.

    A record takes one line plus one per line break inside its quoted cells
    (the reader splits the text at "\\n" only).
    """
    if last - first + 1 == count:
        return range(first, last + 1)
    breaks = [0] * count
    for column in columns:
        if "\n" in "".join(column):
            breaks = list(map(add, breaks, map(str.count, column, repeat("\n"))))
    lines = list(map(add, range(first, first + count), accumulate(breaks)))
    return lines if lines and lines[-1] == last else None


class _CsvColumns:
    """A CSV's columns checked one at a time: each check on a column's distinct values, each its first bad row.

    `_RowChecker.ticket` stops at the first row with a problem and, within
    it, at the first check in its order. So each check here finds the first
    row it refuses; the earliest of those rows is the one the row-wise reader
    stops at, and that row alone is run through `ticket` (with the keys seen
    before it) for the message. The values themselves go through the row
    checker's own functions, once per distinct value.
    """

    def __init__(self, checker: _RowChecker, header: list[str], columns: list[Sequence[str]],
                 lines: Sequence[int], refused: ImportError_ | None, *, nul_free: bool):
        self.checker = checker
        self.header = header
        self.columns: dict[str, Sequence[str]] = dict(zip(header, columns))
        self.lines = lines
        self.refused = refused
        """The error of a record the reader stops at whatever its values (a wrong number of fields), if no earlier
        row is bad."""
        self.nul_free = nul_free

    def tickets(self) -> list[dict[str, Any]] | None:
        """The rows, or raises the first bad row's error; None: the columns disagree with `ticket` (never expected)."""
        self.columns["title"] = list(map(str.strip, self.columns["title"]))
        if "" in self.columns["title"]:
            self._drop_blank_rows()
        titles = self.columns["title"]
        count = len(titles)
        checker = self.checker

        bad: list[int | None] = []
        if not self.nul_free:
            bad += [_first(values, lambda value: "\x00" in value) for values in self.columns.values()]
        email_of, bad_email = _distinct(self.cells("requester"), checker.requester)
        keys, numbers, bad_key = _csv_keys(checker, self.columns.get("key"), count, self.nul_free)
        state_of, bad_state = _distinct(self.cells("state"), checker.state)
        priority_of, bad_priority = _distinct(self.cells("priority"), checker.priority)
        kind_of, bad_kind = _distinct(self.cells("kind"), checker.kind)
        service_of, bad_service = _distinct(self.cells("service"), checker.service)
        assignee_of, bad_assignee = _distinct(self.cells("assignee"), checker.assignee)
        created, bad_created = _csv_times(self.columns.get("created"), count, checker.now, self.nul_free)
        bad += [bad_email, titles.index("") if "" in titles else None, bad_key, bad_state, bad_priority, bad_kind,
                bad_service, bad_assignee, bad_created]
        found = [index for index in bad if index is not None]
        if found:
            self._refuse(min(found), keys, numbers)
            return None
        if self.refused is not None:
            raise self.refused
        rows = self._rows(titles, keys, numbers, created, email_of, state_of, priority_of, kind_of, service_of,
                          assignee_of)
        for name in ("requester_name", "description"):  # the columns `ticket` copies only when the file has them
            if name in self.columns:
                deque(map(dict.__setitem__, rows, repeat(name), map(str.strip, self.columns[name])), maxlen=0)
        return rows

    def _rows(self, titles: list[str], keys: list[str], numbers: list[int], created: list[dt.datetime],
              email_of: dict[str, str], *few: dict[str, Any]) -> list[dict[str, Any]]:
        """`ticket`'s rows: one template per (state, priority, kind, service, assignee) copied and filled in.

        Half of a row's 19 values follow from those five cells, of which a
        file has a few hundred combinations at most; copying a dict and
        setting the other values costs less than building it from 19.
        """
        state_of, priority_of, kind_of, service_of, assignee_of = few
        combos = list(zip(*map(self.cells, ("state", "priority", "kind", "service", "assignee"))))
        ranks = {state: count_from(1.0) for state in set(state_of.values())}  # 1.0, 2.0, ... as `ticket` ranks
        template_of = {}
        for state_cell, priority_cell, kind_cell, service_cell, assignee_cell in set(combos):
            state, priority, kind = state_of[state_cell], priority_of[priority_cell], kind_of[kind_cell]
            template = {"title": None, "key": None, "state": state, "kind": kind, "service": service_of[service_cell],
                        "assignee": assignee_of[assignee_cell], "requester_email": None, "version": 1, "number": None,
                        "hold_reason": "external" if state in self.checker.holds else None, "priority": priority,
                        "bug_class": None, "rank": None, "sort_key": sort_key(kind, None, priority), "created": None,
                        "updated": None, "state_entered": None, "needs_ack": priority == 1, "_line": None}
            template_of[state_cell, priority_cell, kind_cell, service_cell, assignee_cell] = template, ranks[state]
        rows = []
        append = rows.append
        for (template, rank), title, key, email, number, when, line in zip(
                map(template_of.__getitem__, combos), titles, keys, map(email_of.__getitem__, self.cells("requester")),
                numbers, created, self.lines):
            row = template.copy()
            row["title"] = title
            row["key"] = key
            row["requester_email"] = email
            row["number"] = number
            row["rank"] = next(rank)
            row["created"] = row["updated"] = row["state_entered"] = when
            row["_line"] = line
            append(row)
        return rows

    def cells(self, name: str) -> Sequence[str]:
        """A column's cells, or blank ones when the file has not got it."""
        return self.columns.get(name) or ("",) * len(self.lines)

    def _drop_blank_rows(self) -> None:
        """Rows whose cells are all blank are skipped, as the row-wise reader skips them."""
        columns = list(self.columns.values())
        blank = {index for index, title in enumerate(self.columns["title"])
                 if not title and not any(column[index].strip() for column in columns)}
        if blank:
            keep = [index for index in range(len(self.lines)) if index not in blank]
            self.lines = [self.lines[index] for index in keep]
            self.columns = {name: [column[index] for index in keep] for name, column in self.columns.items()}

    def _refuse(self, index: int, keys: list[str], numbers: list[int]) -> None:
        """Raise what `ticket` raises for row `index`, with the keys of the rows before it seen."""
        checker = self.checker
        checker.seen = dict(zip(keys[:index], self.lines[:index]))
        checker.next_number = max(checker.next_number, max(numbers[:index], default=0) + 1)
        record = [column[index] for column in self.columns.values()]  # the title stripped: `ticket` strips it
        checker.ticket(self.lines[index], _csv_values(self.header, record), self.nul_free)


def _first(values: Sequence[str], bad: Callable[[str], bool]) -> int | None:
    return next((index for index, value in enumerate(values) if bad(value)), None)


def _distinct(values: Sequence[str], check: Callable[[int, str], Any]) -> tuple[dict[str, Any], int | None]:
    """`check` (a `_RowChecker` method) on each distinct stripped value: what each cell becomes, and the first
    row it refuses."""
    allowed: dict[str, Any] = {}
    refused = set()
    for value in set(values):
        try:
            allowed[value] = check(0, value.strip())
        except Exception:  # the row-wise check of that row raises it again, whatever it is
            refused.add(value)
    return allowed, (_first(values, refused.__contains__) if refused else None)


def _csv_keys(checker: _RowChecker, column: Sequence[str] | None, count: int,
              nul_free: bool) -> tuple[list[str], list[int], int | None]:
    """Each row's key and number as `ticket` gives them (a blank key numbered after those before it), and the
    first row whose key it refuses."""
    start, prefix = checker.next_number, checker.prefix
    if column is None or not any(column):
        numbers = range(start, start + count)
        return list(map(f"{prefix}-{{}}".format, numbers)), list(numbers), None
    joined = "\x00".join(column) + "\x00"
    upper = joined.upper()  # a character at a time, so the cells' `upper` joined
    keys = list(column) if upper == joined else list(map(str.upper, column))
    if nul_free and "" not in keys and re.fullmatch(f"(?:{re.escape(prefix)}-\\d{{1,10}}\x00)*", upper, re.ASCII):
        numbers = list(map(int, map(itemgetter(slice(len(prefix) + 1, None)), keys)))
        if max(numbers) <= MAX_NUMBER and len(set(keys)) == count:
            return keys, numbers, None
    return _csv_keys_in_turn(checker, [key.strip().upper() for key in column])


def _csv_keys_in_turn(checker: _RowChecker, column: list[str]) -> tuple[list[str], list[int], int | None]:
    """`ticket`'s key checks a row at a time, for a column with blank keys or a bad one."""
    keys: list[str] = []
    numbers: list[int] = []
    seen: set[str] = set()
    prefix, next_number = checker.prefix, checker.next_number
    for index, key in enumerate(column):
        if key:
            head, _, tail = key.partition("-")
            if head != prefix or not (tail.isascii() and tail.isdigit()) or len(tail) > 10:
                return keys, numbers, index
            number = int(tail)
            if number > MAX_NUMBER:
                return keys, numbers, index
        else:
            number = next_number
            key = f"{prefix}-{number}"
        if key in seen:
            return keys, numbers, index
        seen.add(key)
        keys.append(key)
        numbers.append(number)
        if number >= next_number:
            next_number = number + 1
    return keys, numbers, None


_UTC_TIMES = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?\+00:00\x00)*", re.ASCII)
"""A column of export's instants (`iso`, `_db_iso`): each is its naive UTC value with "+00:00" after it.
(ASCII `\\d` is three times as fast as `[0-9]` here.)"""


def _csv_times(column: Sequence[str] | None, count: int, now: dt.datetime,
               nul_free: bool) -> tuple[list[dt.datetime], int | None]:
    """`parse_iso` of each cell (`now` for a blank one), and the first row it refuses.

    A column of UTC instants in export's form is parsed by `fromisoformat`
    on each cell without its "+00:00": the same naive UTC value, a tenth of
    the cost.
    """
    if column is None:
        return [now] * count, None
    if nul_free and "" not in column:
        joined = "\x00".join(column) + "\x00"
        if _UTC_TIMES.fullmatch(joined):
            try:
                return list(map(dt.datetime.fromisoformat, joined[:-1].replace("+00:00", "").split("\x00"))), None
            except ValueError:
                pass  # a day or an hour out of range: found below
    times = []
    for index, raw in enumerate(map(str.strip, column)):
        if not raw:
            times.append(now)
            continue
        try:
            times.append(parse_iso(raw))
        except Exception:  # the row-wise check of that row raises it again, whatever it is
            return times, index
    return times, None


def _read_json(config: Config, text: str, name: str) -> _Rows:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}; nothing imported") from None
    items = data.get("tickets") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportError_(f"{name}:1: expected a list of tickets (or {{\"tickets\": [...]}}); nothing imported")
    lines = _item_lines(text, len(items))
    checker = _RowChecker(config, name)
    tickets, histories, notifications = [], {}, {}
    workflow = config.workflow
    for index, item in enumerate(items):
        line = lines[index]
        if not isinstance(item, dict):
            raise checker.fail(line, "a ticket is an object")
        unknown = set(item) - set(TICKET_FIELDS) - set(TICKET_TIMES) - {"priority", "history", "support_status",
                                                                        "parent", "id", "triage_missing", "links",
                                                                        "notifications", "attachments"}
        if unknown:
            raise checker.fail(line, f"unknown field(s) {', '.join(sorted(unknown))}")
        row = checker.ticket(line, item)
        if "history" in item:
            entries = []
            for entry in item["history"] or []:
                if not isinstance(entry, dict) or "kind" not in entry or "at" not in entry:
                    raise checker.fail(line, f"{row['key']}: each history entry needs kind and at")
                for state_field in ("from_state", "to_state"):
                    if entry.get(state_field) not in (None, *workflow.keys):
                        raise checker.fail(line, f"{row['key']}: history {state_field} "
                                                 f"{entry.get(state_field)!r} is not a column")
                try:
                    at = parse_iso(str(entry["at"]))
                except ValueError:
                    raise checker.fail(line, f"{row['key']}: history time {entry['at']!r} is not ISO 8601") from None
                record = {name: entry.get(name) for name in HISTORY_FIELDS}
                # History ids are the database's; an undo's link to the move it undoes is
                # carried by the exported ids and renumbered when the rows are inserted.
                record.update(at=at, by=record["by"] or "", reason=record["reason"] or "", undoes=None,
                              detail=json.dumps(entry["detail"]) if entry.get("detail") else "",
                              _id=entry.get("id"), _undoes=entry.get("undoes"))
                entries.append(record)
            histories[row["key"]] = entries
        if item.get("notifications"):
            notifications[row["key"]] = _notifications(checker, line, row["key"], item["notifications"])
        tickets.append(row)
    return _Rows(tickets, histories, notifications)


def _notifications(checker: _RowChecker, line: int, key: str, items: Any) -> list[dict[str, Any]]:
    """The outbox rows of one exported ticket, checked like the rest (all or nothing)."""
    if not isinstance(items, list):
        raise checker.fail(line, f"{key}: notifications is a list")
    rows = []
    for item in items:
        if not isinstance(item, dict) or not {"kind", "message_id"} <= set(item):
            raise checker.fail(line, f"{key}: each notification needs kind and message_id")
        row = {}
        for name in NOTIFICATION_FIELDS:
            value = item.get(name)
            if nul_problem(value):
                raise checker.fail(line, f"{key}: notification {name}: {nul_problem(value)}")
            if name in NOTIFICATION_TIMES and value is not None:
                try:
                    value = parse_iso(str(value))
                except ValueError:
                    raise checker.fail(line, f"{key}: notification {name} {value!r} is not ISO 8601") from None
            field = Notification._meta.fields[name]
            if value is None and not field.null:
                value = field.default() if callable(field.default) else (field.default if field.default is not None else "")
            row[name] = value
        rows.append(row)
    return rows


def _item_lines(text: str, count: int) -> list[int]:
    """The line each top-level ticket object starts on, for error messages."""
    lines, depth, line, in_string, escape = [], 0, 1, False, False
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escape:
                escape = False
            elif char == "\\":
                escape = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if char == "{" and depth == (3 if text.lstrip().startswith("{") else 2):
                lines.append(line)
        elif char in "}]":
            depth -= 1
    return lines + [1] * (count - len(lines))

