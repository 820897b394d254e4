"""The two lines of a card as styled segments, cut and padded to the column's width.

A column paints every card line it shows from this, so the first paint of
a board (six columns of 20-odd cards) builds some 250 of them. Rich's `Text`
would assemble, truncate and render each through the console, three passes
and a dozen objects per line; here a line is a few (text, style) pieces,
measured with `rich.cells` and combined with the style cache `Style.__add__`
keeps, about a third of the cost. The behaviour is `Text`'s: text is never
markup, control characters are shown escaped (`widgets.safe_text`), a cut
piece ends in "…" in its own style.
"""

from __future__ import annotations

from typing import Callable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from widgets.card import Card
from widgets.safe_text import shown

Piece = tuple[str, Style]
StyleOf = Callable[[str], Style]
"""A `column--*` component class name -> its Rich style."""

_PRIORITY_CLASSES = {"P1": "column--p1", "P2": "column--p2", "--": "column--untriaged"}
_NO_STYLE = Style()


def fit(pieces: list[Piece], width: int) -> tuple[list[Piece], int]:
    """The pieces cut to `width` cells, and the cells they then take; where text is cut, its last cell
    is "…" (as `Text.truncate`)."""
    if width <= 0:
        return [], 0
    lengths = [cell_len(text) for text, _ in pieces]
    total = sum(lengths)
    if total <= width:
        return pieces, total
    kept: list[Piece] = []
    room = width - 1  # one cell for the ellipsis
    for (text, style), length in zip(pieces, lengths):
        if length <= room:
            kept.append((text, style))
            room -= length
            continue
        kept.append((set_cell_size(text, room) + "…", style))
        break
    return kept, width


def title_text(card: Card) -> str:
    return shown(card.title)


def card_pieces(card: Card, part: int, width: int, style: StyleOf) -> list[Piece]:
    """Line `part` (0: key, priority, status, assignee; 1: the title) of `card`, exactly `width` cells."""
    if part == 0:
        left: list[Piece] = []
        if card.needs_ack:
            left.append(("⚑ ", style("column--ack")))
        if card.stale:
            left.append(("! ", style("column--stale")))
        priority_class = _PRIORITY_CLASSES.get(card.priority)
        left += [(shown(card.key), style("column--key")), (" ", _NO_STYLE),
                 (card.priority, style(priority_class) if priority_class else _NO_STYLE), (" ", _NO_STYLE),
                 (card.status, style("column--status"))]
        right: Piece | None = (shown(card.assignee) or "—", style("column--assignee"))
    else:
        left = [("  ", _NO_STYLE), (title_text(card), _NO_STYLE)]
        if card.needs_ack and card.paged:  # the person being paged, right of the title
            right = ("→ " + shown(", ".join(card.paged)), style("column--ack"))
        elif card.sla_label:  # the countdown ends the title line
            right = (card.sla_label, style(f"column--sla-{card.sla_style or 'ok'}"))
        else:
            right = None
    if right is not None:
        right_cells = cell_len(right[0])
        if part == 0 and right_cells > width // 2:  # a long handle never pushes the key out
            [right], right_cells = fit([right], width // 2)
        left, left_cells = fit(left, max(width - right_cells - 1, 0))
        gap = max(1, width - left_cells - right_cells)
        line, cells = fit([*left, (" " * gap, _NO_STYLE), right], width)
    else:
        line, cells = fit(left, width)
    return line + [(" " * (width - cells), _NO_STYLE)] if cells < width else line


def card_segments(card: Card, part: int, width: int, style: StyleOf, base: Style,
                  over: Style | None = None, keep_right: Style | None = None) -> list[Segment]:
    """The line as segments: `base` under every piece, `over` (the cursor) on top of them.

    `keep_right` is laid over the last piece if it is the countdown, so a
    target at risk keeps its colour under the cursor, where the user looks.
    """
    pieces = card_pieces(card, part, width, style)
    segments = []
    last = len(pieces) - 1
    for index, (text, piece_style) in enumerate(pieces):
        combined = base + piece_style
        if over is not None:
            combined = combined + over
        if keep_right is not None and index == last and text == card.sla_label:
            combined = combined + keep_right
        segments.append(Segment(text, combined))
    return segments


__all__ = ["card_pieces", "card_segments", "fit", "title_text"]
