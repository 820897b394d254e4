"""The board's screens and dialogs.

Names are re-exported lazily (PEP 562): importing the board screen at
start-up does not pay for the detail view's DataTable before anyone opens it.

What it saves: the detail view costs 6 ms of imports on top of the board's
(`python -X importtime`, with the board screen loaded), the reports screen
38 ms (textual-plotext; the board imports it inside the action that opens it).
What would break it: a module-level `from app.tui.screens.detail import …` in
the board or the app, or a name listed in `_WHERE` under the wrong module. A
new screen needs no entry here: import it where it is opened.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "BoardScreen": "board", "MoveOutcome": "board",
    "CardDetailScreen": "detail", "HistoryLine": "detail", "TicketDetail": "detail", "load_detail": "detail",
    "NotificationLine": "detail",
    "HelpScreen": "help", "KeyHelp": "help",
    "HoldReasonPicker": "pickers", "MovePicker": "pickers",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"app.tui.screens.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'app.tui.screens' has no attribute {name!r}")
