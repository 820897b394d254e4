"""The lines of a card as styled segments, cut and padded to the column's width: two lines a card,
or one in the compact density.

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


def shown_status(card: Card) -> str:
    """The support status worth a card's cells: only one that differs from its column's default
    (Pending in On Hold, Solved in Closed); the column's title says the rest."""
    return "" if card.status == card.default_status else card.status


def corner(card: Card) -> str:
    """What ends the first line: the people being paged while a page waits, else the countdown."""
    if card.needs_ack and card.paged:
        return "→ " + shown(", ".join(card.paged))
    return card.sla_label


def card_pieces(card: Card, part: int, width: int, style: StyleOf) -> list[Piece]:
    """Line `part` of `card`, exactly `width` cells (none if `width` is not positive).

    Line 0: marks, key, priority, the status where it says something, the
    assignee, and the countdown (or the people paged) at the right edge,
    where a scan down the column finds it; line 1: the title, alone, so it
    gets the whole width. Where the line is short, what is cut first is
    the end of the left side (the assignee), and the right side never
    takes more than half the line, so the key stays.
    """
    if width <= 0:
        return []
    right: Piece | None = None
    optional: list[Piece] = []
    """Pieces of the left side dropped whole, last first, before anything is cut."""
    if part == 0:
        left: list[Piece] = []
        if card.needs_ack:
            left.append(("⚑ ", style("column--ack")))
        if card.stale:
            left.append(("! ", style("column--stale")))
        if card.answered:  # the requester replied; nobody has looked yet
            left.append(("✉ ", style("column--ack")))
        left.append((shown(card.key), style("column--key")))
        key_cells = sum(cell_len(text) for text, _ in left)
        priority_class = _PRIORITY_CLASSES.get(card.priority)
        optional.append((" " + card.priority, style(priority_class) if priority_class else _NO_STYLE))
        status = shown_status(card)
        if status:
            optional.append((" " + status, style("column--status")))
        assignee: Piece = (shown(card.assignee) or "—", style("column--assignee"))
        extra = corner(card)
        if extra:
            optional.append((" " + assignee[0], assignee[1]))
            paged = card.needs_ack and card.paged
            right = (extra, style("column--ack") if paged else style(f"column--sla-{card.sla_style or 'ok'}"))
            room = width - key_cells - 1  # the countdown gives way only to the key
        else:
            right = assignee
            room = width // 2  # a long handle never pushes the key out
        if cell_len(right[0]) > room:
            kept, _ = fit([right], room)
            right = kept[0] if kept else None
    else:
        left = [(" ", _NO_STYLE), (title_text(card), _NO_STYLE)]
    right_cells = cell_len(right[0]) + 1 if right is not None else 0
    left_room = max(width - right_cells, 0)
    left_cells = sum(cell_len(text) for text, _ in left)
    while optional and left_cells + sum(cell_len(text) for text, _ in optional) > left_room:
        optional.pop()
    left, left_cells = fit(left + optional, left_room)
    if right is not None:
        gap = max(1, width - left_cells - right_cells + 1)
        line, cells = fit([*left, (" " * gap, _NO_STYLE), right], width)
    else:
        line, cells = left, left_cells
    return line + [(" " * (width - cells), _NO_STYLE)] if cells < width else line


COMPACT_TITLE = 12
"""Cells of title a compact line keeps before its countdown is cut: the title is why the line is there."""


def compact_label(card: Card) -> str:
    """The countdown of a compact line: "3h 13m" for "3h 13m left" (its colour and "overdue" say the rest),
    five cells more for the title."""
    return card.sla_label.removesuffix(" left")


def compact_pieces(card: Card, width: int, style: StyleOf) -> list[Piece]:
    """The one line of `card` in the compact density, exactly `width` cells.

    The key, then the title as far as it fits, then the marks and the
    countdown (`compact_label`, or the people paged) at the right edge. The priority,
    status and assignee are left to the status line, which describes the
    card under the cursor in full. Where the line is short, the title gives
    way first (down to `COMPACT_TITLE` cells), then the countdown; the key
    stays whatever the width.
    """
    if width <= 0:
        return []
    key: Piece = (shown(card.key), style("column--key"))
    title: Piece = (title_text(card), _NO_STYLE)
    right: list[Piece] = []
    if card.needs_ack:
        right.append(("⚑", style("column--ack")))
    if card.stale:
        right.append(("!", style("column--stale")))
    if card.answered:
        right.append(("✉", style("column--ack")))
    paged = card.needs_ack and card.paged
    extra = corner(card) if paged else compact_label(card)
    if extra:
        right.append((extra, style("column--ack") if paged else style(f"column--sla-{card.sla_style or 'ok'}")))
    spaced: list[Piece] = []
    for piece in right:  # one space between the marks and the countdown
        spaced += [(" ", _NO_STYLE), piece] if spaced else [piece]
    key_cells = cell_len(key[0])
    title_room = min(COMPACT_TITLE, cell_len(title[0])) + 1 if title[0] else 0
    right, right_cells = fit(spaced, max(width - key_cells - 1 - title_room, 0))
    left, left_cells = fit([key, (" ", _NO_STYLE), title], max(width - right_cells - (1 if right else 0), 0))
    gap = width - left_cells - right_cells
    return [*left, (" " * gap, _NO_STYLE), *right] if gap > 0 else [*left, *right]


def card_segments(card: Card, part: int, width: int, style: StyleOf, base: Style,
                  over: Style | None = None, keep_right: Style | None = None, *,
                  compact: bool = False) -> list[Segment]:
    """The line as segments: `base` under every piece, `over` (the cursor) on top of them.

    `keep_right` is laid over the last piece if it is the countdown, so a
    target at risk keeps its colour under the cursor, where the user looks.
    `compact`: the card's one line (`compact_pieces`), `part` is then 0.
    """
    pieces = compact_pieces(card, width, style) if compact else card_pieces(card, part, width, style)
    label = compact_label(card) if compact else card.sla_label
    segments = []
    last = len(pieces) - 1
    for index, (text, piece_style) in enumerate(pieces):
        combined = base + piece_style
        if over is not None:
            combined = combined + over
        if keep_right is not None and index == last and text == label:
            combined = combined + keep_right
        segments.append(Segment(text, combined))
    return segments


__all__ = ["COMPACT_TITLE", "card_pieces", "card_segments", "compact_label", "compact_pieces", "corner", "fit",
           "shown_status", "title_text"]
