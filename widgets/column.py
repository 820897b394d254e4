"""One board column: a virtualised Line-API list of cards, however many there are.

Like toolong's `LogLines`, the column is a single `ScrollView` that knows
only its row count (`virtual_size`) and paints the lines on screen from pages
it asks its `CardSource` for, kept in a small LRU cache. Mounting a widget per
card does not survive a column of 10,000 tickets; this stays flat at 100,000.

Attributes down, messages up: the screen sets `count`, `limit` and the
source; the column posts `CardHighlighted`, `CardSelected` and
`MoveRequested` and never writes anything itself.

The column paints its own rows, border cells included (as Textual's
StylesCache would), and keeps each painted line in `_strips`, keyed by card id
and version, part, cursor, focus and width, then framed between its border
cells by text. What it saves: a move repaints its two columns from cached lines
and re-reads one 32-card page of each; drawing the borders here took 1 ms off a
move's repaint (commit 823c681), and the Line API keeps a column of 100,000
cards as fast as one of 100. What would break it: a card painted from anything
the cache key does not name (a new field that changes a card's look must be in
`Card`, whose `version` changes with the ticket; a style change clears the
frames through `styles_version`), or a card mounted as a widget of its own.

Changing a card's look needs none of this: the line is built by
`widgets/card_line.py` (`card_segments`) and coloured by the `.tcss`.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.card import Card, CardSource
from widgets.card_line import card_segments
from widgets.card_styles import CardStyles
from widgets.textual_internals import (DirtyRows, border_label, border_label_style, frame_cells, get_box, inner_outer,
                                       render_border_label, render_row, set_virtual_size_quietly, styles_version)

CARD_HEIGHT = 2
"""Lines per card in the comfortable density: key, priority, status, assignee and countdown; then the title."""

LINES_PER_CARD = {"comfortable": CARD_HEIGHT, "compact": 1}
"""Lines per card in each density (app.ui_state.DENSITIES): compact is key, title and countdown on one."""

PAGE_SIZE = 32
"""Cards per query: a screenful and some (a 45-line terminal shows 20 a column), so scrolling a little
never queries. A move re-reads a page of each of its two columns: 32 cards, not 64, save it 2 ms."""


class Column(DirtyRows, ScrollView, can_focus=False, inherit_bindings=False):
    """A board column of `count` cards in the state `state`, painted a page at a time.

    Columns never take the focus: the board screen owns the keys and tells
    one column it is `active`. Moving focus between widgets restyles them and
    rebuilds the footer, a full-screen repaint on every column change; an
    `active` flag repaints one card's lines.
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="column.cursor_up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="column.cursor_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="column.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="column.page_down"),
        Binding("home", "jump(0)", "First card", show=False, id="column.first"),
        Binding("end", "jump(-1)", "Last card", show=False, id="column.last"),
        Binding("shift+left,H", "move_card(-1)", "Move left", key_display="H", id="board.move_left"),
        Binding("shift+right,L", "move_card(1)", "Move right", key_display="L", id="board.move_right"),
        Binding("enter", "select", "Detail", id="board.detail"),
    ]
    """The column's keys; the board screen binds them and calls the active column's actions."""

    DEFAULT_CSS = """
    Column {
        overflow-x: hidden;
        overflow-y: auto;
        /* No scrollbar: the bottom border says which cards are in view ("1–21 of 10,000").
           A scrollbar appearing once the column knows its size reflows and repaints the whole
           board a second time before it is first shown; and one cell of it says little of
           where you are among 10,000 cards. */
        scrollbar-size-vertical: 0;
    }
    """
    # The card colours (`column--*` component classes) are on `CardStyles`, one for the board.

    count: reactive[int] = reactive(0, repaint=False)
    """How many cards the column holds (under the current filter)."""
    limit: reactive[int | None] = reactive(None, repaint=False)
    """The WIP limit shown in the header, if the column has one."""
    total: reactive[int | None] = reactive(None, repaint=False)
    """Under a filter, how many cards the column holds in all (what its WIP limit counts); else None."""
    at_least: reactive[bool] = reactive(False, repaint=False)
    """`count` is what is read so far (a full first page) while the filter's exact count is worked out: "32+"."""
    cursor: reactive[int] = reactive(0, repaint=False)
    """The index of the highlighted card."""
    active: reactive[bool] = reactive(False, repaint=False)
    """The column the board's keys act on (shown by its border and a bright cursor)."""
    collapsed: reactive[bool] = reactive(False, repaint=False)
    """Shown as a narrow strip with only its count (`z`); its cards are still there for the keys."""
    card_height: reactive[int] = reactive(CARD_HEIGHT, repaint=False)
    """Lines per card (`LINES_PER_CARD`): 1 in the compact density, twice the cards in view."""

    class CardHighlighted(Message):
        """The cursor landed on a card (or on nothing: an empty column)."""

        def __init__(self, column: Column, card: Card | None) -> None:
            super().__init__()
            self.column = column
            self.card = card

        @property
        def control(self) -> Column:
            return self.column

    class Clicked(Message):
        """A click on the column: the board makes it the active one."""

        def __init__(self, column: Column) -> None:
            super().__init__()
            self.column = column

        @property
        def control(self) -> Column:
            return self.column

    class CardSelected(Message):
        """Enter on a card: the screen opens its detail and history."""

        def __init__(self, column: Column, card: Card) -> None:
            super().__init__()
            self.column = column
            self.card = card

        @property
        def control(self) -> Column:
            return self.column

    class MoveRequested(Message):
        """The user asked to move a card `step` columns (-1 left, +1 right)."""

        def __init__(self, column: Column, key: str, version: int, step: int, card: Card) -> None:
            super().__init__()
            self.column = column
            self.key = key
            self.version = version
            self.step = step
            self.card = card

        @property
        def control(self) -> Column:
            return self.column

    def __init__(self, state: str, title: str, source: CardSource, palette: CardStyles, *, count: int = 0,
                 limit: int | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.state = state
        self.title = title
        self.source = source
        self.palette = palette
        """The board's card colours (widgets.card_styles)."""
        self._pages: LRUCache[int, list[Card]] = LRUCache(maxsize=16)
        self._strips: LRUCache[tuple, Strip] = LRUCache(maxsize=512)
        """Painted lines by (card id, version, part, cursor?, focus?, width), as toolong caches its lines."""
        self._framed: dict[tuple[Segment, Segment], LRUCache[tuple, Strip]] = {}
        """The same lines between their border cells, filters applied: what `render_lines` hands Textual.
        Per frame (the active column's border differs), then keyed as `_strips`: moving the cursor on
        and off a column finds the lines it painted under each border last time."""
        self._rows: dict[int, Strip] = {}
        """The rows as last handed to Textual, by y, until Textual marks them dirty (as its `StylesCache` keeps
        lines): a repaint that takes in this column only because it lies beside a change costs a lookup a row."""
        self._borders: dict[tuple, Strip] = {}
        self._inner_outer: tuple = ()
        """The frame's inner and outer background styles (Textual's), worked out with `_frame`."""
        """The top and bottom border rows by text and width, cleared when the frame is worked out again."""
        self._styles: dict[str, Style] = {}
        self._line_width: int | None = None
        self._frame: tuple[Segment, Segment] | None | bool = False
        """The left and right border segments for `render_lines`' own path; None: use Textual's; False: not worked out."""
        self._frame_key = -1
        """The styles' update count `_frame` was worked out at: any rule set since (an inline border) redoes it."""
        self._filters: tuple = ()
        """The app's line filters the cached rows went through (NO_COLOR, ANSI colours): others clear them."""
        self._positioned = False
        """The bottom border has said what is in view at a known height (later, resizes and scrolls update it)."""
        self.set_reactive(Column.count, count)
        self.set_reactive(Column.limit, limit)

    # -- data ------------------------------------------------------------

    def invalidate(self, pages: dict[int, list[Card]] | None = None) -> None:
        """Forget the cached pages and repaint: the column's cards changed.

        `pages` (page number -> cards) may bring the fresh pages the screen
        already read off the event loop, so the repaint runs no query.
        Painted lines stay cached: they are keyed by card id and version, so
        the cards that only shifted up or down are not rendered again.
        """
        self._pages.clear()
        for number, cards in (pages or {}).items():
            self._pages[number] = cards
        self.refresh()

    def page_number(self, index: int | None = None) -> int:
        """The page holding card `index` (default: the cursor's)."""
        return (self.cursor if index is None else index) // PAGE_SIZE

    def notify_style_update(self) -> None:
        """Keep the painted lines: their cache key names everything they were painted with (theme included)."""
        super().notify_style_update()
        self._styles.clear()
        self._frame = False
        self._paint_border()

    def _style(self, name: str) -> Style:
        """A component class's Rich style, looked up once per style change (the lookup is not cheap)."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.palette.style(name)
        return style

    def _base_style(self) -> Style:
        """`rich_style` (the column's colours over its ancestors'), kept until the styles change.

        It walks up the DOM on every call, and a repaint asks once per line.
        """
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _new_theme(self) -> None:
        """The component colours changed with the theme (painted lines are keyed by theme already)."""
        self._styles.clear()
        self._frame = False
        self._paint_border()

    def _paint_border(self) -> None:
        """The border's colour says which column the keys act on.

        The active column's is set inline from the `column--border-active`
        colour (the others keep their stylesheet border), rule by rule and
        then one repaint: toggling a class would restyle the column, and the
        `border` property would reflow the whole screen, on every move and
        every h/l, for a colour that never changes a size.
        """
        edges = ("border_top", "border_right", "border_bottom", "border_left")
        if self.active:
            try:
                color = self.palette.color("column--border-active")
            except KeyError:  # the palette is not styled yet: on_mount paints it
                return
            changed = [self.styles.set_rule(edge, ("round", color)) for edge in edges]
        else:
            changed = [self.styles.clear_rule(edge) for edge in edges]
        if any(changed):
            self.refresh()

    def card_at(self, index: int) -> Card | None:
        """The card at `index`, reading its page from the source if it is not cached."""
        if not 0 <= index < self.count:
            return None
        number, offset = divmod(index, PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            page = list(self.source.page(self.state, number * PAGE_SIZE, PAGE_SIZE))
            self._pages[number] = page
        return page[offset] if offset < len(page) else None

    @property
    def current_card(self) -> Card | None:
        return self.card_at(self.cursor)

    def update_cards(self, cards: dict[int, Card]) -> None:
        """Swap in new values of cards already cached (same id) and repaint: no query, no other card re-read."""
        for number in list(self._pages.keys()):
            page = self._pages.get(number)
            if page and any(card.id in cards for card in page):
                self._pages.discard(number)  # LRUCache.set never overwrites a key it holds
                self._pages[number] = [cards.get(card.id, card) for card in page]
        self.refresh()

    def cached_cards(self) -> dict[int, Card]:
        """The cards of the cached pages, by id: what the column may be showing, without a query."""
        pages = (self._pages.get(number) for number in list(self._pages.keys()))
        return {card.id: card for page in pages if page for card in page}

    # -- reactives -------------------------------------------------------

    def on_mount(self) -> None:
        self._paint_border()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.call_after_refresh(self._new_theme))
        self._update_header()
        self._update_virtual_size()

    def on_resize(self) -> None:
        self._update_virtual_size()
        self.scroll_to_card(self.cursor)  # a shorter terminal, a strip widened: the cursor's card stays in view

    def _update_virtual_size(self) -> None:
        """Set the scrollable height without a layout pass.

        `virtual_size` is a layout reactive: assigning it reflows and repaints
        the whole screen, and a move changes two counts. Only this column's
        scrolling depends on it, so set it quietly.
        """
        set_virtual_size_quietly(self, Size(self.scrollable_content_region.width, self.count * self.card_height))
        self._update_position()

    def _update_position(self) -> None:
        """The bottom border: which cards are in view, once there are more than fit."""
        shown = self.cards_shown()
        if self.count <= shown or self.collapsed:  # a strip says its count, at the top
            position = ""
        else:
            first = round(self.scroll_offset.y) // self.card_height + 1
            position = f"{first:,}–{min(self.count, first + shown - 1):,} of {self.count:,}"
        shown = border_label(self, top=False)
        if shown is None or shown.plain != position:
            self.border_subtitle = Content(position)  # text, not markup: nothing to parse

    def cards_shown(self) -> int:
        """How many cards the column has room for (at least one: a page key always moves)."""
        return max(1, self.scrollable_content_region.height // self.card_height)

    def pages_in_view(self, index: int | None = None) -> list[int]:
        """The pages of the cards in view, once the column has scrolled to show card `index` (default: as it
        is): what a repaint will ask for, so a worker can read them first. A compact column shows twice
        the cards, more than one page of a tall terminal."""
        shown = self.cards_shown()
        first = round(self.scroll_offset.y) // self.card_height
        if index is not None:
            if index < first:
                first = index
            elif index >= first + shown:
                first = index - shown + 1
        last = max(first, first + shown - 1)
        return list(range(first // PAGE_SIZE, last // PAGE_SIZE + 1))

    def watch_card_height(self) -> None:
        """The density changed: the same cards in other rows, the cursor's kept in view."""
        self._update_virtual_size()
        self.scroll_to_card(self.cursor)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):  # the lines move: the column repaints anyway
            self._update_position()

    def _update_header(self) -> None:
        # Filtered: "2 of 5/5", the cards in view of all the column holds, which is what the limit counts.
        whole = self.count if self.total is None else self.total
        count = f"{self.count:,}+" if self.at_least else f"{self.count:,}"
        shown = f"{count} of {whole:,}" if self.total is not None else count
        if self.limit is not None:
            shown += f"/{self.limit}"
        self.border_title = Content(shown if self.collapsed else f"{self.title} {shown}")  # the config's title is text, never markup
        self.set_class(self.limit is not None and whole > self.limit, "-over-limit")
        self.set_class(self.limit is not None and whole == self.limit, "-at-limit")

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, self.count - 1))

    def watch_count(self) -> None:
        self._update_header()
        self._update_virtual_size()
        self.cursor = self.validate_cursor(self.cursor)
        self.refresh()

    def watch_limit(self) -> None:
        self._update_header()

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")
        self._update_header()
        self._update_position()
        self.refresh()

    def watch_at_least(self) -> None:
        self._update_header()

    def watch_total(self) -> None:
        self._update_header()

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_card(old)
        self._refresh_card(new)
        self.scroll_to_card(new)
        self.post_message(self.CardHighlighted(self, self.current_card))

    def _refresh_card(self, index: int) -> None:
        height = self.card_height
        top = index * height - round(self.scroll_offset.y)
        self.refresh(Region(0, top, self.size.width, height))

    def scroll_to_card(self, index: int) -> None:
        height = self.card_height
        self.scroll_to_region(Region(0, index * height, 1, height), animate=False, immediate=True)

    def watch_active(self, active: bool) -> None:
        self._paint_border()
        self._refresh_card(self.cursor)
        if active:
            self.post_message(self.CardHighlighted(self, self.current_card))

    # -- painting --------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        """Paint the lines in `crop`: the border rows through Textual, the card rows here.

        Textual's pipeline (`StylesCache`) rebuilds every line it repaints,
        frame, colours and filters, at about 100 µs a line, and a move shifts
        every card below it in two columns. Here a card row is its painted card
        line between the two border cells, cached whole (filters applied) by
        what it shows: after a move most rows are cards already painted one row
        up or down, and cost a lookup. Styles this path does not draw (padding,
        tint, opacity, outline, hatch) go to Textual's pipeline.
        """
        self._line_width = self.scrollable_content_region.width  # once per repaint: a walk of the screen's map
        if not self._positioned:  # the first frame: before it, the column had no height to say what is in view
            self._positioned = self.scrollable_content_region.height > 0
            self._update_position()
        frame = self._card_frame()
        if frame is None:
            return super().render_lines(crop)
        width, height = self.outer_size
        x1, x2 = crop.column_span
        view = self._view()
        filters = tuple(self.app.get_line_filters())
        if filters != self._filters:  # e.g. NO_COLOR, or the app's ANSI colour switched
            self._framed.clear()
            self._borders.clear()
            self._rows.clear()
            self._filters = filters
        framed = self._framed.get(frame)
        if framed is None:
            if len(self._framed) >= 4:  # themes come and go; a column has two frames in use, active or not
                self._framed.clear()
            framed = self._framed[frame] = LRUCache(maxsize=512)
        background = self.background_colors[1] if filters else None  # a walk up the DOM: once, not per line
        lines: list[Strip] = []
        rows = self._rows
        for y in crop.line_range:
            strip = rows.get(y)  # None once Textual marks the row dirty; kept in a column beside a move, say
            if strip is None:
                if y == 0 or y == height - 1:
                    strip = self._border_row(y, width, filters, background)
                else:
                    key = self._line_key(y - 1, view)
                    strip = framed.get(key)
                    if strip is None:
                        strip = framed[key] = self._frame_line(self._segments(y - 1, key, view), frame, width,
                                                               filters, background)
                rows[y] = strip
            lines.append(strip if (x1, x2) == (0, width) else strip.crop(x1, x2))
        return lines

    def forget_rows(self, regions: tuple[Region, ...]) -> None:
        """Textual marks lines to repaint (every `refresh` comes through `DirtyRows`): forget those painted rows."""
        if not regions:
            self._rows.clear()
            return
        for region in regions:
            for y in region.line_range:
                self._rows.pop(y, None)

    def _card_frame(self) -> tuple[Segment, Segment] | None:
        """The left and right border cells of a card row, as `StylesCache` draws them; None if the column's
        styles need Textual's pipeline. Worked out once per style or border change."""
        styles = self.styles
        if self._frame is not False and self._frame_key == styles_version(self):  # no rule set since (inline too)
            return self._frame  # type: ignore[return-value]
        self._frame_key = styles_version(self)
        from textual.style import Style as TextualStyle

        self._borders.clear()
        self._rows.clear()
        (left_type, left_color), (right_type, right_color) = styles.border_left, styles.border_right
        plain = (left_type and right_type and styles.border_top[0] and styles.border_bottom[0]
                 and not any(styles.padding) and not any(edge for edge, _ in styles.outline)
                 and not styles.tint.a and styles.text_opacity == 1.0 and self.opacity == 1.0
                 and not (styles.has_rule("hatch") and styles.hatch != "none"))
        if not plain:
            self._frame = None
            return None
        base_background, background = self.background_colors
        inner, outer = self._inner_outer = inner_outer(base_background, background)
        self._frame = frame_cells(left_type, right_type, inner, outer,  # Textual's cells: both paths draw one frame
                                  TextualStyle(foreground=base_background + left_color),
                                  TextualStyle(foreground=base_background + right_color))
        return self._frame

    @staticmethod
    def _frame_line(content: list[Segment], frame: tuple[Segment, Segment], width: int, filters: tuple,
                    background) -> Strip:
        """A content line between its border cells, through the app's filters (as Textual would)."""
        strip = Strip(Segment.simplify([frame[0], *content, frame[1]]), width)
        for line_filter in filters:
            strip = strip.apply_filter(line_filter, background)
        return strip

    def _border_row(self, y: int, width: int, filters: tuple, background) -> Strip:
        """The top or bottom border with its title or subtitle, drawn as `StylesCache` draws it, and kept
        until the text or the styles change: Textual's own path works out every colour of the row again
        on each call, and a move changes both border texts of two columns."""
        is_top = y == 0
        label = border_label(self, is_top)
        key = (y, width, label)
        strip = self._borders.get(key)
        if strip is not None:
            return strip
        from textual.color import TRANSPARENT
        from textual.style import Style as TextualStyle

        styles = self.styles
        base_background, widget_background = self.background_colors
        inner, outer = self._inner_outer
        edge, edge_color = styles.border_top if is_top else styles.border_bottom
        edge_style = TextualStyle(foreground=base_background + edge_color)
        label_segments: list[Segment] = []
        if label is not None:
            color, label_background, label_style = border_label_style(self, is_top, base_background)
            under = base_background + widget_background
            label_style += TextualStyle(under + label_background if label_background.a else TRANSPARENT,
                                        under + color if color.a else TRANSPARENT)
            label_segments = render_border_label((label, label_style), is_top, edge, width - 2, inner, outer,
                                                 edge_style, True, True)
        box = get_box(edge, inner, outer, edge_style)
        align = styles.border_title_align if is_top else styles.border_subtitle_align
        strip = Strip(render_row(box[0 if is_top else 2], width, True, True, label_segments, align), width)
        for line_filter in filters:
            strip = strip.apply_filter(line_filter, background)
        self._borders[key] = strip
        return strip

    def _view(self) -> tuple:
        """What every line of one repaint shares: scroll offset, cursor, width, colours, theme."""
        cursor = ("column--cursor-active" if self.active else "column--cursor")
        width = self._line_width if self._line_width is not None else self.scrollable_content_region.width
        return round(self.scroll_offset.y), self.cursor, cursor, width, self._base_style(), self.app.theme

    def _line_key(self, y: int, view: tuple) -> tuple:
        """What content line `y` shows, as a cache key: the card, which of its lines, how it is highlighted."""
        scroll_y, cursor_index, cursor, width, base, theme = view
        if self.collapsed:  # a strip names its column down its body, a word a line: the border has room for the count only
            words = self.title.split()
            return ("collapsed", width, base, words[y] if y < len(words) else "")
        height = self.card_height
        index, part = divmod(y + scroll_y, height)
        card = self.card_at(index)
        if card is None:
            return (None, width, base)
        return (card.id, card.version, card.stale, (height, part), cursor if index == cursor_index else None, width,
                base, theme, card.needs_ack, card.paged, card.answered, card.sla_label, card.sla_style)

    def render_line(self, y: int) -> Strip:
        """Textual's path (styles `render_lines` does not draw): the content line alone, cached as the rows are."""
        view = self._view()
        key = self._line_key(y, view)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = Strip(self._segments(y, key, view), view[3]).simplify()
        return strip

    def _segments(self, y: int, key: tuple, view: tuple) -> list[Segment]:
        """Content line `y` (`key` is its `_line_key`): a card's line, or blank below the last card."""
        width, base = view[3], view[4]
        height = self.card_height
        index, part = divmod(y + view[0], height)
        if key[0] == "collapsed":
            word = key[3][:width] if len(key[3]) <= width else key[3][: max(width - 1, 0)] + "…"
            return [Segment(word.center(width)[:width], base + self._style("column--strip-title"))] if word else [Segment(" " * width, base)]
        card = self.card_at(index)
        if card is None:
            return [Segment(" " * width, base)]
        cursor = key[4]
        over = keep = None
        if cursor is not None:
            over = self._style(cursor)
            if part == 0 and card.sla_style in ("warning", "breached"):
                # A countdown at risk keeps its colour under the cursor, where the user is looking.
                keep = Style(color=self._style(f"column--sla-{card.sla_style}").color, bold=True)
        return card_segments(card, part, width, self._style, base, over, keep, compact=height == 1)

    # -- actions ---------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        self.cursor = self.validate_cursor(self.cursor + step)

    def action_page(self, direction: int) -> None:
        step = self.cards_shown()
        self.cursor = self.validate_cursor(self.cursor + direction * step)

    def action_jump(self, index: int) -> None:
        self.cursor = self.validate_cursor(index if index >= 0 else self.count - 1)

    def action_move_card(self, step: int) -> None:
        card = self.current_card
        if card is None:
            self.app.bell()
            return
        self.post_message(self.MoveRequested(self, card.key, card.version, step, card))

    def action_select(self) -> None:
        card = self.current_card
        if card is not None:
            self.post_message(self.CardSelected(self, card))

    def on_click(self, event: events.Click) -> None:
        if self.collapsed:  # a strip shows no cards to pick: the click takes the column, its cursor stays
            self.post_message(self.Clicked(self))
            return
        index = (event.y + round(self.scroll_offset.y)) // self.card_height
        if index < self.count:
            self.post_message(self.Clicked(self))
            self.cursor = index


__all__ = ["CARD_HEIGHT", "Column", "LINES_PER_CARD", "PAGE_SIZE"]
