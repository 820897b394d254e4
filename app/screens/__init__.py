"""The board's screens and dialogs."""

from app.screens.board import BoardScreen, MoveOutcome
from app.screens.detail import CardDetailScreen, HistoryLine, TicketDetail, load_detail
from app.screens.help import HelpScreen, KeyHelp
from app.screens.pickers import FilterScreen, HoldReasonPicker, MovePicker

__all__ = ["BoardScreen", "CardDetailScreen", "FilterScreen", "HelpScreen", "HistoryLine", "HoldReasonPicker",
           "KeyHelp", "MoveOutcome", "MovePicker", "TicketDetail", "load_detail"]
