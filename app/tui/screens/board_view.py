"""What the board shows of its cards: `/` query, `!` stale, `U` untriaged only, `O` the order, and the counts.

A part the board screen composes (`BoardView(board)`), seeing the board only
through `BoardHost`. `/` opens the filter line (`widgets.filter_bar`): each
pause in typing checks the query (`app.board.query`, one line under the input
when it cannot run, the last good filter kept) and filters the columns, each
reading only its window of matching cards (`BoardSource.page`). A filter's
first pages and counts are read in a thread worker on a copy of the board's
source, so the board changes view in one frame, when they are in; the whole
counts beside a filtered view's follow from a second worker, and the header's
untriaged figure from a third.
"""

from __future__ import annotations

import msgspec
from textual.message import Message
from textual.worker import get_current_worker

from app.tui.commands import PaletteCommand
from app.tui.screens.board_host import BoardHost, hosted_work
from widgets.card import Card
from widgets.column import PAGE_SIZE, Column


class Filtered(Message):
    """A filter's columns: their counts, and (from `/`) their first pages, read in the worker.

    `exact` False: a column whose first page is full has `counts` = that page,
    a lower bound; `Recounted` brings the exact counts after.
    """

    def __init__(self, text: str, counts: dict[str, int], stale_only: bool = False,
                 pages: dict[str, list[Card]] | None = None, exact: bool = True) -> None:
        super().__init__()
        self.text = text
        self.counts = counts
        self.stale_only = stale_only
        self.pages = pages or {}
        self.exact = exact


class Recounted(Message):
    """The exact counts of a filter whose cards were painted from their first pages."""

    def __init__(self, text: str, stale_only: bool, counts: dict[str, int]) -> None:
        super().__init__()
        self.text = text
        self.stale_only = stale_only
        self.counts = counts


class Totalled(Message):
    def __init__(self, totals: dict[str, int]) -> None:
        super().__init__()
        self.totals = totals


