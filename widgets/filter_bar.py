"""The board's `/` line: the query as it is typed, and the one-line reason a query cannot run.

It never filters anything itself: it posts `Changed` once typing pauses
(`DEBOUNCE`), `Submitted` on enter and `Cancelled` on escape, and the board
checks the query, applies it and says what is wrong through `show_error`.
Hidden (`display: none`) until `open`, so it costs the board's first paint
nothing but a widget.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from widgets.safe_text import shown

DEBOUNCE = 0.12
"""Seconds of no typing before the board is asked to filter: a query per pause, not per key."""

PLACEHOLDER = 'words, "a phrase", assignee:bob priority:P1 state:on_hold -kind:feature is:stale created:>2026-11-01'


class FilterBar(Vertical):
    """An input for the filter language, with its error line under it."""

    BINDINGS = [Binding("escape", "cancel", "Clear the filter", id="filter.cancel")]

    class _Typed(Message):
        def __init__(self, bar: FilterBar, text: str) -> None:
            super().__init__()
            self.bar = bar
            self.text = text

        @property
        def control(self) -> FilterBar:
            return self.bar

    class Changed(_Typed):
        """Typing paused on `text` (not yet submitted)."""

    class Submitted(_Typed):
        """Enter: apply `text` and close, if it is a good query."""

    class Cancelled(Message):
        """Escape: clear the filter and close."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._timer: Timer | None = None
        self._first_text = text

    def on_mount(self) -> None:
        self.open(self._first_text)  # mounted by the first `/`: open at once

    def compose(self) -> ComposeResult:
        yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=True)
        yield Static("", id="filter-error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def error(self) -> str:
        """The error line as shown ("" when the query is good)."""
        return str(self.query_one("#filter-error", Static).render()) if self.has_class("-error") else ""

    def open(self, text: str) -> None:
        """Show the bar with `text` (the filter in force), all of it selected: typing replaces it."""
        self.add_class("-open")
        field = self.input
        with field.prevent(Input.Changed):
            field.value = text
        field.focus()
        field.select_all()

    def close(self) -> None:
        self._stop_timer()
        self.remove_class("-open")
        self.show_error("")
        if self.input.has_focus:
            self.screen.set_focus(None)

    def show_error(self, message: str) -> None:
        """One line under the input (literal text: the query is the user's); "" hides it."""
        self.query_one("#filter-error", Static).update(Content(shown(message)) if message else "")
        self.set_class(bool(message), "-error")

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    @on(Input.Changed, "#filter-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._stop_timer()
        value = event.value
        self._timer = self.set_timer(DEBOUNCE, lambda: self.post_message(self.Changed(self, value)))

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._stop_timer()
        self.post_message(self.Submitted(self, event.value))

    def action_cancel(self) -> None:
        self._stop_timer()
        self.post_message(self.Cancelled())


__all__ = ["DEBOUNCE", "FilterBar"]
