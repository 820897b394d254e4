"""The colours the board's cards are painted in, styled once for every column.

Each colour is a Textual component class, so themes and `.tcss` files can
restyle it. They live on this one hidden widget rather than on each column:
Textual styles every component class of every instance, and six columns of
sixteen classes each were a fifth of the board's start-up (and again on every
theme change). The columns ask this widget for a class's Rich style or colour.
"""

from __future__ import annotations

from rich.style import Style
from textual.color import Color
from textual.widget import Widget


class CardStyles(Widget):
    """Hidden; holds the `column--*` component classes the columns paint with."""

    DEFAULT_CSS = """
    CardStyles {
        display: none;
        & > .column--cursor { background: $surface-lighten-2; }
        & > .column--cursor-active { background: $primary; color: $text; text-style: bold; }
        & > .column--border-active { color: $accent; }
        & > .column--key { text-style: bold; }
        & > .column--status { color: $text-muted; }
        & > .column--assignee { color: $secondary; }
        & > .column--p1 { color: $error; text-style: bold; }
        & > .column--p2 { color: $warning; }
        & > .column--untriaged { color: $text-muted; }
        & > .column--stale { color: $warning; text-style: bold; }
        & > .column--ack { color: $error; text-style: bold; }
        & > .column--sla-ok { color: $text-muted; }
        & > .column--sla-warning { color: $warning; text-style: bold; }
        & > .column--sla-breached { color: $error; text-style: bold reverse; }
        & > .column--sla-paused { color: $text-muted; text-style: italic; }
        & > .column--strip-title { color: $text-muted; }
    }
    """

    COMPONENT_CLASSES = {"column--cursor", "column--cursor-active", "column--border-active",
                         "column--key", "column--status", "column--assignee",
                         "column--p1", "column--p2", "column--untriaged", "column--stale",
                         "column--ack",
                         "column--sla-ok", "column--sla-warning", "column--sla-breached", "column--sla-paused",
                         "column--strip-title"}

    def style(self, name: str) -> Style:
        """A class's Rich style, over the board's background (a column has none of its own)."""
        return self.get_component_rich_style(name)

    def color(self, name: str) -> Color:
        """A class's foreground colour (the column borders)."""
        return self.get_component_styles(name).color


__all__ = ["CardStyles"]
