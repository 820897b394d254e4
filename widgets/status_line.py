"""A one-line status bar whose updates repaint one line, never the layout.

`Static.update` asks for a layout pass (its content may change its size),
which repaints the whole screen; the board updates this line on every cursor
move, so it has a fixed height and repaints only itself. It paints its line
as one segment (the Line API): Textual's `Content` would wrap a line that is
only ever cut, and that was a tenth of a move's repaint.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from widgets.safe_text import shown


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    text: reactive[str] = reactive("", layout=False)
    """Plain text: shown literally, never as markup."""

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        text = shown(self.text) if y == 0 else ""
        if cell_len(text) > width:  # cut, and say so: the rest is in the card's detail (enter)
            text = set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)


__all__ = ["StatusLine"]
