"""The detail view's conversation: every entry of a ticket's history in one scrolling widget, newest last.

One `RichLog`, not a widget per entry: 200 entries with 5,000-character mails
cost 200 widgets' styles and layout plus the wrapping of every mail at each
width, which made enter take seconds; a log wraps each entry once, when it is
written, and paints only the lines in view. A mail, a reply or a note is a
framed block whose title says who could read it; an internal note's frame is
dashed and titled "INTERNAL NOTE · never mailed", so it never passes for
something the requester saw, whatever the terminal's colours. The colours are
component classes (`.conversation--internal` …, in app/tui/triageboard.tcss).

Plain text in: every string goes through `shown` into a `rich.text.Text`, so
`[bold]` shows as typed and control characters show escaped.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from rich import box
from rich.console import RenderableType
from rich.panel import Panel
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import RichLog

from widgets.safe_text import shown

INTERNAL_BOX = box.Box("┏╍┳┓\n╏ ╏╏\n┣╍╋┫\n╏ ╏╏\n┣╍╋┫\n┣╍╋┫\n╏ ╏╏\n┗╍┻┛\n")
"""Dashed and heavy: an internal note's frame differs in shape, not in colour alone."""

FOLD_LINES = 12
FOLD_CHARS = 1_000
"""A longer mail, reply or note shows its start and how much more there is until `f` unfolds them
all: a timeline of whole 5,000-character mails is a wall nobody reads entry by entry."""


class Line(Protocol):
    """What the widget reads from an entry (app.tui.screens.detail.HistoryLine has these)."""

    at: str
    by: str
    change: str
    status: str
    reason: str
    kind: str
    audience: str
    text: str


def folded(text: str) -> str:
    """`text`, or its first lines and a line saying how much is left out."""
    cut = "\n".join(text.split("\n", FOLD_LINES)[:FOLD_LINES])[:FOLD_CHARS]
    if len(cut) >= len(text.rstrip()):
        return text
    return f"{cut.rstrip()}\n… {len(text) - len(cut):,} more characters (f shows every entry in full)"


def kind_of(line: Line) -> str:
    """The entry's component class suffix: internal, reply, requester, held or event."""
    if line.audience == "internal":
        return "internal"
    if not line.text:
        return "event"
    if line.kind == "reply":
        return "reply"
    return "requester" if line.audience == "requester" else "held"


def title_of(line: Line) -> str:
    when = f"{line.at}  {line.by}" if line.by else line.at
    if line.audience == "internal":
        return f"INTERNAL NOTE · never mailed · {when}"
    return f"{when} · {line.change}"


class Conversation(RichLog, can_focus=True):
    """The entries, oldest first; opened scrolled to the newest."""

    COMPONENT_CLASSES = {"conversation--requester", "conversation--reply", "conversation--internal",
                         "conversation--held", "conversation--event"}
    BINDINGS = [Binding("home", "scroll_home", "Oldest", show=False, id="detail.oldest"),
                Binding("end", "scroll_end", "Newest", show=False, id="detail.newest")]

    def __init__(self, lines: Sequence[Line] = (), *, id: str | None = None) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, auto_scroll=False, id=id)
        self.entries: Sequence[Line] = lines
        self.full = False
        """Every long entry in full rather than folded (`FOLD_LINES`)."""
        self._width = 0

    def on_mount(self) -> None:
        self.call_after_refresh(self._write_all)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        if self._width and event.size.width != self._width:
            self._write_all()  # a log keeps the lines as wrapped: wrap again at the new width

    def show(self, lines: Sequence[Line], full: bool | None = None) -> None:
        self.entries = lines
        if full is not None:
            self.full = full
        self._write_all()

    def _write_all(self) -> None:
        width = self.scrollable_content_region.width
        if not width:
            return
        self._width = self.size.width
        at_end = not self.lines or self.scroll_y >= self.max_scroll_y
        self.clear()
        for line in self.entries:
            self.write(self.renderable(line), width=width, expand=True, scroll_end=False)
        if at_end:
            self.scroll_end(animate=False)

    def renderable(self, line: Line) -> RenderableType:
        kind = kind_of(line)
        style = self.get_component_rich_style(f"conversation--{kind}")
        if kind == "event":
            extra = "  ".join(part for part in (line.status and f"[{line.status}]", line.reason) if part)
            words = f"{line.at}  {line.by}  {line.change}" if line.by else f"{line.at}  {line.change}"
            return Text(shown(words + (f"  {extra}" if extra else "")), style=style)
        text = line.text if self.full else folded(line.text)
        return Panel(Text(shown(text, multiline=True)), title=Text(shown(title_of(line)), style=style),
                     title_align="left", border_style=style,
                     box=INTERNAL_BOX if kind == "internal" else box.ASCII if kind == "held" else box.ROUNDED,
                     padding=(0, 1))

    def plain_lines(self) -> list[str]:
        """What the widget holds, line by line, as text (what a test reads)."""
        return [strip.text.rstrip() for strip in self.lines]


__all__ = ["Conversation", "FOLD_CHARS", "FOLD_LINES", "INTERNAL_BOX", "folded"]
