"""Live boards: tell every open board which tickets another session changed.

Writers call `announce()` inside their write transaction (the service's one
write path does). On PostgreSQL that is
`NOTIFY triageboard, '<ticket_id>:<version>:<column before>:<column after>'`
(the column before is empty for a new ticket): a board then adjusts its column
counts by the move itself, where a grouped count of a million tickets takes
half a second of the server for every open board;
PostgreSQL delivers a notification only when its transaction commits, so a
board never hears of a change that was rolled back. SQLite has no such
channel, so `announce()` does nothing there and the listener polls instead:
`PRAGMA data_version` on its own connection is a cheap counter that moves
whenever another connection commits, and only then does it ask which tickets
changed (history rows past the last id seen, tickets updated after the last
instant seen).

`ChangeListener` is the reading side, free of Textual: it runs a thread and
calls `callback(changes)` from that thread with a batch of `Change`s. A UI
posts those on as a message (`App.call_from_thread` / `post_message`). A
session also hears of its own writes; compare the version with the card's to
skip them.

A team database can hold more than one board in separate schemas
(`?options=-csearch_path=…`; the test suite does this), and notification
channels are per database, not per schema; so outside `public` the channel
is `triageboard_<schema>`, which keeps boards in different schemas apart.
"""

from __future__ import annotations

import logging
import select
import sqlite3
import threading
import weakref
from typing import Callable, Iterable
from urllib.parse import urlparse

import msgspec
from peewee import Database, PostgresqlDatabase

CHANNEL = "triageboard"
EVERYTHING = "*"
"""Payload meaning "reload the whole board" (bulk import)."""

log = logging.getLogger(__name__)


class Change(msgspec.Struct, frozen=True):
    """One ticket changed (its id and new version), or, with `ticket_id` None, possibly all of them.

    "All of them" is sent after a bulk import and after the listener lost
    and regained its connection (notifications may have been missed).
    `source` and `target` are the ticket's column before and after the
    change ("" before: a new ticket; the same column: it stayed); None when
    not known (SQLite's polling finds the rows, not what they were).
    """

    ticket_id: int | None
    version: int | None = None
    source: str | None = None
    target: str | None = None

    @property
    def everything(self) -> bool:
        return self.ticket_id is None

    @property
    def columns_known(self) -> bool:
        """Whether the column counts can follow this change without counting (`source` and `target` known)."""
        return self.ticket_id is not None and self.source is not None and self.target is not None

    @classmethod
    def parse(cls, payload: str) -> "Change":
        head, version, source, target = (payload.split(":", 3) + ["", "", ""])[:4]
        if not head.isdigit():
            return cls(None)
        known = payload.count(":") >= 3 and bool(target)
        return cls(int(head), int(version) if version.isdigit() else None,
                   source if known else None, target if known else None)

    def payload(self) -> str:
        if self.everything:
            return EVERYTHING
        if self.target is None:
            return f"{self.ticket_id}:{self.version}"
        return f"{self.ticket_id}:{self.version}:{self.source or ''}:{self.target}"


def channel_name(schema: str | None) -> str:
    """`triageboard` for the public schema, `triageboard_<schema>` otherwise (63 bytes at most)."""
    if not schema or schema == "public":
        return CHANNEL
    return f"{CHANNEL}_{schema}"[:63]


_channels: "weakref.WeakKeyDictionary[Database, str]" = weakref.WeakKeyDictionary()


def _channel_of(db: Database) -> str:
    channel = _channels.get(db)
    if channel is None:
        schema = db.execute_sql("SELECT current_schema()").fetchone()[0]
        channel = _channels[db] = channel_name(schema)
    return channel


def announce(db: Database, tickets: Iterable[Change] | None) -> None:
    """Signal committed changes (one `Change` per ticket), or None for "everything".

    Call it inside the write transaction. A no-op on SQLite (the listener
    polls there).
    """
    if not isinstance(db, PostgresqlDatabase):
        return
    payloads = [EVERYTHING] if tickets is None else [change.payload() for change in tickets]
    if not payloads:
        return
    channel = _channel_of(db)
    for payload in dict.fromkeys(payloads):
        db.execute_sql("SELECT pg_notify(%s, %s)", (channel, payload))


Callback = Callable[[list[Change]], None]


