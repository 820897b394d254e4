"""A one-line status bar whose updates repaint one line, never the layout.

`Static.update` asks for a layout pass (its content may change its size),
which repaints the whole screen; the board updates this line on every cursor
move, so it has a fixed height and repaints only itself.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    text: reactive[str] = reactive("", layout=False)
    """Plain text: shown literally, never as markup."""

    def render(self) -> Content:
        return Content(self.text)


__all__ = ["StatusLine"]
