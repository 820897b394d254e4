"""The triage panel: the selected ticket's answers, what is missing, and the key that edits each.

Attributes down: the board screen computes the rows (`app.triage.rules.panel_rows`,
pure rules) and what blocks the move to Ready, and sets `view`; the panel
only paints them. It has a fixed width and paints with `render()`, so a new
view repaints the panel alone, never the layout (the board repaints it on
every cursor move while triage mode is on).
"""

from __future__ import annotations

import textwrap
from typing import Any, Protocol, Sequence

import msgspec
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from widgets.safe_text import shown


class Row(Protocol):
    """What the panel reads from a row (app.triage.rules.PanelRow has these)."""

    question: str
    answer: str
    key: str | None
    missing: bool


class TriageView(msgspec.Struct, frozen=True):
    """Everything the panel shows for one ticket. Plain text throughout: never markup."""

    key: str = ""
    title: str = ""
    rows: Sequence[Any] = ()
    """`Row`s, in the order the questions are asked."""
    blocking: tuple[str, ...] = ()
    """What still blocks the move out of the first column (empty: nothing)."""
    gated: bool = True
    """False when the ticket is past triage: `blocking` is then not shown as a problem."""
    extra_keys: tuple[tuple[str, str], ...] = ()
    """(key, what it does) pairs listed under the rows, e.g. the intake texts."""
    message: str = ""
    """Shown instead of the rows when there is no ticket (an empty column, loading)."""


class TriagePanel(Widget, can_focus=False):
    """Beside the board, hidden until triage mode (`t`). It never takes the focus: the board owns the keys."""

    DEFAULT_CSS = """
    TriagePanel {
        width: 42;
        height: 1fr;
        border: round $accent;
        border-title-style: bold;
        padding: 0 1;
        overflow: hidden;
        & > .triage-panel--key { color: $accent; text-style: bold; }
        & > .triage-panel--question { color: $text-muted; }
        & > .triage-panel--missing { color: $error; text-style: bold; }
        & > .triage-panel--ok { color: $success; }
        & > .triage-panel--title { text-style: bold; }
    }
    """

    COMPONENT_CLASSES = {"triage-panel--key", "triage-panel--question", "triage-panel--missing",
                         "triage-panel--ok", "triage-panel--title"}

    view: reactive[TriageView] = reactive(TriageView(message="no ticket selected"), layout=False)

    def on_mount(self) -> None:
        self.border_title = "Triage"

    def render(self) -> Text:
        view = self.view
        style = self.get_component_rich_style
        width = max(10, self.content_region.width)
        out = Text(no_wrap=True, overflow="ellipsis")

        def line(*parts: str | tuple[str, Any]) -> None:
            piece = Text.assemble(*((shown(p), "") if isinstance(p, str) else (shown(p[0]), p[1]) for p in parts))
            piece.truncate(width, overflow="ellipsis")
            out.append_text(piece)
            out.append("\n")

        def wrapped(indent: str, text: str, text_style: Any = "") -> None:
            """Answers wrap rather than lose their end ("lacks background/context, impact")."""
            for n, chunk in enumerate(textwrap.wrap(text, max(4, width - len(indent))) or [""]):
                line(indent if n == 0 else " " * len(indent), (chunk, text_style))

        if not view.key:
            line((view.message, style("triage-panel--question")))
            return out
        line((view.key, style("triage-panel--title")), " ", shown(view.title))
        # What blocks the move comes first: on a short terminal the bottom rows are the ones cut off.
        if not view.gated:
            line(("Past triage.", style("triage-panel--ok")))
        elif view.blocking:
            line(("Blocks the move to Ready:", style("triage-panel--missing")))
            for gap in view.blocking:
                wrapped("  - ", gap)
        else:
            line(("Triage complete: may move to Ready.", style("triage-panel--ok")))
        line("")
        pad = max([len(row.key or "") for row in view.rows] + [len(key) for key, _ in view.extra_keys]) + 1
        for row in view.rows:
            line(((row.key or "").ljust(pad), style("triage-panel--key")),
                 (row.question, style("triage-panel--question")))
            answer_style = style("triage-panel--missing") if row.missing else ""
            wrapped(" " * (pad + 1), row.answer, answer_style)
        for key, does in view.extra_keys:
            line((key.ljust(pad), style("triage-panel--key")), (does, style("triage-panel--question")))
        return out


__all__ = ["TriagePanel", "TriageView"]
