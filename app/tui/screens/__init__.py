"""The board's screens and dialogs.

Names are re-exported lazily (PEP 562): importing the board screen at
start-up does not pay for the detail view's DataTable before anyone opens it.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "BoardScreen": "board", "MoveOutcome": "board",
    "CardDetailScreen": "detail", "HistoryLine": "detail", "TicketDetail": "detail", "load_detail": "detail",
    "NotificationLine": "detail",
    "HelpScreen": "help", "KeyHelp": "help",
    "FilterScreen": "pickers", "HoldReasonPicker": "pickers", "MovePicker": "pickers",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"app.tui.screens.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'app.tui.screens' has no attribute {name!r}")
