"""The board screen composes its parts (moves, triage, on call, countdowns, live updates, view): every key,
action and message handler it lists reaches the part that owns it."""

from __future__ import annotations

from textual.actions import parse

from app.tui.screens.board import BoardScreen
from app.tui.screens.board_host import forwarded


async def test_every_forwarded_name_and_every_binding_s_action_is_callable_on_the_board(make_app):
    async with make_app().run_test(size=(160, 45)) as pilot:
        board = pilot.app.board
        names = [name for name, value in vars(BoardScreen).items() if isinstance(value, forwarded)]
        assert len(names) > 30
        missing = [name for name in names if not callable(getattr(board, name, None))]
        actions = {parse(binding.action)[1] for binding in BoardScreen.BINDINGS}
        missing += [action for action in sorted(actions) if not callable(getattr(board, f"action_{action}", None))]
        assert missing == []


async def test_a_part_s_message_reaches_its_handler_through_the_screen(make_app, seed):
    """`on_moved` on the screen is the moves part's `moved`: a move lands, and `u` (the part's undo) takes it back."""
    ticket = seed("Undo me")
    async with make_app().run_test(size=(160, 45)) as pilot:
        board = pilot.app.board
        await pilot.press("L")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert board.undo_stack == [ticket.key]
        assert board.column("ready").count == 1
        await pilot.press("u")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert board.undo_stack == [] and board.column("todo").count == 1
