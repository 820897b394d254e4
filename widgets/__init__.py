"""Widgets render and post messages; they never import `data/` or call the service."""

from widgets.card import Card, CardSource
from widgets.card_styles import CardStyles
from widgets.column import Column
from widgets.outbox_badge import OutboxBadge
from widgets.roster_panel import RosterLine, RosterPanel
from widgets.title_bar import TitleBar
from widgets.triage_panel import TriagePanel, TriageView

__all__ = ["Card", "CardSource", "CardStyles", "Column", "OutboxBadge", "RosterLine", "RosterPanel", "TitleBar",
           "TriagePanel", "TriageView"]
