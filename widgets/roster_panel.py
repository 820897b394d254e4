"""The on-call roster (`o`): who holds each rotation now, the next handoff, who comes in.

The screen computes the roster (it is a rule of the `app/` layer) and hands
this panel plain `RosterLine`s; the panel only lays them out. It has a fixed
height and repaints through `render()` with a non-layout reactive, so its
once-a-minute refresh repaints these few lines and never the board.
"""

from __future__ import annotations


import msgspec
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from widgets.safe_text import shown


class RosterLine(msgspec.Struct, frozen=True):
    """One rotation, already in words. Plain text: shown literally, never as markup."""

    rotation: str
    on_duty: str
    """e.g. "bob (covering dan until Mon 28 Dec 09:00)"."""
    next_handoff: str
    """Local time, or "—" when the roster never changes."""
    incoming: str
    covered: bool = False
    """An override is in force: the line is highlighted."""


HEADINGS = RosterLine("ROTATION", "ON DUTY", "NEXT HANDOFF", "INCOMING")


class RosterPanel(Widget):
    """A table of `RosterLine`s under a one-line heading (the instant it was computed for).

    The screen sets its height once (two lines plus one per rotation); the
    lines change, their number does not.
    """

    DEFAULT_CSS = """
    RosterPanel {
        height: 6;
        padding: 0 1;
        background: $boost;
    }
    """

    lines: reactive[tuple[RosterLine, ...]] = reactive((), layout=False)
    heading: reactive[str] = reactive("", layout=False)
    """e.g. "On call at Fri 25 Dec 12:00 (Europe/London)"."""

    def render(self) -> Content:
        rows = [Content.styled(self.heading, "bold")]
        if not self.lines:
            rows.append(Content("no rotations configured"))
        table = (HEADINGS, *self.lines)
        widths = [max(len(getattr(line, name)) for line in table) for name in ("rotation", "on_duty", "next_handoff")]
        for line in table if self.lines else ():
            text = "  ".join((line.rotation.ljust(widths[0]), line.on_duty.ljust(widths[1]),
                              line.next_handoff.ljust(widths[2]), line.incoming))
            style = "bold $text-muted" if line is HEADINGS else ("$warning" if line.covered else "")
            rows.append(Content.styled(shown(text), style) if style else Content(shown(text)))
        return Content("\n").join(rows)


__all__ = ["HEADINGS", "RosterLine", "RosterPanel"]
