"""The board survives any terminal from 40x12 to 250x70, panels open, either density, resized between (issue 19.1)."""

from __future__ import annotations

import pytest

from tests.tui.screen import settle

SIZES = [(40, 12), (60, 20), (80, 24), (100, 30), (101, 30), (160, 45), (250, 70), (45, 13), (39, 11), (20, 5)]
"""Across the narrow threshold (100 columns) both ways, too: the strips change as the terminal does."""


PANELS = [(), ("t",), ("o",), ("t", "o"), ("enter",), ("D",), ("D", "t")]
"""Compact, the triage panel, the roster, both, the detail view, the other density, and with a panel."""


@pytest.mark.parametrize("keys", PANELS, ids=lambda keys: "+".join(keys) or "board")
async def test_every_size_with_the_panels_open_and_resizes_between(make_app, seed, keys):
    seed("Checkout fails for every learner with a rather long title", triaged=False, kind="incident")
    seed("Grades are not saved", state="ready")
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await settle(pilot)
            await pilot.press("l", "j", "h")
            await settle(pilot)
            if size[0] <= 100:  # narrow: whatever else is a strip, the cursor's column is not
                assert not pilot.app.board.focused_column.collapsed, (keys, size)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        for key in keys:
            if key in "to":
                await pilot.press(key)  # close the panel again
        await settle(pilot)


async def test_a_terminal_below_what_the_board_can_draw_says_so(make_app, seed):
    seed("Grades are not saved", state="ready")
    async with make_app().run_test(size=(30, 8)) as pilot:
        await settle(pilot)
        assert "terminal too small" in screen_text(pilot.app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "terminal too small" not in screen_text(pilot.app)


def screen_text(app) -> str:
    """The whole screen's text, as the terminal shows it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
