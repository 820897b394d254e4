"""The command palette (ctrl+p) as a user reads it: no move the WIP limit will refuse offered as if it would work,
and no glyph a common terminal font lacks (issue 19.12)."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette, SearchIcon

from tests.tui.screen import settle
from tests.tui.test_board import SIZE, state_of


def palette_names(app) -> list[str]:
    return [c.name for c in app.board.palette_commands()]


async def test_a_move_into_a_full_column_is_marked_at_limit_filtered_or_not(make_app, seed):
    for n in range(5):
        seed(f"login {n}", state="in_progress")
    ready = seed("checkout fails", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("l")  # to Ready
        await settle(pilot)
        assert app.board.current_card.key == ready.key
        names = palette_names(app)
        assert f"Move {ready.key} to In Progress (at limit)" in names
        assert f"Move {ready.key} to In Progress" not in names
        assert f"Move {ready.key} to To Do" in names  # To Do has no limit
        help_of = {c.name: c.help for c in app.board.palette_commands()}
        assert help_of[f"Move {ready.key} to In Progress (at limit)"] == \
            "In Progress is at its WIP limit (5/5): the move is refused"

        # Under a filter that hides the In Progress cards the limit still counts them all, as the refusal does.
        await pilot.press("slash", *"checkout", "enter")
        await settle(pilot)
        assert f"Move {ready.key} to In Progress (at limit)" in palette_names(app)

        # Chosen anyway, it is refused with the board's own words and moves nothing.
        await pilot.press("ctrl+p", *"in progress")
        await pilot.pause(0.3)
        shown = str(app.screen.query_one(CommandList).get_option_at_index(0).prompt)
        assert "(at limit)" in shown
        await pilot.press("enter")
        await settle(pilot)
        assert state_of(ready) == "ready"


async def test_a_move_with_room_is_not_marked(make_app, seed):
    seed("login", state="in_progress")
    ready = seed("checkout fails", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert f"Move {ready.key} to In Progress" in palette_names(pilot.app)


async def test_the_palette_shows_no_emoji_a_terminal_font_may_lack(make_app, seed):
    seed("Palette")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = pilot.app.screen
        assert isinstance(palette, CommandPalette)
        icon = palette.query_one(SearchIcon)
        painted = "".join(strip.text for strip in icon.render_lines(icon.region.reset_offset))
        assert painted.strip() and painted.isascii(), repr(painted)