class BoardView:
    """The filters and the order of one board, its filtered view's totals and its untriaged figure."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host
        self.untriaged: int | None = None
        """How many tickets in the first column still need triage (the header shows it)."""
        self._asked = ""
        """The `/` query last sent to the filter worker (its counts may not be in yet)."""

    def action_filter(self) -> None:
        """`/`: the filter line under the columns (mounted on first use: the first paint never pays for it)."""
        from widgets.filter_bar import FilterBar

        found = self.host.query(FilterBar)
        if found:
            found.first().open(self.host.source.text_filter)
            return
        self.host.mount(FilterBar(self.host.source.text_filter, id="filter-bar"), before="#status")
        self._warm_parser()

    @hosted_work(group="board-query-parser")
    def _warm_parser(self) -> None:
        """Import lark and build the grammar's tables off the event loop, while the first word is typed."""
        from app.board.query import parse

        parse("")

    def _checked(self, bar, text: str) -> bool:
        """Whether `text` is a query the board can run; if not, the bar says why in one line."""
        from app.board.query import QueryError, parse

        try:
            parse(text, states=self.host.workflow.keys, typing=True)
        except QueryError as exc:
            bar.show_error(str(exc))
            return False
        bar.show_error("")
        return True

    def filter_typed(self, message) -> None:
        """Typing paused: a good query filters the columns now; a bad one keeps the last good filter."""
        text = message.text if message.text.strip() else ""
        if self._checked(message.bar, text) and text != self._asked:
            self.apply_filter(text)

    def filter_submitted(self, message) -> None:
        text = message.text if message.text.strip() else ""
        if not self._checked(message.bar, text):
            return
        if text != self._asked:
            self.apply_filter(text)
        message.bar.close()

    def filter_cancelled(self, message) -> None:
        """Escape: the filter goes and the line closes."""
        from widgets.filter_bar import FilterBar

        self.host.query_one(FilterBar).close()
        if self._asked or self.host.source.text_filter:
            self.apply_filter("")

    def apply_filter(self, text: str) -> None:
        self._asked = text
        self._filter_worker(text, self.host.source.stale_only)

    def action_stale_filter(self) -> None:
        """Toggle the stale filter: only cards that sat in their column past `report.stale_after`."""
        source = self.host.source
        source.at_risk_only = False  # one view at a time: the at-risk view pages from its snapshot
        self._filter_worker(source.text_filter, not source.stale_only)

    @hosted_work(group="board-filter", exclusive=True)
    def _filter_worker(self, text: str, stale_only: bool = False) -> None:
        """The first page of every column, painted at once; then the exact counts, if a page was full.

        A word on a million tickets may match 200,000 of them: counting those
        is half a second, finding each column's first 32 in board order a few
        milliseconds, so the cards come first and the headers say "32+" until
        the counts are in.
        """
        worker = get_current_worker()
        source = msgspec.structs.replace(self.host.source, text_filter=text, stale_only=stale_only)
        pages = {state: source.page(state, 0, PAGE_SIZE) for state in self.host.workflow.keys}
        if worker.is_cancelled:  # a newer query is on its way
            return
        exact = all(len(cards) < PAGE_SIZE for cards in pages.values())
        self.host.post_message(Filtered(text, {state: len(cards) for state, cards in pages.items()}, stale_only,
                                        pages, exact))

    @hosted_work(group="board-recount", exclusive=True)
    def _recount_worker(self, text: str, stale_only: bool) -> None:
        counts = msgspec.structs.replace(self.host.source, text_filter=text, stale_only=stale_only).counts()
        if not get_current_worker().is_cancelled:
            self.host.post_message(Recounted(text, stale_only, counts))

    def recounted(self, message: Recounted) -> None:
        source = self.host.source
        if (message.text, message.stale_only) != (source.text_filter, source.stale_only):
            return  # another filter came in meanwhile
        for column in self.host.columns:
            column.count = message.counts[column.state]
            column.at_least = False

    def filtered(self, message: Filtered) -> None:
        host = self.host
        host.source.text_filter = message.text
        host.source.stale_only = message.stale_only
        host.update_sub_title()
        for column in host.columns:
            column.set_reactive(Column.cursor, 0)
            column.count = message.counts[column.state]
            first = message.pages.get(column.state)
            column.at_least = not message.exact and first is not None and len(first) >= PAGE_SIZE
            column.invalidate({0: first} if first is not None else None)
        focused = host.focused_column
        focused.post_message(Column.CardHighlighted(focused, focused.current_card))
        # Once the cards are on the screen: the counting must not take the interpreter from their paint.
        if not message.exact:
            host.call_after_refresh(self._recount_worker, message.text, message.stale_only)
        host.call_after_refresh(self.refresh_totals)

    def show_counts(self, counts: dict[str, int]) -> None:
        """Every column re-read from its top with these counts, the text and stale filters as they are."""
        source = self.host.source
        self.filtered(Filtered(source.text_filter, counts, source.stale_only))

    def refresh_totals(self) -> None:
        """The whole counts beside a filtered view's (cleared at once when nothing is filtered)."""
        if self.host.source.filtered:
            self._totals_worker()
        else:
            for column in self.host.columns:
                column.total = None

    @hosted_work(group="board-totals", exclusive=True)
    def _totals_worker(self) -> None:
        totals = self.host.source.totals()
        if not get_current_worker().is_cancelled:
            self.host.post_message(Totalled(totals))

    def totalled(self, message: Totalled) -> None:
        filtered = self.host.source.filtered
        for column in self.host.columns:
            column.total = message.totals.get(column.state, 0) if filtered else None

    # -- order -------------------------------------------------------------

    def action_switch_order(self) -> None:
        order = "rank" if self.host.source.order_of(self.host.focused_column.state) == "priority" else "priority"
        self._order_worker(order, self.host.current_card)

    @hosted_work(group="board-order", exclusive=True)
    def _order_worker(self, order: str, card: Card | None) -> None:
        source = msgspec.structs.replace(self.host.source, orders={state: order for state in self.host.workflow.keys})
        position = source.position_of(card.state, card.id) if card is not None else None
        self.host.app.call_from_thread(self._order_switched, order, position)

    def _order_switched(self, order: str, position: int | None) -> None:
        for column in self.host.columns:
            self.host.source.orders[column.state] = order
            if column is not self.host.focused_column:
                column.set_reactive(type(column).cursor, 0)
            column.invalidate()
        if position is not None:
            self.host.focused_column.cursor = position
        self.host.update_sub_title()
        self.host.notify("manual rank (J/K move a card)" if order == "rank" else
                         "priority of work, then manual rank", title="Board order")

    # -- untriaged -----------------------------------------------------------

    def action_untriaged_filter(self) -> None:
        self._untriaged_filter_worker(not self.host.source.untriaged_only)

    @hosted_work(group="board-filter", exclusive=True)
    def _untriaged_filter_worker(self, on: bool) -> None:
        counts = msgspec.structs.replace(self.host.source, untriaged_only=on).counts()
        self.host.app.call_from_thread(self._untriaged_filtered, on, counts)

    def _untriaged_filtered(self, on: bool, counts: dict[str, int]) -> None:
        self.host.source.untriaged_only = on
        self.show_counts(counts)
        if on:
            self.host.activate(self.host.column(self.host.workflow.initial))
        self.count_untriaged()

    def count_untriaged(self) -> None:
        self._untriaged_count_worker()

    @hosted_work(group="board-untriaged", exclusive=True)
    def _untriaged_count_worker(self) -> None:
        count = self.host.source.untriaged_count()
        if not get_current_worker().is_cancelled:
            self.host.app.call_from_thread(self._untriaged_counted, count)

    def _untriaged_counted(self, count: int) -> None:
        if count != self.untriaged:
            self.untriaged = count
            self.host.update_sub_title()

    def _triage_parts(self) -> list[str]:
        """How many need triage, the untriaged filter, manual order."""
        parts = []
        if self.untriaged is not None:
            parts.append(f"{self.untriaged:,} untriaged")
        if self.host.source.untriaged_only:
            parts.append("untriaged only")
        if self.host.source.order_of(self.host.workflow.initial) == "rank":
            parts.append("manual order")
        return parts

    # -- header and palette ------------------------------------------------

    def sub_title_parts(self) -> list[str]:
        """The header's view parts: the triage figure and filter, the order, the text and stale filters."""
        source = self.host.source
        parts = self._triage_parts()
        if source.text_filter:
            parts.append(f"filter: {source.text_filter}")  # the title bar shows text, never markup
        if source.stale_only:
            parts.append("stale only")
        return parts

    def palette_commands(self) -> list[PaletteCommand]:
        """The order and the untriaged filter (after the triage commands: each changes every column)."""
        source = self.host.source
        manual = source.order_of(self.host.focused_column.state) == "rank"
        return [PaletteCommand("Order by priority of work" if manual else "Order by manual rank",
                               self.action_switch_order, "the order of every column"),
                PaletteCommand("Show every card again" if source.untriaged_only else "Show only untriaged tickets",
                               self.action_untriaged_filter, "first-column tickets with triage to do")]


__all__ = ["BoardView", "Filtered", "Recounted", "Totalled"]
