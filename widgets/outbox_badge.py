"""The header's outbox count: "✉ 3 queued · 1 failed".

Mounted inside the `TitleBar`, docked right with a fixed width, and repainted
through `render()` with non-layout reactives: the screen's timer updates it
every few seconds without ever reflowing the board.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class OutboxBadge(Widget):
    """Undelivered (pending) and failed notifications; failed ones in the error colour."""

    DEFAULT_CSS = """
    OutboxBadge {
        dock: right;
        width: 26;
        height: 1;
        padding: 0 1;
        content-align: right middle;
        background: transparent;
    }
    """

    queued: reactive[int | None] = reactive(None, layout=False)
    """None until the first count arrives."""
    failed: reactive[int] = reactive(0, layout=False)

    def render(self) -> Content:
        if self.queued is None:
            return Content("✉ …")
        failed = f"{self.failed} failed"
        return Content.assemble(f"✉ {self.queued} queued · ",
                                (failed, "bold $error") if self.failed else failed)


__all__ = ["OutboxBadge"]
