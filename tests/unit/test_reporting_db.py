"""`data.reporting.fetch_period` on SQLite and PostgreSQL: the right tickets, the rest counted."""

from __future__ import annotations

import datetime as dt

import pytest

from app.reports.cycles import Period, ReportSettings
from app.reports.metrics import Move, TicketFacts, compute_report
from app.board.workflow import Column, Workflow
from data import History, Ticket, open_database
from data.reporting import fetch_period

WORKFLOW = Workflow(
    columns=(Column("todo", "To Do", "Open"), Column("ready", "Ready", "Open"),
             Column("in_progress", "In Progress", "In Progress"),
             Column("resolved", "Resolved", "Development Complete"), Column("closed", "Closed", "Released")),
    transitions={},
)
PERIOD = Period(dt.date(2026, 11, 2), dt.date(2026, 11, 16), "UTC")
START, END = PERIOD.start_utc, PERIOD.end_utc


def at(month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour)


# key: (created, [(at, to_state)], kind, assignee)
HISTORY = {
    # Moved in the period: closed 6 Nov.
    "SET-1": (at(10, 30, 9), [(at(11, 2, 10), "ready"), (at(11, 3, 9), "in_progress"),
                              (at(11, 5, 9), "resolved"), (at(11, 6, 9), "closed")], "bug", "alice"),
    # Open and untouched since 2 Oct.
    "SET-2": (at(10, 1), [(at(10, 2), "ready")], "escalation", "bob"),
    # Closed 5 Oct and untouched: only counted.
    "SET-3": (at(10, 1), [(at(10, 5), "closed")], "bug", None),
    # In Ready at the start, not moved in the period, moved on 20 Nov: fetched, without that move.
    "SET-4": (at(10, 9), [(at(10, 10), "ready"), (at(11, 20), "in_progress")], "feature", None),
    # Closed at the start, reopened only after the period: counted.
    "SET-5": (at(10, 1), [(at(10, 6), "closed"), (at(11, 20), "in_progress")], "bug", "carol"),
    # Created after the period: neither.
    "SET-6": (at(11, 18), [], "question", None),
    # Created in the period, still in To Do.
    "SET-7": (at(11, 14), [], "question", "alice"),
    # Created before, moved only in the period's first minute: fetched.
    "SET-8": (at(10, 28), [(at(11, 2), "ready")], "bug", None),
    # In progress through the period, closed at exactly its end (a move after it, not in it).
    "SET-9": (at(10, 28), [(at(10, 29), "in_progress"), (at(11, 16), "closed")], "bug", None),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request):
    """An empty database: an SQLite file, or a fresh schema on the test PostgreSQL, whatever the run's backend.

    `sqlite_url` and `pg_url` come from tests/conftest.py: `pg_url` honours TRIAGEBOARD_TEST_PG_URL, skips
    when no server answers, and fails instead on a `--db-backend postgres` run.
    """
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])


@pytest.fixture
def db(url):
    database = open_database(url)
    with database.atomic():
        for number, (key, (created, moves, kind, assignee)) in enumerate(HISTORY.items(), start=1):
            state, entered = "todo", created
            ticket = Ticket.create(key=key, number=number, title=key, kind=kind, assignee=assignee,
                                   state="todo", rank=float(number), sort_key=0, state_entered=created,
                                   created=created, updated=created)
            History.create(ticket=ticket, at=created, kind="create", to_state="todo")
            History.create(ticket=ticket, at=created, kind="triage", detail="{}")  # not a move
            for when, target in moves:
                History.create(ticket=ticket, at=when, kind="move", from_state=state, to_state=target)
                History.create(ticket=ticket, at=when, kind="comment", reason="moved")
                state, entered = target, when
            Ticket.update(state=state, state_entered=entered).where(Ticket.id == ticket.id).execute()
    yield database
    database.close()


