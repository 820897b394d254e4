"""Live boards: another session's change reaches the open board within a second, on SQLite and PostgreSQL.

The other session is a `Service` writing straight to the same database from
the test, as a second terminal would; the board hears it through its
`ChangeListener`, like every board in team mode. The database is the run's
backend (the shared `db_url`): these run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time

import pytest

from tests.tui.screen import workers_done
from widgets import Column

SIZE = (160, 45)


async def within(pilot, condition, seconds: float) -> float:
    """Wait, without pressing anything, until `condition()` holds; fail past `seconds`. Returns the time taken."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not on the board within {seconds}s")
        await pilot.pause(0.02)
    return time.monotonic() - started


def keys(app, state: str) -> list[str]:
    column = app.board.column(state)
    return [column.card_at(i).key for i in range(column.count)]


async def listening(pilot) -> None:
    await within(pilot, lambda: pilot.app.listener is not None and pilot.app.listener.running, 5)


async def test_another_sessions_move_appears_within_a_second_and_the_cursor_stays(make_app, seed, service,
                                                                                  monkeypatch):
    a, b, c = seed("alpha"), seed("beta"), seed("gamma")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        await listening(pilot)
        await pilot.press("j")
        assert board.current_card.key == b.key and board.focused_column.cursor == 1
        invalidated: list[str] = []
        original = Column.invalidate
        monkeypatch.setattr(Column, "invalidate", lambda self, *pages: (invalidated.append(self.state), original(self, *pages)))

        service.move(a.key, "ready", by="bob")  # alpha, above the cursor, leaves To Do
        await within(pilot, lambda: keys(pilot.app, "ready") == [a.key], 1.0)

        assert keys(pilot.app, "todo") == [b.key, c.key]
        assert str(board.column("todo").border_title) == "To Do 2"
        assert str(board.column("ready").border_title) == "Ready 1"
        assert board.current_card.key == b.key and board.focused_column.cursor == 0  # still on beta
        assert set(invalidated) == {"todo", "ready"}  # only the touched columns


@pytest.mark.parametrize("late", [0.0, 0.5], ids=["echo-after-the-move", "echo-before-the-move-is-recorded"])
async def test_own_moves_are_not_refreshed_twice(make_app, seed, monkeypatch, late):
    """The listener echoes our own write; under load the echo can even arrive between the commit
    and the board recording the move's version (`late`: the write's thread loses the interpreter)."""
    ticket = seed("mine")
    async with make_app().run_test(size=SIZE) as pilot:
        await listening(pilot)
        heard: list = []
        board = pilot.app.board
        original = board.live._live_worker
        monkeypatch.setattr(board.live, "_live_worker", lambda *args: (heard.append(args), original(*args)))
        record = board.moves._post_moved

        def recorded(*args, **kwargs):
            time.sleep(late)
            return record(*args, **kwargs)

        monkeypatch.setattr(board.moves, "_post_moved", recorded)
        await pilot.press("L")
        await within(pilot, lambda: keys(pilot.app, "ready") == [ticket.key], 2.0)
        await pilot.pause(0.6)  # the echo has come and gone
        assert heard == []


async def test_a_simultaneous_move_tells_the_second_board_and_shows_the_fresh_card(make_app, seed, service):
    ticket = seed("Contended", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        await listening(pilot)
        await pilot.press("l")
        assert board.current_card.key == ticket.key
        await within(pilot, lambda: board.current_card.sla_label != "", 1.0)  # nothing left to re-read the column
        await workers_done(pilot.app)
        pilot.app.listener.stop()  # "at once": bob's move lands before this board could hear of it
        service.move(ticket.key, "in_progress", by="bob")  # bob, a moment earlier
        await pilot.press("H")  # alice still sees it in Ready and sends it back to To Do
        await within(pilot, lambda: any("Changed elsewhere" in n.title for n in pilot.app._notifications), 1.0)
        message = next(n.message for n in pilot.app._notifications if n.title == "Changed elsewhere")
        assert message.startswith(f"{ticket.key} was moved to In Progress by bob a moment ago")
        await within(pilot, lambda: board.focused_column.state == "in_progress"
                     and board.current_card is not None and board.current_card.key == ticket.key, 1.0)
        assert board.current_card.version == 2 and board.current_card.state == "in_progress"
        assert keys(pilot.app, "ready") == [] and keys(pilot.app, "todo") == []


def highlighted(app) -> str:
    """The key on the highlighted card's first line, as the active column paints it."""
    column = app.board.focused_column
    y = column.cursor * 2 - round(column.scroll_offset.y)
    return column.render_line(y).text.split()[0]


def status(app) -> str:
    return app.board.query_one("#status").text


async def test_a_card_moved_away_by_another_process_leaves_the_status_line_and_the_highlight_on_one_card(
        make_app, seed, run_cli):
    """Issue 19.2: another process moves the card under the cursor out of its column. The status line
    must describe the card the highlight is on, say what happened, and `L` must move that card."""
    import asyncio

    top, below = seed("top card", state="ready"), seed("next card", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        await listening(pilot)
        await pilot.press("l")
        assert board.focused_column.state == "ready"
        first = board.current_card.key
        second = below.key if first == top.key else top.key
        assert highlighted(pilot.app) == first and status(pilot.app).startswith(first)

        done = await asyncio.to_thread(run_cli, "move", first, "todo")  # a second terminal
        assert done.returncode == 0, done.stderr
        await within(pilot, lambda: keys(pilot.app, "ready") == [second], 3.0)
        await pilot.pause()

        assert highlighted(pilot.app) == second
        assert status(pilot.app).startswith(second), status(pilot.app)
        assert any(f"{first} moved to To Do by alice" in text for text in
                   [n.message for n in pilot.app._notifications]), [n.message for n in pilot.app._notifications]

        await pilot.press("L")
        await within(pilot, lambda: keys(pilot.app, "in_progress") == [second], 3.0)
        assert keys(pilot.app, "todo") == [first]  # the card the user was shown, never the other
        assert highlighted(pilot.app) == second and status(pilot.app).startswith(second)


async def test_a_move_key_in_the_refresh_window_never_moves_a_card_the_status_line_did_not_name(make_app, seed):
    """Issue 19.2: the column's data already holds the next card while the status line still names the
    one that left (a refresh in flight): the key is refused and both now describe the new card."""
    gone, stays = seed("gone", state="ready"), seed("stays", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        await pilot.press("l")
        await workers_done(pilot.app)
        column = board.focused_column
        shown = column.current_card
        other = column.card_at(1)
        board._shown = (column, other)  # what the status line described a moment ago
        await pilot.press("L")
        await workers_done(pilot.app)
        await pilot.pause()
        assert keys(pilot.app, "in_progress") == []  # nothing moved
        assert any(n.title == "Not moved" for n in pilot.app._notifications)
        assert status(pilot.app).startswith(shown.key) and highlighted(pilot.app) == shown.key
        await pilot.press("L")  # pressed again, on the card now shown
        await within(pilot, lambda: keys(pilot.app, "in_progress") == [shown.key], 3.0)
        assert {gone.key, stays.key} == {shown.key, other.key}
