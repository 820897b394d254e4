"""Live boards keep their column counts in step with other sessions' changes.

On PostgreSQL the notification names the column a ticket left and entered,
so an open board moves its counts by the change itself instead of counting
every ticket again (half a second of the server per board at a million
tickets, `bench/bench_team.py`): these tests check the counts a user sees
against the database, and that no grouped count ran for them. On SQLite the
board polls and counts again, as before; the same tests check its counts.
The other board is a process of its own (`board_worker.py`), pressing keys.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.tui.app import TriageApp
from data import board_queries
from data.live import Change, _dedupe

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("config.yaml")
SIZE = (160, 45)


async def within(pilot, condition, seconds: float) -> None:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not on the board within {seconds}s: {shown(pilot.app)}")
        await pilot.pause(0.02)


def shown(app) -> dict[str, list[str]]:
    """Each column's cards as the board holds them."""
    return {column.state: [card.key for card in map(column.card_at, range(column.count)) if card is not None]
            for column in app.board.columns}


def titles(app) -> dict[str, str]:
    return {column.state: str(column.border_title) for column in app.board.columns}


def other_board(db_url: str, user: str, *keys: str) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("board_worker.py")), db_url, str(CONFIG),
                           user, *keys], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TRIAGEBOARD_USER": user})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == []
    return report


@pytest.fixture
def counted(monkeypatch):
    """The grouped counts run from now on (a spy on the real query, which still runs)."""
    calls: list = []
    original = board_queries.column_counts

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(board_queries, "column_counts", spy)
    return calls


async def test_moves_on_another_board_process_show_here_with_the_counts_of_the_database(
        db_url, db_backend, team_config, service, make_tickets, counted):
    tickets = make_tickets(4)
    async with TriageApp(team_config, db_url, user="alice").run_test(size=SIZE) as pilot:
        app = pilot.app
        await within(pilot, lambda: app.listener is not None and app.listener.running, 5)
        await within(pilot, lambda: shown(app)["todo"] == [t.key for t in tickets], 2)
        counted.clear()
        # bob's board: the top card to Ready, then on to In Progress (two notifications, maybe one batch here)
        report = other_board(db_url, "bob", "L", "L")
        assert report["moved"] == [tickets[0].key] * 2
        await within(pilot, lambda: shown(app)["in_progress"] == [tickets[0].key], 3)
        assert shown(app)["todo"] == [t.key for t in tickets[1:]] and shown(app)["ready"] == []
        assert titles(app)["todo"] == "To Do 3" and titles(app)["in_progress"] == "In Progress 1"
        assert titles(app)["ready"] == "Ready 0"
        if db_backend == "postgres":
            assert counted == [], "the counts followed the notifications"
        assert {c.state: c.count for c in app.board.columns} == app.board.source.totals()


async def test_a_new_ticket_and_a_change_in_place_keep_the_counts_exact(db_url, db_backend, team_config, service,
                                                                         make_tickets, counted):
    first, second = make_tickets(2)
    async with TriageApp(team_config, db_url, user="alice").run_test(size=SIZE) as pilot:
        app = pilot.app
        await within(pilot, lambda: app.listener is not None and app.listener.running, 5)
        counted.clear()
        created = service.create(title="from mail", requester_email="r@example.org", by="bob")
        service.assign(second.key, "bob", by="bob")  # stays in To Do: the count does not move
        service.move(first.key, "ready", by="bob")
        service.move(first.key, "todo", by="bob")  # and back, within one refresh or two
        todo = app.board.column("todo")
        await within(pilot, lambda: len(shown(app)["todo"]) == 3
                     and any(c is not None and c.key == second.key and c.assignee == "bob"
                             for c in map(todo.card_at, range(todo.count))), 3)
        await pilot.pause(0.3)
        assert sorted(shown(app)["todo"]) == sorted([first.key, second.key, created.key])
        assert titles(app)["todo"] == "To Do 3" and titles(app)["ready"] == "Ready 0"
        if db_backend == "postgres":
            assert counted == []
        assert {c.state: c.count for c in app.board.columns} == app.board.source.totals()


def test_a_notification_names_the_columns_and_old_payloads_still_parse():
    assert Change.parse("12:3:todo:ready") == Change(12, 3, "todo", "ready")
    assert Change.parse("12:1::todo") == Change(12, 1, "", "todo")  # a new ticket
    assert Change.parse("12:3") == Change(12, 3)  # a board of the release before: the counts are read again
    assert not Change.parse("12:3").columns_known and Change.parse("12:1::todo").columns_known
    for change in (Change(12, 3, "todo", "ready"), Change(12, 1, "", "todo"), Change(12, 3), Change(None)):
        assert Change.parse(change.payload()) == change


