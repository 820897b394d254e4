"""Every write reads its ticket through the one guarded fetch: locked on PostgreSQL, checked against the version.

Another session holds an uncommitted change to the card when a script (no
expected version) writes to it. The write must wait for that session and
then apply to the committed card. With a plain read it read the old version,
and its guarded UPDATE then found the row changed: a Conflict for a caller
who saw nothing stale (triage, route, assign, rank, acknowledge, suggest).
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

WRITES = {
    "triage": lambda s, key: s.triage(key, by="alice", urgency="soon"),
    "route": lambda s, key: s.route(key, by="alice", service="Ecommerce"),
    "assign": lambda s, key: s.assign(key, "bob", by="alice"),
    "rank": lambda s, key: s.rank(key, "down", by="alice", mode="manual"),
    "acknowledge": lambda s, key: s.acknowledge(key, by="alice"),
    "suggest": lambda s, key: s.suggest_assignee(key, by="alice"),
}


def other_session(db_url: str):
    """A second connection, in a transaction of its own (autocommit off)."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn, "?"
    import psycopg2
    from playhouse.db_url import parse

    return psycopg2.connect(**parse(db_url)), "%s"


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_waits_for_another_sessions_change_and_applies_to_it(db, db_url, service, make_tickets, write):
    make_tickets(3)
    conn, slot = other_session(db_url)
    cur = conn.cursor()
    cur.execute(f"UPDATE ticket SET version = version + 1, needs_ack = {slot} WHERE key = {slot}", (True, "SET-1"))
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = WRITES[write](service, "SET-1")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)  # the write is under way, waiting for (or racing) the other session
    conn.commit()
    conn.close()
    thread.join(10)
    assert "error" not in outcome, f"{write}: {outcome.get('error')!r}"
    ticket = outcome["result"].ticket if hasattr(outcome["result"], "ticket") else outcome["result"]
    assert ticket.version >= 2, f"{write} judged the card as it was before the other session's commit"