class ChangeListener:
    """Watches a database for changes committed by any session.

        listener = ChangeListener(url)
        listener.start(lambda changes: app.call_from_thread(app.board_changed, changes))
        ...
        listener.stop()

    `interval` bounds the delay on SQLite (the polling period) and how soon
    `stop()` returns on PostgreSQL (the select timeout).
    """

    def __init__(self, url: str, *, interval: float = 0.25):
        scheme = urlparse(url).scheme
        if scheme.startswith("sqlite"):
            self._run = self._poll_sqlite
        elif scheme in ("postgres", "postgresql"):
            self._run = self._listen_postgres
        else:
            raise ValueError(f"unsupported database URL {url!r}")
        self.url = url
        self.interval = interval
        self._callback: Callback | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = False

    def start(self, callback: Callback, *, wait: float | None = 5.0) -> "ChangeListener":
        """Start the thread; by default wait until it listens, so no later commit is missed."""
        if self._thread is not None:
            raise RuntimeError("listener already started")
        self._callback = callback
        self._thread = threading.Thread(target=self._guarded, name="triageboard-changes", daemon=True)
        self._thread.start()
        if wait:
            self._ready.wait(wait)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def names_columns(self) -> bool:
        """Connected to PostgreSQL and listening: every committed change arrives naming the columns it
        moved a ticket between, so a board can keep its counts without counting."""
        return self._listening and self.running

    def __enter__(self) -> "ChangeListener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the thread ----------------------------------------------------------

    def _emit(self, changes: list[Change]) -> None:
        if not changes or self._callback is None:
            return
        try:
            self._callback(changes)
        except Exception:  # a broken subscriber must not stop the board from hearing later changes
            log.exception("change callback failed")

    def _guarded(self) -> None:
        """Run the backend loop; on a lost connection reconnect with backoff and ask for a full reload."""
        delay = 0.1
        first = True
        while not self._stop.is_set():
            try:
                self._run(resync=not first)
                return
            except Exception as exc:  # driver errors differ; all mean "reconnect"
                log.warning("change listener lost its connection: %s", exc)
                first = False
                self._ready.set()  # do not leave start() waiting on a server that is down
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, 5.0)

    def _listen_postgres(self, resync: bool) -> None:
        import psycopg2
        from playhouse.db_url import parse

        conn = psycopg2.connect(**parse(self.url))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT current_schema()")
                channel = channel_name(cur.fetchone()[0])
                cur.execute(f'LISTEN "{channel}"')
            self._listening = True
            self._ready.set()
            if resync:
                self._emit([Change(None)])
            while not self._stop.is_set():
                readable, _, _ = select.select([conn], [], [], self.interval)
                if not readable:
                    continue
                conn.poll()
                batch = []
                while conn.notifies:
                    batch.append(Change.parse(conn.notifies.pop(0).payload))
                self._emit(_dedupe(batch))
        finally:
            self._listening = False
            conn.close()

    def _poll_sqlite(self, resync: bool) -> None:
        path = urlparse(self.url).path
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel and sqlite:////abs
        conn = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            seen_version = conn.execute("PRAGMA data_version").fetchone()[0]
            last_history, last_updated = _sqlite_marks(conn)
            self._ready.set()
            if resync:
                self._emit([Change(None)])
            while not self._stop.wait(self.interval):
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version == seen_version:
                    continue
                seen_version = version
                changes, last_history, last_updated = _sqlite_changes(conn, last_history, last_updated)
                self._emit(changes)
        finally:
            conn.close()


def _dedupe(changes: list[Change]) -> list[Change]:
    """One entry per ticket (its newest version); "everything" swallows the rest.

    Two changes of one ticket in a batch become one from the older's column
    to the newer's, so the counts still follow it (a card moved A -> B -> C
    counts as A -> C, not as B -> C).
    """
    if any(c.everything for c in changes):
        return [Change(None)]
    newest: dict[int, Change] = {}
    for change in changes:
        known = newest.get(change.ticket_id)
        if known is None:
            newest[change.ticket_id] = change
            continue
        older, newer = sorted((known, change), key=lambda c: c.version or 0)
        if older.columns_known and newer.columns_known:
            newer = msgspec.structs.replace(newer, source=older.source)
        elif older.columns_known or newer.columns_known:
            newer = msgspec.structs.replace(newer, source=None, target=None)  # a gap: the counts must be read
        newest[change.ticket_id] = newer
    return list(newest.values())


between_reads: Callable[[], None] | None = None
"""A test's hook: called between reading the changed rows and the new marks (a commit lands there)."""


def _sqlite_marks(conn: sqlite3.Connection) -> tuple[int, str]:
    try:
        history = conn.execute("SELECT COALESCE(MAX(id), 0) FROM history").fetchone()[0]
        updated = conn.execute("SELECT COALESCE(MAX(updated), '') FROM ticket").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet: everything that comes is new
        return 0, ""
    return history, updated


def _sqlite_changes(conn: sqlite3.Connection, last_history: int, last_updated: str
                    ) -> tuple[list[Change], int, str]:
    """Tickets with history past `last_history` or updated after `last_updated`, and the new marks.

    Both marks are needed: every service write appends history, but a clock
    injected by tests (or a bulk import) can write `updated` values in the past.
    """
    try:
        # One read transaction, so one snapshot: the rows and the new marks. Read in two autocommit
        # statements, a commit landing between them moved the marks past a change never sent.
        conn.execute("BEGIN")
        try:
            # A UNION, not an OR, and no ORDER BY (sorted here): each half is then an index range
            # (ticket.updated, history's rowid) instead of a scan of every ticket.
            rows = sorted(conn.execute(
                "SELECT id, version FROM ticket WHERE updated > ? "
                "UNION SELECT id, version FROM ticket WHERE id IN (SELECT ticket_id FROM history WHERE id > ?)",
                (last_updated, last_history)).fetchall())
            if between_reads is not None:
                between_reads()
            history, updated = _sqlite_marks(conn)
        finally:
            conn.execute("COMMIT")
    except sqlite3.OperationalError:
        return [], last_history, last_updated
    changes = [Change(tid, version) for tid, version in rows]
    if len(changes) > 500:  # a bulk import: cheaper to reload than to list
        changes = [Change(None)]
    return changes, history, max(updated, last_updated)


__all__ = ["CHANNEL", "Change", "ChangeListener", "announce", "channel_name"]
