"""What the board's command palette (ctrl+p) offers: the card's moves and detail, then board-wide commands.

Apart from `BoardScreen` so the screen stays a composition of its parts; it reads
the board only through what the palette names, and imports nothing of board.py
(the board's parts never do: tests/tui/test_layers.py).
"""

from __future__ import annotations

from typing import Any

from app.tui.commands import PaletteCommand, move_command


def board_palette(board: Any) -> list[PaletteCommand]:
    """The commands for `board` (a `BoardScreen`), in the order a user scans them."""
    commands: list[PaletteCommand] = []
    card = board.current_card
    if card is not None:
        for target in board.workflow.allowed(card.state):
            into = board.column(target)  # its whole count, a filter or not, as the refusal counts
            name, help = move_command(card.key, board.workflow.column(card.state).title, into.title,
                                      into.count if into.total is None else into.total,
                                      board.workflow.column(target).wip_limit, board.workflow.wip_policy)
            commands.append(PaletteCommand(name, lambda t=target: board.moves.move_card_to(card, t), help))
        commands.append(PaletteCommand(f"Open {card.key}: detail and history",
                                       lambda: board.open_detail(card), "the card's fields and every transition"))
    commands += board.conversation.palette_commands(card)
    commands.extend(board.oncall.commands(card))
    if board.undo_stack:
        commands.append(PaletteCommand(f"Undo the last move ({board.undo_stack[-1]})", board.action_undo,
                                       "a compensating move back; history keeps both"))
    commands += board.triage.palette_commands(card)
    commands += board.view.palette_commands()
    commands.append(PaletteCommand("Filter the board", board.action_filter,
                                   'words, "a phrase", assignee:bob, state:on_hold, is:stale, -term'))
    stale_title = "Show every card again" if board.source.stale_only else "Show only stale cards"
    commands.append(PaletteCommand(stale_title, board.action_stale_filter,
                                   "cards in their column past report.stale_after"))
    commands.append(PaletteCommand("Cycle reports", board.action_reports,
                                   "cumulative flow, cycle time, ageing, throughput"))
    if board.source.text_filter:
        commands.append(PaletteCommand("Clear the filter", lambda: board.view.apply_filter(""), "show every card"))
    commands.append(PaletteCommand("Keyboard help", board.action_help, "every key and its id"))
    if board.app.logout_url:  # a tab of `triageboard serve` behind its login
        commands.append(PaletteCommand(f"Log out {board.app.user}",
                                       lambda: board.app.open_url(board.app.logout_url, new_tab=False),
                                       "end this browser session and close its boards"))
    return commands


__all__ = ["board_palette"]
