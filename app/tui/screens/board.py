"""The board: one `Column` per workflow column, and the only place a key press becomes a write.

Columns post `MoveRequested` / `CardSelected`; this screen turns them into
calls on the `Service` in thread workers (a key press never waits on SQL) and
pushes the results back down: fresh pages only for the two columns the move
touched, their counts adjusted by the move itself, and then every header
re-read by one grouped query in the background (which also catches moves
made by other boards on a shared database).

The screen composes its parts, each in its own module and seeing the board
only through `board_host.BoardHost`: `BoardMoves` (moves, undo, the
recount), `TriageKeys` (triage mode and the triage keys), `OnCallPanel`
(roster, acknowledge, the mail badge), `RiskWatch` (countdowns, the at-risk
snapshot and view), `LiveUpdates` (other sessions' changes) and `BoardView`
(filters, order, counts). Textual looks bindings, actions and message
handlers up on the screen, so they are listed here and `forwarded` to the
part that owns them; what is left here is the layout, the cursor and the
status line, the detail view, the palette and the help.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from textual import events, on, work

if TYPE_CHECKING:
    from app.tui.screens.detail import TicketDetail
    from widgets.triage_panel import TriagePanel
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from app.board.source import BoardSource
from app.tui.commands import BoardCommands, PaletteCommand
from app.tui.screens.board_host import WriteGate, forwarded
from app.tui.screens.board_conversation import CONVERSATION_BINDINGS, ConversationKeys
from app.tui.screens.board_layout import BoardLayout
from app.tui.screens.board_live import LiveUpdates
from app.tui.screens.board_oncall import OnCallPanel, paged_text
from app.tui.screens.board_palette import board_palette
from app.tui.screens.board_sla import RiskWatch
from app.tui.screens.board_view import BoardView
from app.tui.screens.board_writes import BoardMoves, MoveOutcome
from app.tui.screens.triage_mode import TRIAGE_BOARD_BINDINGS, TRIAGE_MODE_BINDINGS, TriageKeys
from app.service import Refused, Service
from app.config.yamlnodes import ConfigError
from widgets.card import Card
from widgets.card_styles import CardStyles
from widgets.column import Column
from widgets.key_bar import KeyBar
from widgets.status_line import StatusLine
from widgets.textual_internals import key_to_bindings, use_dirty_only_compositor
from widgets.title_bar import TitleBar


MIN_SIZE = (40, 12)
"""The smallest terminal the board draws in (columns, lines): below it, it says so."""
TOO_SMALL = f"terminal too small: triageboard needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}"


class BoardScreen(Screen[None]):
    """Six columns, the triage panel (hidden until `t`), a status line and the footer."""

    COMMANDS = {BoardCommands}

    BINDINGS = [
        *TRIAGE_MODE_BINDINGS,  # first: in triage mode they win over the board's u (undo) and r (reports)
        Binding("left,h", "focus_column(-1)", "Column left", show=False, id="board.left"),
        Binding("right,l", "focus_column(1)", "Column right", show=False, id="board.right"),
        *[Binding(b.key, f"column('{b.action}')", b.description, show=b.show, key_display=b.key_display, id=b.id)
          for b in Column.BINDINGS],
        Binding("m", "move_to", "Move to…", id="board.move_to"),
        *CONVERSATION_BINDINGS,
        Binding("slash", "filter", "Filter", key_display="/", id="board.filter"),
        Binding("u", "undo", "Undo", id="board.undo"),
        Binding("exclamation_mark", "stale_filter", "Stale only", key_display="!", id="board.stale"),
        Binding("w", "at_risk", "At risk", id="board.at_risk"),
        Binding("S", "sort_time_left", "Sort at-risk by time left", show=False, id="board.sort_time_left"),
        Binding("r", "reports", "Reports", id="board.reports"),
        Binding("z", "collapse", "Collapse", id="board.collapse"),
        Binding("D", "density", "Density", show=False, id="board.density"),
        Binding("question_mark", "help", "Help", key_display="?", id="board.help"),
        *OnCallPanel.ONCALL_BINDINGS,
        *TRIAGE_BOARD_BINDINGS,
    ]

    class DetailLoaded(Message):
        def __init__(self, detail: TicketDetail) -> None:
            super().__init__()
            self.detail = detail

    def __init__(self, service: Service, user: str, source: BoardSource, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        use_dirty_only_compositor(self)  # a move renders its two columns and the status line, not every column
        self.service = service
        self.keymap = keymap or {}
        """config.yaml's `keys:` (binding id -> keys), as the app applied it: the help names the remapped keys."""
        self.workflow = service.workflow
        self.user = user
        self.source = source
        self.undo_stack: list[str] = []
        """Keys of the cards moved in this session, newest last: `u` undoes them in turn."""
        self._columns: dict[str, Column] = {}
        self.card_styles = CardStyles(id="card-styles")
        """The card colours every column paints with."""
        self.own_versions: dict[int, int] = {}
        """Versions this board wrote or was shown after a conflict: the listener's echo of them is skipped."""
        self._shown: tuple[Column, Card | None] | None = None
        """The column and card the status line describes."""
        self.moves = BoardMoves(self)
        self.writes = WriteGate(idle=self.moves.recount_soon)
        self.triage = TriageKeys(self)
        self.oncall = OnCallPanel(self)
        self.risk = RiskWatch(self)
        self.live = LiveUpdates(self)
        self.view = BoardView(self)
        self.conversation = ConversationKeys(self)
        self.arrangement = BoardLayout(self, self._panel_width)
        self.source.sla_labels.on_missing = self.risk.sla_missing

    # -- layout ----------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.arrangement.width = self.app.size.width
        counts = self.source.counts()  # one grouped query; the first paint needs it anyway
        yield TitleBar()
        yield self.card_styles
        with Horizontal(id="columns"):
            for index, column in enumerate(self.workflow.columns):
                widget = Column(column.key, column.title, self.source, self.card_styles, count=counts[column.key],
                                limit=column.wip_limit, id=f"column-{column.key}")
                # The first column is the cursor's (on_mount): a narrow terminal shows it wide, from the first frame.
                folded = self.arrangement.starts_folded(index, column.key)
                widget.set_reactive(Column.collapsed, folded)
                widget.set_class(folded, "-collapsed")
                widget.set_reactive(Column.card_height, self.arrangement.card_height)
                yield widget
        yield self.roster_panel()
        yield StatusLine(id="status")
        yield KeyBar()
        yield Static(TOO_SMALL, id="too-small", markup=False)

    action_collapse = forwarded("arrangement", "collapse")
    action_density = forwarded("arrangement", "switch_density")

    def on_resize(self, event: events.Resize) -> None:
        """Below what the board can draw, it says so instead (and draws again once the terminal grows).
        Across `NARROW` columns, the strips change, both ways."""
        width, height = MIN_SIZE
        self.set_class(event.size.width < width or event.size.height < height, "-too-small")
        self.arrangement.resized(event.size.width)

    def panel_toggled(self) -> None:
        self.arrangement.lay_out()  # the panel takes room from the columns: a narrow board's strips may thin

    def on_mount(self) -> None:
        self.title = f"triageboard · {self.user}" if self.user else "triageboard · read-only"
        self.sub_title = self._board_label()
        first = self.columns[0]
        first.active = True
        self.show_card(first, first.current_card)  # in the first frame, not a message later
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        """Start what the first screenful does not need, so it does not wait for any of it."""
        self._load_calendar()
        self.oncall.start()
        self.count_untriaged()

    class CalendarLoaded(Message):
        """The business calendar (and its holidays) is loaded: stale marks and countdowns can be worked out."""

    @work(thread=True, group="board-calendar", exit_on_error=False)
    def _load_calendar(self) -> None:
        config = self.service.config
        try:
            config.run_deferred_checks()  # the holiday region, against the holidays library
        except ConfigError as exc:
            self.app.call_from_thread(self.app.config_failed, exc)
            return
        self.source.stale_cutoff()  # imports the holidays library and reads this year's
        self.post_message(self.CalendarLoaded())

    @on(CalendarLoaded)
    def _calendar_ready(self) -> None:
        self.source.calendar_loaded = True
        self.risk.fill_sla()  # the countdowns the first paint asked for
        if self.source.stale_rule is not None:
            for column in self.columns:
                column.invalidate()  # re-read with the stale marks
            focused = self.focused_column  # and the status line says "stale" of the selected card
            focused.post_message(focused.CardHighlighted(focused, focused.current_card))
        if self.source.sla is not None:
            self.set_interval(60, self.refresh_sla, name="sla-minute")
            self.count_at_risk()  # walks every open card: a background job

    def _board_label(self) -> str:
        demo = " · demo database" if getattr(self.app, "demo", False) else ""
        return f"{self.service.config.board.key}{demo}"


    @property
    def columns(self) -> list[Column]:
        return [self.column(state) for state in self.workflow.keys]

    def column(self, state: str) -> Column:
        """The column widget for `state` (looked up once: a DOM query on every move adds up)."""
        found = self._columns.get(state)
        if found is None:
            found = self._columns[state] = self.query_one(f"#column-{state}", Column)
        return found

    @property
    def focused_column(self) -> Column:
        """The active column: the one the keys act on (columns never hold the focus)."""
        for column in self.columns:  # by id, once each: a DOM query per key was a third of a key's handling
            if column.active:
                return column
        return self.columns[0]

    def activate(self, column: Column) -> None:
        current = self.focused_column
        if current is not column:
            current.active = False
            column.active = True
            if self.arrangement.narrow:
                self.arrangement.lay_out()  # the wide column follows the cursor

    async def action_column(self, action: str) -> None:
        """Run a column key (cursor, move, detail) on the active column."""
        await self.focused_column.run_action(action)

    @on(Column.Clicked)
    def clicked(self, event: Column.Clicked) -> None:
        event.stop()
        self.activate(event.column)

    @property
    def current_card(self) -> Card | None:
        """The card under the cursor of the focused column."""
        return self.focused_column.current_card

    def _status(self, text: str) -> None:
        self.query_one("#status", StatusLine).text = text

    @on(Column.CardHighlighted)
    def highlighted(self, event: Column.CardHighlighted) -> None:
        event.stop()  # the board's to describe; the app has nothing to do with it
        if event.column.active:  # not e.g. a live refresh keeping another column's cursor on its card
            self.show_card(event.column, event.card)

    def show_card(self, column: Column, card: Card | None) -> None:
        """The status line describes the highlighted card, and the triage panel follows it."""
        where = f"filter “{self.source.text_filter}” · " if self.source.text_filter else ""
        if card is None:
            self._status(f"{where}{column.title}: no cards")
        else:
            allowed = ", ".join(self.workflow.column(t).title for t in self.workflow.allowed(card.state))
            stale = " · stale: in this column past report.stale_after" if card.stale else ""
            self._status(f"{where}{card.key} {card.priority} {card.status} · {card.title}{stale}"
                         f"{paged_text(card)} · can move to: {allowed}")
        if (column, card) != self._shown:  # e.g. shown by `focus_card` already, before its highlight message
            self._shown = (column, card)
            self.triage.card_changed(card)

    # -- navigation ------------------------------------------------------

    def action_focus_column(self, step: int) -> None:
        columns = self.columns
        index = columns.index(self.focused_column) + step
        if 0 <= index < len(columns):
            self.activate(columns[index])

    def focus_card(self, state: str, position: int | None) -> None:
        """Put the cursor on a card (after a move: the moved card) and describe it in the same frame."""
        column = self.column(state)
        self.activate(column)
        if position is not None:
            column.cursor = position
        self.show_card(column, column.current_card)  # not a message later: the status line repaints with the columns


    # -- moving ----------------------------------------------------------

    def described(self) -> tuple[Column, Card | None] | None:
        return self._shown

    def refused_read_only(self) -> bool:
        """True (and said in one line) when this board has no team handle to write as."""
        if self.user:
            return False
        from app.config.identity import HOW_TO_SET

        self.notify(f"read-only board: no team handle to record changes by; {HOW_TO_SET}",
                    title="Read-only", severity="error", timeout=8)
        return True

    def recount(self) -> None:
        """Refresh every header from the one grouped query, off the event loop, once a burst of moves ends.

        Not the columns' when the live listener keeps them (`LiveUpdates.follows_counts`), nor then the
        untriaged figure after moves of triaged cards only (which leave it as it was): at a million
        tickets the two counts are half a second and a fifth of one of the server, run in the moment
        the other boards repaint this board's move (bench/bench_team.py)."""
        gate = self.writes
        writes, unchanged, gate.started, gate.untriaged_unchanged = gate.started, gate.untriaged_unchanged, 0, 0
        follows = self.live.follows_counts()
        if not follows:
            self.moves.count_headers()
        if not follows or not writes or writes > unchanged:
            self.count_untriaged()
        if self.source.filtered:
            self.refresh_totals()

    def bound_keys(self) -> dict[str, list[Binding]]:
        return key_to_bindings(self)

    # What the parts own: Textual looks these up on the screen (`forwarded` hands them over).
    on_column_move_requested = forwarded("moves", "move_requested")
    action_move_to = forwarded("moves")
    action_undo = forwarded("moves")
    label_pages = forwarded("moves")
    apply_counts = forwarded("moves")
    on_moved = forwarded("moves", "moved")
    on_move_failed = forwarded("moves", "move_failed")
    on_counted = forwarded("moves", "counted")

    action_filter = forwarded("view")
    action_stale_filter = forwarded("view")
    refresh_totals = forwarded("view")
    show_counts = forwarded("view")
    count_untriaged = forwarded("view")
    action_switch_order = forwarded("view")
    action_untriaged_filter = forwarded("view")
    on_filtered = forwarded("view", "filtered")
    on_recounted = forwarded("view", "recounted")
    on_filter_bar_changed = forwarded("view", "filter_typed")
    on_filter_bar_submitted = forwarded("view", "filter_submitted")
    on_filter_bar_cancelled = forwarded("view", "filter_cancelled")
    on_totalled = forwarded("view", "totalled")

    action_at_risk = forwarded("risk")
    action_sort_time_left = forwarded("risk")
    refresh_sla = forwarded("risk")
    count_at_risk = forwarded("risk")
    refresh_risk_view = forwarded("risk")
    patch_risk = forwarded("risk")
    on_sla_computed = forwarded("risk", "sla_computed")
    on_risk_counted = forwarded("risk", "risk_counted")

    changes_heard = forwarded("live")
    live_busy = forwarded("live", "busy")
    on_live_applied = forwarded("live", "live_applied")

    action_roster = forwarded("oncall")
    action_acknowledge = forwarded("oncall")
    roster_panel = forwarded("oncall", "panel")
    refresh_roster = forwarded("oncall")
    count_outbox = forwarded("oncall")
    on_ack_done = forwarded("oncall", "ack_done")
    on_outbox_counted = forwarded("oncall", "outbox_counted")

    action_reply = forwarded("conversation")
    action_note = forwarded("conversation")
    action_edit = forwarded("conversation")

    action_toggle_triage = forwarded("triage")
    action_leave_triage = forwarded("triage")
    action_triage = forwarded("triage")
    action_override_priority = forwarded("triage")
    action_clear_override = forwarded("triage")
    action_intake = forwarded("triage")
    action_assign = forwarded("triage")
    action_new_ticket = forwarded("triage")
    action_rank = forwarded("triage")

    @property
    def triage_panel(self) -> TriagePanel:
        return self.triage.panel

    def _panel_width(self) -> int:
        return (self.triage_panel.styles.width.cells or 0) if self.triage.triage_on else 0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.triage.check_action(action)

    def update_sub_title(self) -> None:
        parts = [self._board_label(), *self.view.sub_title_parts(), *self.risk.sub_title_parts()]
        sub_title = " · ".join(parts)
        if sub_title != self.sub_title:
            self.sub_title = sub_title

    # -- detail ----------------------------------------------------------

    @on(Column.CardSelected)
    def card_selected(self, event: Column.CardSelected) -> None:
        event.stop()
        self.open_detail(event.card)

    def open_detail(self, card: Card) -> None:
        self._detail_worker(card.key)

    @work(thread=True, exclusive=True, group="board-detail", exit_on_error=False)
    def _detail_worker(self, key: str, then: Callable[[TicketDetail], None] | None = None) -> None:
        from app.tui.screens.detail import load_detail  # the detail view's reads, in this worker

        try:
            detail = load_detail(self.service, key)
            if then is None:
                self.service.seen(key, by=self.user)  # opening it is a look: the "answered" mark goes
        except Refused as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        if then is not None:  # the open detail view, read afresh after a write from it
            return self.app.call_from_thread(then, detail)
        self.post_message(self.DetailLoaded(detail))

    @on(DetailLoaded)
    def detail_loaded(self, message: DetailLoaded) -> None:
        from app.tui.screens.detail import CardDetailScreen  # the DataTable is imported on first use, not at start-up

        self.app.push_screen(CardDetailScreen(message.detail, actions=self.conversation, reload=self._detail_worker))

    # -- reports ---------------------------------------------------------

    def action_reports(self) -> None:
        from app.tui.screens.reports import ReportsScreen  # plotext is loaded only when reports are opened

        self.app.push_screen(ReportsScreen(self.service.config, self.service.clock))

    # -- command palette -------------------------------------------------

    def palette_commands(self) -> list[PaletteCommand]:
        """What ctrl+p offers (`board_palette`)."""
        return board_palette(self)

    # -- help ------------------------------------------------------------

    def key_help(self) -> list:
        """Every active binding, keys of one action joined: what the footer shows and what it hides."""
        from app.tui.screens.help import board_key_help

        return board_key_help(self.active_bindings, self.app.get_key_display, self.triage.key_help, self.keymap)

    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.key_help()))


__all__ = ["BoardScreen", "MoveOutcome"]
