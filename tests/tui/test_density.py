"""`D` switches the cards between two lines (comfortable) and one (compact), kept between sessions (issue 19).

Compact: the key, the title as far as it fits and the countdown on one line, so twice the cards
are in view; the cursor, the page keys, the "1–N of M" footer and the moves follow the lines a card takes.
"""

from __future__ import annotations

import json

from tests.tui.screen import lines, settle

SIZE = (160, 45)
"""45 lines: 40 rows a column, 20 cards comfortable and 40 compact."""


def saved(ui_state) -> dict:
    return json.loads(ui_state.read_text())["boards"]["SET"]


async def test_density_shows_one_line_cards_and_survives_a_restart(make_app, seed, ui_state):
    cards = [seed(f"Cert {n} missing") for n in range(50)]
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = pilot.app.board
        todo = board.column("todo")
        first, second = todo.card_at(0), todo.card_at(1)
        shown = lines(pilot.app, "todo")
        assert shown[0].startswith(first.key) and shown[1].strip() == first.title  # two lines a card
        assert str(todo.border_subtitle) == "1–20 of 50"
        await pilot.press("D")
        await settle(pilot)
        shown = lines(pilot.app, "todo")
        assert shown[0].startswith(f"{first.key} {first.title}")
        assert shown[1].startswith(f"{second.key} {second.title}")  # one line a card
        assert len(shown) == 40 and str(todo.border_subtitle) == "1–40 of 50"
        assert "density: compact" in board.query_one("#status").text
        assert saved(ui_state)["density"] == "compact"
        await pilot.press("pagedown")  # a page is the 40 cards in view now
        await settle(pilot)
        assert todo.cursor == 40 and board.current_card.key == todo.card_at(40).key
        assert str(todo.border_subtitle) == "2–41 of 50"  # scrolled by one card: the cursor on the last row
        assert lines(pilot.app, "todo")[39].startswith(todo.card_at(40).key)  # the cursor's row, in view
    assert len(cards) == 50
    async with make_app().run_test(size=SIZE) as pilot:  # a new session, the same preferences file
        await settle(pilot)
        board = pilot.app.board
        todo = board.column("todo")
        assert todo.card_height == 1 and len(lines(pilot.app, "todo")) == 40
        assert lines(pilot.app, "todo")[1].startswith(todo.card_at(1).key)
        await pilot.press("D")
        await settle(pilot)
        assert "density: comfortable" in board.query_one("#status").text
        shown = lines(pilot.app, "todo")
        assert shown[1].strip() == todo.card_at(0).title and str(todo.border_subtitle) == "1–20 of 50"
    assert saved(ui_state)["density"] == "comfortable"


async def test_a_move_in_compact_mode_moves_the_card_under_the_cursor(make_app, seed, service):
    for n in range(45):
        seed(f"Quiz {n} loses the answers of slow learners")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = pilot.app.board
        todo = board.column("todo")
        await pilot.press("D", "end", "up", "up")  # card 42: a second page, and the view scrolled to it
        await settle(pilot)
        card = board.current_card
        assert todo.cursor == 42 and card.key == todo.card_at(42).key
        row = 42 - round(todo.scroll_offset.y)
        assert lines(pilot.app, "todo")[row].startswith(card.key)  # the line shown under the cursor
        assert card.key in board.query_one("#status").text
        above, below = todo.card_at(41).key, todo.card_at(43).key
        await pilot.press("L")
        await settle(pilot)
        assert service.get(card.key).state == "ready"
        assert service.get(above).state == "todo" and service.get(below).state == "todo"
        assert board.focused_column.state == "ready" and board.current_card.key == card.key
        ready_row = board.column("ready").cursor - round(board.column("ready").scroll_offset.y)
        assert lines(pilot.app, "ready")[ready_row].startswith(card.key)
        assert todo.count == 44 and todo.card_at(42).key == below  # the next card moved up into its place
        assert lines(pilot.app, "todo")[42 - round(todo.scroll_offset.y)].startswith(below)


async def test_an_unreadable_preferences_file_is_ignored_and_replaced(make_app, seed, ui_state):
    seed("anything")
    for broken in ("not json", '{"boards": []}', '{"boards": {"SET": 3}}', '{"boards": {"SET": {"density": 7}}}'):
        ui_state.write_text(broken)
        async with make_app().run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert pilot.app.board.column("todo").card_height == 2  # comfortable
            await pilot.press("D", "z")
            await settle(pilot)
        assert saved(ui_state) == {"density": "compact", "collapsed": ["closed", "todo"]}, broken


async def test_the_density_key_is_in_help_with_its_id(make_app, seed):
    from textual.widgets import DataTable

    seed("anything")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        table = pilot.app.screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert ["D", "Density", "board.density"] in rows
