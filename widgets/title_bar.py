"""The screen's top line: its title and sub-title, centred; the outbox count docks on its right.

One widget where Textual's `Header` composes three (an icon, the title and a
clock's space): each widget is mounted, styled, laid out and painted before
the board's first frame, and those three cost the board 10 ms of its start
(bench/bench_startup.py). The command palette's icon is not missed: ctrl+p
opens it, and the footer says so.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from widgets.safe_text import shown


class TitleBar(Widget):
    """`title — sub_title` of the screen it is on, repainted when either changes; text, never markup."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        for name in ("title", "sub_title"):
            self.watch(self.screen, name, lambda _value: self.refresh(), init=False)

    def render(self) -> Content:
        screen = self.screen
        title = screen.title if screen.title is not None else self.app.title
        sub_title = screen.sub_title if screen.sub_title is not None else self.app.sub_title
        return self.app.format_title(shown(title), shown(sub_title))  # a filter's text, a board's name


__all__ = ["TitleBar"]
