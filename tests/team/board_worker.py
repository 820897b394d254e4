"""Another member's board, in a process of its own: opens headless, presses move keys, reports the moves.

    python tests/team/board_worker.py URL CONFIG USER KEY...

Each KEY (`L`, `H`, …) is pressed once the move before it has been applied on
this board (its undo stack grew), as a person presses keys at a board. Prints
one JSON object: {"moved": [card key, …], "errors": [traceback, …]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback


async def main(url: str, config_path: str, user: str, keys: list[str]) -> dict:
    from app.config.settings import load_config
    from app.tui.app import TriageApp

    report: dict = {"moved": [], "errors": []}
    app = TriageApp(load_config(config_path), url, user=user)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        board = app.board
        for key in keys:
            before = len(board.undo_stack)
            await pilot.press(key)
            deadline = time.monotonic() + 10
            while len(board.undo_stack) == before and time.monotonic() < deadline:
                await pilot.pause(0.02)
            if len(board.undo_stack) == before:
                report["errors"].append(f"{key}: no move within 10 s")
                break
            report["moved"].append(board.undo_stack[-1])
            await pilot.pause(0.05)  # the next key a moment later, as a person presses it
    return report


if __name__ == "__main__":
    try:
        result = asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
    except Exception:  # noqa: BLE001 - reported to the test, which fails with it
        result = {"moved": [], "errors": [traceback.format_exc()]}
    json.dump(result, sys.stdout)
