"""Widgets render and post messages; they never import `data/` or call the service."""

from widgets.card import Card, CardSource
from widgets.column import Column

__all__ = ["Card", "CardSource", "Column"]