def all_facts() -> list[TicketFacts]:
    return [TicketFacts(key=key, created=created, moves=tuple(Move(when, state) for when, state in moves),
                        kind=kind, assignee=assignee)
            for key, (created, moves, kind, assignee) in HISTORY.items()]


def test_fetches_tickets_open_in_the_period_and_counts_the_rest(db):
    facts = fetch_period(START, END, WORKFLOW.keys, WORKFLOW.final)
    # Fetched: 1 (moved in it), 2 (open, untouched), 4 (open at the start, moved after), 7 (created in it),
    # 8 (moved at its first instant), 9 (open until a move at exactly its end).
    assert sorted(t.key for t in facts.tickets) == ["SET-1", "SET-2", "SET-4", "SET-7", "SET-8", "SET-9"]
    # Counted: 3 (closed 5 Oct, untouched) and 5 (closed at the start, reopened after the end).
    assert facts.closed_elsewhere == 2


def test_rows_carry_what_the_metrics_read(db):
    by_key = {t.key: t for t in fetch_period(START, END, WORKFLOW.keys, WORKFLOW.final).tickets}
    one = by_key["SET-1"]
    assert one.created == at(10, 30, 9) and one.created_state == "todo"
    assert [(m.at, m.from_state, m.to_state) for m in one.moves] == [
        (at(11, 2, 10), "todo", "ready"), (at(11, 3, 9), "ready", "in_progress"),
        (at(11, 5, 9), "in_progress", "resolved"), (at(11, 6, 9), "resolved", "closed")]
    assert (one.kind, one.work_type, one.assignee) == ("bug", None, "alice")
    # Moves at or after the end are left out.
    assert [m.to_state for m in by_key["SET-4"].moves] == ["ready"]
    assert [m.to_state for m in by_key["SET-9"].moves] == ["in_progress"]


def test_the_report_from_the_query_equals_the_report_over_every_ticket(db):
    facts = fetch_period(START, END, WORKFLOW.keys, WORKFLOW.final)
    settings = ReportSettings()
    fetched = compute_report(facts.tickets, PERIOD, WORKFLOW, settings, closed_elsewhere=facts.closed_elsewhere)
    everything = compute_report(all_facts(), PERIOD, WORKFLOW, settings)
    assert fetched.as_json() == everything.as_json()
    # By hand: only SET-1 closed in the period, 30 Oct 09:00 -> 6 Nov 09:00 = 168 h.
    assert fetched.throughput == 1 and fetched.lead_time.median_hours == 168
    # End of 15 Nov: closed SET-1, SET-3, SET-5 (SET-9 closes at 16 Nov 00:00, not before).
    assert dict(fetched.cfd)[dt.date(2026, 11, 15)]["closed"] == 3


def test_a_later_cycle_sees_the_reopened_ticket(db):
    # 16 Nov .. 30 Nov: SET-4 and SET-5 moved on 20 Nov, SET-6 created 18 Nov, SET-9 closed 16 Nov 00:00.
    later = Period(dt.date(2026, 11, 16), dt.date(2026, 11, 30), "UTC")
    facts = fetch_period(later.start_utc, later.end_utc, WORKFLOW.keys, WORKFLOW.final)
    # Moved or created in it: 4, 5, 6, 9 (at its first instant). Open and untouched: 2, 7, 8 (in Ready).
    assert sorted(t.key for t in facts.tickets) == ["SET-2", "SET-4", "SET-5", "SET-6", "SET-7", "SET-8", "SET-9"]
    # Closed and untouched since: 1 and 3.
    assert facts.closed_elsewhere == 2
    report = compute_report(facts.tickets, later, WORKFLOW, ReportSettings(),
                            closed_elsewhere=facts.closed_elsewhere)
    assert [t.key for t in report.closed] == ["SET-9"]


def test_an_empty_database(url):
    open_database(url)
    facts = fetch_period(START, END, WORKFLOW.keys, WORKFLOW.final)
    assert facts.tickets == () and facts.closed_elsewhere == 0
