"""The board's layout part: which columns are strips, and how many lines a card takes.

Two inputs decide it. The user's own choices (`z` per column, `D` for the
density) are kept between sessions in `app.tui.ui_state`; the terminal's
width decides the rest: at `NARROW` columns or fewer six columns would leave a
card a cut key and three letters of title, so only the cursor's column is wide.
The width never overwrites the choices, so they come back when the terminal
widens again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from app.tui.ui_state import DENSITIES, load_collapsed, load_density, save_collapsed, save_density
from widgets.column import LINES_PER_CARD
from widgets.status_line import StatusLine

if TYPE_CHECKING:
    from app.tui.screens.board_host import BoardHost

NARROW = 100
"""A terminal this many columns wide or narrower shows the cursor's column wide and the others as strips:
six columns of 16 cells showed a cut key and three letters of title."""
STRIP_WIDTHS = (9, 5, 3)
"""Strip widths in a narrow terminal, widest first (triageboard.tcss: `-strips-N`): the widest that
leaves the wide column `WIDE_ROOM` cells."""
WIDE_ROOM = 30


class BoardLayout:
    """Strips, widths and density for one board screen (`z`, `D`, resizes, the cursor changing column)."""

    def __init__(self, host: BoardHost, panel_width: Callable[[], int]) -> None:
        self.host = host
        self.panel_width = panel_width
        """Cells the triage panel takes from the columns now (0 when it is closed)."""
        board = host.service.config.board.key
        chosen = load_collapsed(board)
        self.collapsed = (chosen if chosen is not None
                          else {c.key for c in host.workflow.columns if c.collapsed})
        """The user's `z` choices (saved): what a wide terminal shows, whatever a narrow one did meanwhile."""
        self.density = load_density(board)
        self.width = 0
        """The terminal's width (set from the app's size when the board is composed, then by resizes)."""

    @property
    def narrow(self) -> bool:
        """The terminal is too narrow for every column: only the cursor's is wide."""
        return self.width <= NARROW

    @property
    def card_height(self) -> int:
        return LINES_PER_CARD[self.density]

    def starts_folded(self, index: int, state: str) -> bool:
        """Whether column `index` is a strip in the first frame (the first column holds the cursor)."""
        return index > 0 if self.narrow else state in self.collapsed

    def collapse(self) -> None:
        """`z`: the column under the cursor becomes a strip with its count, or wide again; kept for next time.

        In a narrow terminal the cursor's column is wide whatever the choice: `z` then records it for
        when the terminal is wide again, and says so.
        """
        column = self.host.focused_column
        fold = column.state not in self.collapsed
        self.collapsed = self.collapsed | {column.state} if fold else self.collapsed - {column.state}
        save_collapsed(self.host.service.config.board.key, self.collapsed)
        if self.narrow:
            self._say(f"{column.title} will be {'a strip' if fold else 'wide'} above {NARROW} columns: "
                      f"this narrow terminal shows the cursor's column wide and the others as strips")
            return
        column.collapsed = fold
        self._say(f"{column.title} collapsed: z widens it" if fold else f"{column.title} widened")

    def switch_density(self) -> None:
        """`D`: one line a card (key, title, countdown), twice the cards in view; or two again. Kept for next time."""
        self.density = DENSITIES[(DENSITIES.index(self.density) + 1) % len(DENSITIES)]
        save_density(self.host.service.config.board.key, self.density)
        for column in self.host.columns:
            column.card_height = self.card_height
        lines = "one line" if self.card_height == 1 else "two lines"
        self._say(f"density: {self.density}, {lines} a card (D switches)")

    def resized(self, width: int) -> None:
        """Across `NARROW` columns the strips change, both ways."""
        self.width = width
        self.lay_out()

    def lay_out(self) -> None:
        """Which columns are strips: in a narrow terminal every one but the cursor's, else the user's `z`
        choices (never changed here, so they come back when the terminal widens)."""
        host = self.host
        narrow = self.narrow
        focused = host.focused_column
        for column in host.columns:
            column.collapsed = column is not focused if narrow else column.state in self.collapsed
        room = self.width - self.panel_width()  # an open triage panel: a narrow board's strips may thin
        strips = len(host.columns) - 1
        width = next((w for w in STRIP_WIDTHS if room - w * strips >= WIDE_ROOM), STRIP_WIDTHS[-1])
        columns = host.query_one("#columns")
        for each in STRIP_WIDTHS[1:]:
            columns.set_class(narrow and width == each, f"-strips-{each}")

    def _say(self, text: str) -> None:
        self.host.query_one("#status", StatusLine).text = text


__all__ = ["NARROW", "STRIP_WIDTHS", "WIDE_ROOM", "BoardLayout"]
