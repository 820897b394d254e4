"""`z` collapses a column to a strip with its count, and the choice outlives the session (issue 19)."""

from __future__ import annotations

import json

from tests.tui.screen import settle

SIZE = (160, 45)


async def test_closed_starts_collapsed_and_z_widens_it_for_next_time(make_app, seed, ui_state):
    done = seed("Old export bug", state="closed")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = pilot.app.board
        closed, todo = board.column("closed"), board.column("todo")
        assert closed.collapsed and closed.outer_size.width <= 9  # config.yaml: collapsed: true
        assert closed.border_title == "1"
        assert todo.outer_size.width > 20
        for _ in range(len(board.columns)):
            await pilot.press("l")
        await settle(pilot)
        assert board.focused_column is closed and board.current_card.key == done.key  # its cards are still there
        await pilot.press("z")
        await settle(pilot)
        assert not closed.collapsed and closed.outer_size.width > 20
        assert closed.border_title == "Closed 1"
        await pilot.press("h", "z")
        await settle(pilot)
        assert board.column("resolved").collapsed
    assert json.loads(ui_state.read_text())["boards"]["SET"]["collapsed"] == ["resolved"]
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.board.column("resolved").collapsed and not pilot.app.board.column("closed").collapsed