def test_two_changes_of_one_ticket_in_a_batch_count_as_one_from_the_first_column():
    moved = _dedupe([Change(7, 3, "ready", "in_progress"), Change(7, 2, "todo", "ready"), Change(8, 2, "a", "a")])
    assert sorted(moved, key=lambda c: c.ticket_id) == [Change(7, 3, "todo", "in_progress"), Change(8, 2, "a", "a")]
    # one of them without its columns: the counts cannot be followed, so the board counts again
    assert _dedupe([Change(7, 2, "todo", "ready"), Change(7, 3)]) == [Change(7, 3)]


async def test_own_moves_and_another_boards_keep_the_counts_without_a_recount_on_postgres(
        db_url, db_backend, team_config, service, make_tickets, counted):
    """After a burst of its own moves a board re-reads its headers, for other writers' sake; on PostgreSQL
    the listener has already told it of those, so the columns are not counted (the untriaged figure is)."""
    tickets = make_tickets(3)
    async with TriageApp(team_config, db_url, user="alice").run_test(size=SIZE) as pilot:
        app = pilot.app
        await within(pilot, lambda: app.listener is not None and app.listener.running, 5)
        await within(pilot, lambda: len(shown(app)["todo"]) == 3, 2)
        counted.clear()
        await pilot.press("L")  # alice: SET-1 to Ready
        await within(pilot, lambda: shown(app)["ready"] == [tickets[0].key], 2)
        other_board(db_url, "bob", "L")  # bob: the top of his To Do (SET-2) to Ready
        await within(pilot, lambda: sorted(shown(app)["ready"]) == sorted([tickets[0].key, tickets[1].key]), 3)
        await pilot.pause(0.8)  # the recount after alice's move has come and gone
        assert titles(app)["todo"] == "To Do 1" and titles(app)["ready"] == "Ready 2"
        if db_backend == "postgres":
            assert counted == []
        else:
            assert counted, "SQLite's board counts again after its own moves, as before"
        assert {c.state: c.count for c in app.board.columns} == app.board.source.totals()


async def test_the_untriaged_figure_is_counted_again_after_a_move_of_an_untriaged_card_only(
        db_url, db_backend, team_config, service, make_tickets, monkeypatch):
    """A triaged card's move cannot change how many need triage; an untriaged card's move out of To Do does."""
    from app.board import source

    triaged = make_tickets(1)[0]
    untriaged = service.create(title="not yet", requester_email="r@example.org", by="bob")  # no triage answers
    counts: list[int] = []
    original = source.untriaged_count
    monkeypatch.setattr(source, "untriaged_count", lambda *args: counts.append(1) or original(*args))
    async with TriageApp(team_config, db_url, user="alice").run_test(size=SIZE) as pilot:
        app = pilot.app
        board = app.board
        await within(pilot, lambda: app.listener is not None and app.listener.running, 5)
        await within(pilot, lambda: board.view.untriaged == 1, 2)
        counts.clear()
        assert board.focused_column.current_card.key == triaged.key
        await pilot.press("L")  # the triaged card to Ready
        await within(pilot, lambda: shown(app)["ready"] == [triaged.key], 2)
        await pilot.pause(0.8)  # the recount after the move has come and gone
        assert counts == ([] if db_backend == "postgres" else [1])
        assert board.view.untriaged == 1
        await pilot.press("h")  # back in To Do, on the untriaged card
        assert board.current_card.key == untriaged.key
        board.moves.move_card_to(board.current_card, "closed")  # what `m` then Closed does
        await within(pilot, lambda: shown(app)["closed"] == [untriaged.key], 2)
        await within(pilot, lambda: board.view.untriaged == 0, 2)
        assert counts, "counted again"


async def test_the_title_bars_untriaged_figure_follows_another_sessions_tickets_and_triage(
        db_url, team_config, service, make_tickets):
    """Another session opens an untriaged ticket, then answers its triage: this board's title bar says so."""
    make_tickets(1)
    async with TriageApp(team_config, db_url, user="alice").run_test(size=SIZE) as pilot:
        app = pilot.app
        board = app.board
        await within(pilot, lambda: app.listener is not None and app.listener.running, 5)
        await within(pilot, lambda: board.view.untriaged == 0 and "0 untriaged" in header_text(app), 2)
        fresh = service.create(title="Checkout is down", requester_email="r@example.org", by="bob")
        await within(pilot, lambda: fresh.key in shown(app)["todo"], 3)
        await within(pilot, lambda: board.view.untriaged == 1 and "1 untriaged" in header_text(app), 3)
        service.triage(fresh.key, by="bob", actionable="yes", impact="high", urgency="soon", acknowledged=True)
        await within(pilot, lambda: board.view.untriaged == 0 and "0 untriaged" in header_text(app), 3)


def header_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips()[:1])
