"""A narrow terminal (<= 100 columns) shows the cursor's column wide and the others as strips (issue 19).

At 80 columns six equal columns gave a card 11 cells: a cut key and three letters of title. The
wide column follows the cursor; the user's own `z` choices are neither changed nor saved by it,
and come back when the terminal is wide again.
"""

from __future__ import annotations

import json

import pytest

from tests.tui.screen import lines, settle

TITLE = "Learners cannot download their course certificate"


def strips(board) -> set[str]:
    """The columns shown as strips (narrow, with only their count)."""
    return {column.state for column in board.columns if column.collapsed and column.outer_size.width <= 9}


def screen_rows(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def wide(board) -> set[str]:
    return {column.state for column in board.columns if not column.collapsed and column.outer_size.width > 30}


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_cursors_column_is_wide_with_a_readable_card_and_follows_the_cursor(make_app, seed, size):
    first = seed(TITLE)
    ready = seed("Grades are not saved after the quiz times out", state="ready")
    progress = seed("Payment webhook retried forever after a refund", state="in_progress")
    async with make_app().run_test(size=size) as pilot:
        await settle(pilot)
        board = pilot.app.board
        everything = {column.state for column in board.columns}
        assert wide(board) == {"todo"} and strips(board) == everything - {"todo"}
        assert board.column("ready").border_title == "1"  # a strip says its count, as `z` shows it
        top = screen_rows(pilot.app)[1]
        assert "╭─ 1 ───╮" in top and "╭─ 1/5 ─╮" in top  # and its WIP limit, whole
        shown = lines(pilot.app, "todo")
        assert shown[0].startswith(first.key)  # the key whole
        assert shown[1].strip().startswith(TITLE[:25])  # and at least 25 cells of the title
        for key, state, card in (("l", "ready", ready), ("right", "in_progress", progress)):
            await pilot.press(key)
            await settle(pilot)
            assert wide(board) == {state} and strips(board) == everything - {state}
            assert board.current_card.key == card.key
            shown = lines(pilot.app, state)
            assert shown[0].startswith(card.key) and shown[1].strip().startswith(card.title[:25])
        await pilot.press("left", "h")
        await settle(pilot)
        assert wide(board) == {"todo"} and board.current_card.key == first.key


async def test_above_100_columns_nothing_is_narrowed(make_app, seed):
    seed(TITLE)
    async with make_app().run_test(size=(101, 30)) as pilot:
        await settle(pilot)
        board = pilot.app.board
        assert [c.state for c in board.columns if c.collapsed] == ["closed"]  # config.yaml's default only
        await pilot.press("l")
        await settle(pilot)
        assert [c.state for c in board.columns if c.collapsed] == ["closed"]


async def test_resizing_across_the_threshold_keeps_the_cursor_card_and_the_users_choices(make_app, seed, ui_state):
    seed(TITLE)
    card = seed("Grades are not saved after the quiz times out", state="ready")
    async with make_app().run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        board = pilot.app.board
        await pilot.press("l", "z")  # the user collapses Ready (Closed is collapsed by the config)
        await settle(pilot)
        chosen = json.loads(ui_state.read_text())["boards"]["SET"]["collapsed"]
        assert chosen == ["closed", "ready"]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert wide(board) == {"ready"} and board.current_card.key == card.key  # the cursor's, collapsed or not
        assert lines(pilot.app, "ready")[0].startswith(card.key)
        await pilot.press("h", "l", "l")
        await settle(pilot)
        assert wide(board) == {"in_progress"}
        await pilot.press("h")
        await settle(pilot)
        assert json.loads(ui_state.read_text())["boards"]["SET"]["collapsed"] == chosen  # nothing saved meanwhile
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert {c.state for c in board.columns if c.collapsed} == {"closed", "ready"}
        assert board.column("todo").outer_size.width > 20 and board.column("ready").outer_size.width <= 9
        assert board.current_card.key == card.key
        await pilot.resize_terminal(80, 24)  # and back again
        await settle(pilot)
        assert wide(board) == {"ready"} and board.current_card.key == card.key


async def test_z_in_a_narrow_terminal_records_the_choice_for_a_wide_one(make_app, seed, ui_state):
    seed(TITLE)
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        board = pilot.app.board
        await pilot.press("z")
        await settle(pilot)
        assert wide(board) == {"todo"}  # still the cursor's column
        status = str(board.query_one("#status").text)
        assert "To Do will be a strip above 100 columns" in status
        assert json.loads(ui_state.read_text())["boards"]["SET"]["collapsed"] == ["closed", "todo"]
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert board.column("todo").collapsed and not board.column("ready").collapsed


async def test_the_triage_panel_in_a_narrow_terminal_leaves_the_cursors_column_room(make_app, seed):
    seed(TITLE, triaged=False)
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        board = pilot.app.board
        await pilot.press("t")
        await settle(pilot)
        todo = board.column("todo")
        assert todo.outer_size.width >= 20  # thinner strips, not a column squeezed to nothing
        assert all(c.outer_size.width <= 3 for c in board.columns if c is not todo)
        await pilot.press("escape")
        await settle(pilot)
        assert all(c.outer_size.width == 9 for c in board.columns if c is not todo)


async def test_a_click_on_a_strip_makes_it_the_wide_column_with_its_cursor_where_it_was(make_app, seed):
    seed(TITLE)
    cards = [seed(f"Ready card {n}", state="ready") for n in range(4)]
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        board = pilot.app.board
        await pilot.click("#column-ready", offset=(3, 6))  # the row of card 2, were the column wide
        await settle(pilot)
        assert wide(board) == {"ready"} and board.current_card.key == board.column("ready").card_at(0).key
        assert board.current_card.key in {card.key for card in cards}


async def test_a_strip_names_its_column_down_its_body(make_app, seed):
    """Strips said only their count: at 80 columns five bare numbers, and nothing said which was Ready."""
    seed(TITLE)
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = screen_rows(pilot.app)
        board = pilot.app.board
        progress = board.column("in_progress").region
        body = [row[progress.x:progress.right] for row in rows[progress.y + 1:progress.y + 3]]
        assert body[0].strip("│ ") == "In" and body[1].strip("│ ") == "Progress"[:6] + "…"
        ready = board.column("ready").region
        assert rows[ready.y + 1][ready.x:ready.right].strip("│ ") == "Ready"
