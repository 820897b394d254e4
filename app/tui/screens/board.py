"""The board: one `Column` per workflow column, and the only place a key press becomes a write.

Columns post `MoveRequested` / `CardSelected`; this screen turns them into
calls on the `Service` in thread workers (a key press never waits on SQL) and
pushes the results back down: fresh pages only for the two columns the move
touched, their counts adjusted by the move itself, and then every header
re-read by one grouped query in the background (which also catches moves
made by other boards on a shared database).
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Callable

import msgspec
from textual import events, on, work
from textual.timer import Timer
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from app.tui.screens.detail import TicketDetail
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from app.sla.countdown import AtRisk, RiskEntry
from app.board.source import BoardSource
from app.tui.commands import BoardCommands, PaletteCommand, move_command
from app.tui.screens.board_oncall import OnCallBoard, paged_text
from app.tui.screens.triage_mode import TRIAGE_BOARD_BINDINGS, TRIAGE_MODE_BINDINGS, TriageMode
from app.service import Conflict, MoveResult, Refused, Service, write_error
from app.tui.ui_state import DENSITIES, load_collapsed, load_density, save_collapsed, save_density
from app.config.yamlnodes import ConfigError
from widgets.card import Card
from widgets.card_styles import CardStyles
from widgets.column import LINES_PER_CARD, PAGE_SIZE, Column
from widgets.key_bar import KeyBar
from widgets.status_line import StatusLine
from widgets.textual_internals import on_event_loop
from widgets.title_bar import TitleBar


MIN_SIZE = (40, 12)
"""The smallest terminal the board draws in (columns, lines): below it, it says so."""
TOO_SMALL = f"terminal too small: triageboard needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}"

NARROW = 100
"""A terminal this many columns wide or narrower shows the cursor's column wide and the others as strips:
six columns of 16 cells showed a cut key and three letters of title."""
STRIP_WIDTHS = (9, 5, 3)
"""Strip widths in a narrow terminal, widest first (triageboard.tcss: `-strips-N`): the widest that
leaves the wide column `WIDE_ROOM` cells."""
WIDE_ROOM = 30


class MoveOutcome(msgspec.Struct):
    """What a finished write tells the board (built in the worker thread)."""

    key: str
    ticket_id: int
    source: str
    target: str
    position: int | None
    """Where the card now sits in the target column (None: filtered out)."""
    warnings: tuple[str, ...] = ()
    undo: bool = False
    pages: dict[str, dict[int, list[Card]]] = msgspec.field(default_factory=dict)
    """Fresh pages of the two columns around their cursors, read in the worker."""
    risky: tuple[RiskEntry, ...] = ()
    """The moved card's entry in the at-risk snapshot, if it is at risk now."""


class BoardScreen(OnCallBoard, TriageMode, Screen[None]):
    """Six columns, the triage panel (hidden until `t`), a status line and the footer."""

    COMMANDS = {BoardCommands}

    BINDINGS = [
        *TRIAGE_MODE_BINDINGS,  # first: in triage mode they win over the board's u (undo) and r (reports)
        Binding("left,h", "focus_column(-1)", "Column left", show=False, id="board.left"),
        Binding("right,l", "focus_column(1)", "Column right", show=False, id="board.right"),
        *[Binding(b.key, f"column('{b.action}')", b.description, show=b.show, key_display=b.key_display, id=b.id)
          for b in Column.BINDINGS],
        Binding("m", "move_to", "Move to…", id="board.move_to"),
        Binding("slash", "filter", "Filter", key_display="/", id="board.filter"),
        Binding("u", "undo", "Undo", id="board.undo"),
        Binding("exclamation_mark", "stale_filter", "Stale only", key_display="!", id="board.stale"),
        Binding("w", "at_risk", "At risk", id="board.at_risk"),
        Binding("S", "sort_time_left", "Sort at-risk by time left", show=False, id="board.sort_time_left"),
        Binding("r", "reports", "Reports", id="board.reports"),
        Binding("z", "collapse", "Collapse", id="board.collapse"),
        Binding("D", "density", "Density", show=False, id="board.density"),
        Binding("question_mark", "help", "Help", key_display="?", id="board.help"),
        *OnCallBoard.ONCALL_BINDINGS,
        *TRIAGE_BOARD_BINDINGS,
    ]

    class Moved(Message):
        def __init__(self, outcome: MoveOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    class MoveFailed(Message):
        def __init__(self, message: str, key: str, conflict: bool, counts: dict[str, int] | None,
                     states: tuple[str, ...], fresh: tuple[str, int | None] | None = None) -> None:
            super().__init__()
            self.message = message
            self.key = key
            self.conflict = conflict
            self.counts = counts
            self.states = states
            self.fresh = fresh
            """A conflict: the fresh card's column and position there (the cursor goes to it)."""

    class SlaComputed(Message):
        """Countdowns for these cards are in `source.sla_labels`; their at-risk entries changed."""

        def __init__(self, ids: list[int], risky: list[RiskEntry], gone: list[int]) -> None:
            super().__init__()
            self.ids = ids
            self.ids_set = set(ids)
            self.risky = risky
            self.gone = gone

    class RiskCounted(Message):
        """A fresh at-risk snapshot of the whole board."""

        def __init__(self, snapshot: AtRisk, seconds: float) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.seconds = seconds

    class LiveApplied(Message):
        """What another session's changes did to the board, worked out in a thread."""

        def __init__(self, touched: set[str], counts: dict[str, int], positions: dict[str, int | None],
                     risky: list[RiskEntry], gone: list[int], departed: dict[str, str] | None = None) -> None:
            super().__init__()
            self.touched = touched
            self.counts = counts
            self.positions = positions
            self.risky = risky
            self.gone = gone
            self.departed = departed or {}
            """Column -> what became of the card its cursor was on, when another session took it away."""

    class Counted(Message):
        def __init__(self, text_filter: str, counts: dict[str, int]) -> None:
            super().__init__()
            self.text_filter = text_filter
            self.counts = counts

    class DetailLoaded(Message):
        def __init__(self, detail: TicketDetail) -> None:
            super().__init__()
            self.detail = detail

    class Filtered(Message):
        def __init__(self, text: str, counts: dict[str, int], stale_only: bool = False) -> None:
            super().__init__()
            self.text = text
            self.counts = counts
            self.stale_only = stale_only

    def __init__(self, service: Service, user: str, source: BoardSource) -> None:
        super().__init__()
        self.service = service
        self.workflow = service.workflow
        self.user = user
        self.source = source
        self.undo_stack: list[str] = []
        """Keys of the cards moved in this session, newest last: `u` undoes them in turn."""
        self._writing = False
        self._after_write: deque[Callable[[], None]] = deque()
        self._columns: dict[str, Column] = {}
        self.card_styles = CardStyles(id="card-styles")
        """The card colours every column paints with."""
        self._own_versions: dict[int, int] = {}
        """Versions this board wrote or was shown after a conflict: the listener's echo of them is skipped."""
        self._heard: list = []
        self._live_timer = None
        self._live_busy = False
        self._risk_patches: dict[int, RiskEntry | None] | None = None
        """Patches made while a snapshot is being taken, re-applied to it when it arrives."""
        self._risk_every = 60.0
        self._last_write = 0.0
        self._recount_timer: Timer | None = None
        self._shown: tuple[Column, Card | None] | None = None
        """The column and card the status line describes."""
        self.source.sla_labels.on_missing = self._sla_missing

    # -- layout ----------------------------------------------------------

    def compose(self) -> ComposeResult:
        board = self.service.config.board.key
        chosen = load_collapsed(board)
        self._collapsed = chosen if chosen is not None else {c.key for c in self.workflow.columns if c.collapsed}
        """The user's `z` choices (saved): what a wide terminal shows, whatever a narrow one did meanwhile."""
        self._density = load_density(board)
        self._width = self.app.size.width
        counts = self.source.counts()  # one grouped query; the first paint needs it anyway
        yield TitleBar()
        yield self.card_styles
        with Horizontal(id="columns"):
            for index, column in enumerate(self.workflow.columns):
                widget = Column(column.key, column.title, self.source, self.card_styles, count=counts[column.key],
                                limit=column.wip_limit, id=f"column-{column.key}")
                # The first column is the cursor's (on_mount): a narrow terminal shows it wide, from the first frame.
                folded = index > 0 if self.narrow else column.key in self._collapsed
                widget.set_reactive(Column.collapsed, folded)
                widget.set_class(folded, "-collapsed")
                widget.set_reactive(Column.card_height, LINES_PER_CARD[self._density])
                yield widget
        yield self.roster_panel()
        yield StatusLine(id="status")
        yield KeyBar()
        yield Static(TOO_SMALL, id="too-small", markup=False)

    def action_collapse(self) -> None:
        """`z`: the column under the cursor becomes a strip with its count, or wide again; kept for next time.

        In a narrow terminal the cursor's column is wide whatever the choice: `z` then records it for
        when the terminal is wide again, and says so.
        """
        column = self.focused_column
        fold = column.state not in self._collapsed
        self._collapsed = self._collapsed | {column.state} if fold else self._collapsed - {column.state}
        save_collapsed(self.service.config.board.key, self._collapsed)
        if self.narrow:
            self._status(f"{column.title} will be {'a strip' if fold else 'wide'} above {NARROW} columns: "
                         f"this narrow terminal shows the cursor's column wide and the others as strips")
            return
        column.collapsed = fold
        self._status(f"{column.title} collapsed: z widens it" if fold else f"{column.title} widened")

    def action_density(self) -> None:
        """`D`: one line a card (key, title, countdown), twice the cards in view; or two again. Kept for next time."""
        self._density = DENSITIES[(DENSITIES.index(self._density) + 1) % len(DENSITIES)]
        save_density(self.service.config.board.key, self._density)
        for column in self.columns:
            column.card_height = LINES_PER_CARD[self._density]
        lines = "one line" if LINES_PER_CARD[self._density] == 1 else "two lines"
        self._status(f"density: {self._density}, {lines} a card (D switches)")

    @property
    def narrow(self) -> bool:
        """The terminal is too narrow for every column: only the cursor's is wide."""
        return self._width <= NARROW

    def _lay_out(self) -> None:
        """Which columns are strips: in a narrow terminal every one but the cursor's, else the user's `z`
        choices (never changed here, so they come back when the terminal widens)."""
        narrow = self.narrow
        focused = self.focused_column
        for column in self.columns:
            column.collapsed = column is not focused if narrow else column.state in self._collapsed
        room = self._width
        if self.triage_on:
            room -= self.triage_panel.styles.width.cells or 0
        strips = len(self.columns) - 1
        width = next((w for w in STRIP_WIDTHS if room - w * strips >= WIDE_ROOM), STRIP_WIDTHS[-1])
        columns = self.query_one("#columns")
        for each in STRIP_WIDTHS[1:]:
            columns.set_class(narrow and width == each, f"-strips-{each}")

    def on_resize(self, event: events.Resize) -> None:
        """Below what the board can draw, it says so instead (and draws again once the terminal grows).
        Across `NARROW` columns, the strips change, both ways."""
        width, height = MIN_SIZE
        self.set_class(event.size.width < width or event.size.height < height, "-too-small")
        self._width = event.size.width
        self._lay_out()

    def action_toggle_triage(self) -> None:
        super().action_toggle_triage()
        self._lay_out()  # the panel takes room from the columns: a narrow board's strips may thin

    def on_mount(self) -> None:
        self.title = f"triageboard · {self.user}" if self.user else "triageboard · read-only"
        self.sub_title = self._board_label()
        first = self.columns[0]
        first.active = True
        self._show_card(first, first.current_card)  # in the first frame, not a message later
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        """Start what the first screenful does not need, so it does not wait for any of it."""
        self._load_calendar()
        self.start_oncall()
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
        self._fill_sla()  # the countdowns the first paint asked for
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
            if self.narrow:
                self._lay_out()  # the wide column follows the cursor

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
            self._show_card(event.column, event.card)

    def _show_card(self, column: Column, card: Card | None) -> None:
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
            self.triage_card_changed(card)

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
        self._show_card(column, column.current_card)  # not a message later: the status line repaints with the columns

    # -- moving ----------------------------------------------------------

    @on(Column.MoveRequested)
    def move_requested(self, event: Column.MoveRequested) -> None:
        event.stop()
        if self._writing:
            # The card under the cursor is about to change; replay the key on the fresh board.
            step = event.step
            self._after_write.append(lambda: self.focused_column.action_move_card(step))
            return
        shown = self._shown
        if shown is not None and shown[0] is event.column and shown[1] is not None and shown[1].id != event.card.id:
            # The highlight and the status line were about to change cards (a refresh in flight): act on
            # nothing the user has not seen selected; they are described together now.
            self._show_card(event.column, event.card)
            self.notify(f"the board changed under the cursor: {event.card.key} is selected now; press again "
                        f"to move it", title="Not moved", severity="warning")
            return
        target = self.workflow.neighbour(event.card.state, event.step)
        if target is None:
            side = "first" if event.step < 0 else "last"
            self.notify(f"{event.key} is already in the {side} column", title="Move refused", severity="error")
            return
        self.move_card_to(event.card, target)

    def action_move_to(self) -> None:
        card = self.current_card
        if card is None:
            self.app.bell()
            return
        if not self.workflow.allowed(card.state):
            self.notify(f"no moves are allowed from {self.workflow.column(card.state).title}",
                        title="Move refused", severity="error")
            return

        def picked(target: str | None) -> None:
            if target:
                self.move_card_to(card, target)

        from app.tui.screens.pickers import MovePicker  # the dialogs load when first opened, not with the board

        self.app.push_screen(MovePicker(self.workflow, card.key, card.state), picked)

    def move_card_to(self, card: Card, target: str) -> None:
        """Ask for a hold reason when the target needs one, then write.

        Only an allowed move asks: a forbidden one goes straight to the service
        so the refusal (with the allowed moves) comes from the one write path.
        """
        column = self.workflow.column(target)
        if column.is_hold and target in self.workflow.allowed(card.state):
            def reason(hold: str | None) -> None:
                if hold:
                    self.write_move(card, target, hold)

            from app.tui.screens.pickers import HoldReasonPicker

            self.app.push_screen(HoldReasonPicker(self.workflow, card.key, target), reason)
        else:
            self.write_move(card, target, None)

    def refused_read_only(self) -> bool:
        """True (and said in one line) when this board has no team handle to write as."""
        if self.user:
            return False
        from app.config.identity import HOW_TO_SET

        self.notify(f"read-only board: no team handle to record changes by; {HOW_TO_SET}",
                    title="Read-only", severity="error", timeout=8)
        return True

    def write_move(self, card: Card, target: str, hold_reason: str | None) -> None:
        if self.refused_read_only():
            return
        self._writing = True
        self._last_write = time.monotonic()
        self._move_worker(card, target, hold_reason)

    # Writes are serialised by `_writing` rather than `exclusive=True`: cancelling a
    # thread worker cannot stop a transaction, and a second move of the same card
    # must see the first one's new version.
    @work(thread=True, group="board-write", exit_on_error=False)
    def _move_worker(self, card: Card, target: str, hold_reason: str | None) -> None:
        try:
            result = self.service.move(card.key, target, by=self.user, hold_reason=hold_reason,
                                       expected_version=card.version)
        except Exception as exc:  # noqa: BLE001 - a refusal, or anything else: said in one line, never a stuck board
            self._post_failure(exc, card.key, (card.state, target))
        else:
            self._post_moved(result, card.state, target)

    def action_undo(self) -> None:
        if self._writing:
            self._after_write.append(self.action_undo)
            return
        if not self.undo_stack:
            self.notify("no move to undo in this session", severity="warning")
            return
        if self.refused_read_only():
            return
        self._writing = True
        self._undo_worker(self.undo_stack.pop())

    @work(thread=True, group="board-write", exit_on_error=False)
    def _undo_worker(self, key: str) -> None:
        try:
            before = self.service.get(key).state
            result = self.service.undo(key, by=self.user)
        except Exception as exc:  # noqa: BLE001 - as in `_move_worker`
            self._post_failure(exc, key, ())
        else:
            self._post_moved(result, before, result.ticket.state, undo=True)

    def _post_moved(self, result: MoveResult, source: str, target: str, undo: bool = False) -> None:
        ticket = result.ticket
        self._own_versions[ticket.id] = ticket.version
        risky: list[RiskEntry] = []
        # A move that changed the requester's status mailed them: a response, so the clocks moved on
        # (the first response met, the next update due): worked out afresh, as `ticket show` does.
        told = (result.history is not None and ticket.last_requester_update is not None
                and ticket.last_requester_update == result.history.at)
        if told or not (self.source.clock_unchanged(source, target)
                        and self.source.sla_labels.carry(ticket.id, ticket.version)):
            _, risky, _ = self.source.evaluate_sla([ticket.id])  # the moved card's countdown, before its page is read
        else:  # the same countdown; in the at-risk snapshot it only changes column
            entry = self.source.at_risk.entries.get(ticket.id)
            risky = [msgspec.structs.replace(entry, state=target)] if entry is not None else []
        position = self.source.position_of(target, ticket.id)
        # Read the pages the repaint will need here, in the worker, not in render_line on the event loop.
        # Every page in view (a compact column shows more than one of a tall terminal), as it will scroll.
        wanted = {target: {*self.column(target).pages_in_view(position or 0)}}
        wanted.setdefault(source, set()).update(
            {self.column(source).page_number(), *self.column(source).pages_in_view()})
        pages: dict[str, dict[int, list[Card]]] = {}
        for state, numbers in wanted.items():
            for number in sorted(numbers):
                pages.setdefault(state, {})[number] = self.source.page(state, number * PAGE_SIZE, PAGE_SIZE)
        self._label_pages(pages)
        outcome = MoveOutcome(key=ticket.key, ticket_id=ticket.id, source=source, target=target,
                              position=position, warnings=result.warnings, undo=undo, pages=pages,
                              risky=tuple(risky))
        self.post_message(self.Moved(outcome))

    def _label_pages(self, pages: dict[str, dict[int, list[Card]]]) -> None:
        """Countdowns for cards that shifted into the fresh pages unlabelled (usually one), here in the worker."""
        labels = self.source.sla_labels
        wanted = {card.id for by_number in pages.values() for cards in by_number.values() for card in cards
                  if card.id in labels.missing}
        if not wanted:
            return
        found, _, _ = self.source.evaluate_sla(sorted(wanted))
        for by_number in pages.values():
            for number, cards in by_number.items():
                by_number[number] = [msgspec.structs.replace(card, sla_label=found[card.id].label,
                                                             sla_style=found[card.id].style)
                                     if card.id in found else card for card in cards]

    def _post_failure(self, exc: Exception, key: str, states: tuple[str, ...]) -> None:
        """Hand a failed write to the board, which ends the write (`_write_done`) whatever the error."""
        if not isinstance(exc, Refused):
            self.post_message(self.MoveFailed(write_error(key, exc), key, False, None, states, None))
            return
        conflict = isinstance(exc, Conflict)
        fresh = None
        if conflict:
            states = (*states, exc.ticket.state)
            self._own_versions[exc.ticket.id] = exc.ticket.version  # shown now: its echo needs no refresh
            self.source.evaluate_sla([exc.ticket.id])
            fresh = (exc.ticket.state, self.source.position_of(exc.ticket.state, exc.ticket.id))
        self.post_message(self.MoveFailed(str(exc), key, conflict, self.source.counts() if conflict else None,
                                          states, fresh))

    @on(Moved)
    def moved(self, message: Moved) -> None:
        message.stop()  # posted to this screen for this screen
        outcome = message.outcome
        if outcome.position is not None and outcome.source != outcome.target:
            # Our own committed move: exact, and free. Other writers are caught by the recount.
            self.column(outcome.source).count -= 1
            self.column(outcome.target).count += 1
        if outcome.source != outcome.target and self.column(outcome.source).total is not None:
            self.column(outcome.source).total -= 1  # the whole counts too (the recount re-reads them)
            self.column(outcome.target).total += 1
        for state in {outcome.source, outcome.target}:
            self.column(state).invalidate(outcome.pages.get(state))
        if not outcome.undo:
            self.undo_stack.append(outcome.key)
        self._patch_risk(outcome.risky, [] if outcome.risky else [outcome.ticket_id])
        self.focus_card(outcome.target, outcome.position)
        for warning in outcome.warnings:
            self.notify(warning, title="Moved, with a warning", severity="warning")
        if outcome.undo:
            self.notify(f"{outcome.key} is back in {self.workflow.column(outcome.target).title}", title="Undone")
        self._write_done()

    @on(MoveFailed)
    def move_failed(self, message: MoveFailed) -> None:
        title = "Changed elsewhere" if message.conflict else "Move refused"
        self.notify(message.message, title=title, severity="error", timeout=8)
        if message.counts is not None:
            self._apply_counts(message.counts)
        for state in set(message.states):
            self.column(state).invalidate()
        if message.fresh is not None:
            self.focus_card(*message.fresh)  # the card as it now is, where it now is
        self._write_done()

    RECOUNT_AFTER = 0.3
    """Seconds after the last write before the headers are re-read: the recount is for other writers'
    moves (the live listener hears those too), and run at once it would take the interpreter from the
    repaint of the move just made."""

    def _write_done(self) -> None:
        self._writing = False
        if self._after_write:
            self._after_write.popleft()()
        elif self._recount_timer is None:
            self._recount_timer = self.set_timer(self.RECOUNT_AFTER, self._recount_due)
        else:
            self._recount_timer.reset()

    def _recount_due(self) -> None:
        self._recount_timer = None
        self.recount()

    def recount(self) -> None:
        """Refresh every header from the one grouped query, off the event loop, once a burst of moves ends."""
        self._count_worker(self.source.text_filter)
        self.count_untriaged()
        if self.source.filtered:
            self.refresh_totals()

    @work(thread=True, exclusive=True, group="board-counts", exit_on_error=False)
    def _count_worker(self, text_filter: str) -> None:
        # keeps the orders and the stale filter
        counts = msgspec.structs.replace(self.source, text_filter=text_filter).counts()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Counted(text_filter, counts))

    @on(Counted)
    def counted(self, message: Counted) -> None:
        if message.text_filter == self.source.text_filter and not self._writing:
            self._apply_counts(message.counts)

    def _apply_counts(self, counts: dict[str, int]) -> None:
        """Headers only: a column whose count is unchanged does not repaint."""
        for state, count in counts.items():
            self.column(state).count = count

    # -- header ----------------------------------------------------------

    # -- response targets --------------------------------------------------

    def sla_sub_title_parts(self) -> list[str]:
        """The header's response-target parts: the at-risk view, and the board's warning and breached counts."""
        parts = []
        if self.source.at_risk_only:
            parts.append("at risk, by time left" if self.source.risk_order == "time-left" else "at risk")
        if self.source.sla is not None and self.source.at_risk.ready:
            counts = self.source.at_risk.counts()
            parts.append(f"{counts['warning']:,} warning · {counts['breached']:,} breached")
        return parts

    def _sla_missing(self) -> None:
        """A card read without its countdown: compute the missing ones once this frame is done.

        Called while painting, or from the move worker that reads fresh pages.
        """
        if on_event_loop(self.app):
            self.call_later(self._fill_sla)
        # In the move worker, `_post_moved` fills them itself before the pages reach the screen.

    def _fill_sla(self) -> None:
        if not self.source.calendar_loaded:  # the calendar is still loading: `_calendar_ready` comes back here
            return
        ids = self.source.sla_labels.take_missing()
        if ids:
            self._sla_worker(ids)

    def refresh_sla(self) -> None:
        """Recompute every cached card's countdown (the minute timer: time moves on without a key press),
        and take a new at-risk snapshot when the last one is old enough."""
        ids = sorted(set().union(*(column.cached_cards() for column in self.columns)))
        self.source.sla_labels.expire(ids)  # any other card is recomputed when it is painted again
        if ids:
            self._sla_worker(ids)
        at = self.source.at_risk.at
        if at is not None and (self.service.clock() - at).total_seconds() >= self._risk_every:
            self.count_at_risk()

    @work(thread=True, group="board-sla", exit_on_error=False)
    def _sla_worker(self, ids: list[int]) -> None:
        _, risky, gone = self.source.evaluate_sla(ids)
        self.post_message(self.SlaComputed(ids, risky, gone))

    @on(SlaComputed)
    def sla_computed(self, message: SlaComputed) -> None:
        # The new countdowns go into the cached cards as they are: re-reading the pages here would also
        # show other changes early, which is the live refresh's job (and a query on the event loop).
        labels = self.source.sla_labels
        for column in self.columns:
            changed = {}
            for ticket_id, card in column.cached_cards().items():
                entry = labels.peek(ticket_id) if ticket_id in message.ids_set else None
                if entry is not None and entry.version == card.version and column.state != self.workflow.final \
                        and (entry.label, entry.style) != (card.sla_label, card.sla_style):
                    changed[ticket_id] = msgspec.structs.replace(card, sla_label=entry.label, sla_style=entry.style)
            if changed:
                column.update_cards(changed)
        self._patch_risk(message.risky, message.gone)

    def count_at_risk(self) -> None:
        """Take a new at-risk snapshot in the background (header counts, the at-risk view)."""
        if self._risk_patches is None:
            self._risk_patches = {}
            self._risk_worker()

    def _user_busy(self) -> bool:
        last = max(self._last_write, getattr(self.app, "last_input", 0.0))
        return self._writing or time.monotonic() - last < 1.0

    @work(thread=True, exclusive=True, group="board-risk", exit_on_error=False)
    def _risk_worker(self) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        # The walk gives way while the user is at the keys (a write in flight, or a key or write
        # within the last second): it would hold the interpreter the repaint and the writes need.
        snapshot = self.source.at_risk_snapshot(cancelled=lambda: worker.is_cancelled, busy=self._user_busy)
        if snapshot is not None and not worker.is_cancelled:
            self.post_message(self.RiskCounted(snapshot, time.perf_counter() - started))

    @on(RiskCounted)
    def risk_counted(self, message: RiskCounted) -> None:
        patches, self._risk_patches = self._risk_patches or {}, None
        snapshot = message.snapshot
        snapshot.patch([e for e in patches.values() if e is not None], [i for i, e in patches.items() if e is None])
        # A big board's walk takes seconds of CPU: space the walks out so it stays a small share.
        self._risk_every = max(60.0, 10 * message.seconds)
        self.source.at_risk = snapshot
        self.update_sub_title()
        if self.source.at_risk_only:
            self._refresh_risk_view()

    def _refresh_risk_view(self, states: set[str] | None = None) -> None:
        """Re-page the at-risk view from its snapshot (in memory), each cursor kept on its card."""
        for column in self.columns:
            if states is not None and column.state not in states:
                continue
            card = column.current_card
            column.invalidate()
            column.count = len(self.source._risk_column(column.state))
            position = self.source.position_of(column.state, card.id) if card is not None else None
            if position is not None:
                column.cursor = position

    def _patch_risk(self, risky, gone) -> None:
        patches = {ticket_id: None for ticket_id in gone}
        patches.update({entry.id: entry for entry in risky})
        if not patches:
            return
        if self._risk_patches is not None:
            self._risk_patches.update(patches)
        if not self.source.at_risk.ready:
            return
        before = self.source.at_risk.counts()
        self.source.at_risk.patch(risky, gone)
        if self.source.at_risk.counts() != before:
            self.update_sub_title()

    def action_at_risk(self) -> None:
        """Toggle the at-risk view: only warning and breached cards."""
        self._show_at_risk(not self.source.at_risk_only, self.source.risk_order)

    def action_sort_time_left(self) -> None:
        """Sort the at-risk view by time left, most overdue first (again: back to priority order).

        Time left is known for the whole board only through the at-risk
        snapshot, so this sort is offered inside the at-risk view, where it is
        an in-memory sort; the full board keeps its priority and rank orders.
        """
        by_time = not (self.source.at_risk_only and self.source.risk_order == "time-left")
        self._show_at_risk(True, "time-left" if by_time else "priority")

    def _show_at_risk(self, on: bool, order) -> None:
        if self.source.sla is None:
            self.notify("no response targets on this board", severity="warning")
            return
        if on and not self.source.at_risk.ready:
            self.notify("still working out which cards are at risk; try again in a moment", severity="warning")
            self.count_at_risk()
            return
        self.source.at_risk_only = on
        self.source.risk_order = order
        if on:  # one view at a time
            self.source.stale_only = False
            self.source.untriaged_only = False
        self._reload_all(self.source.counts())

    def _reload_all(self, counts: dict[str, int]) -> None:
        self.post_message(self.Filtered(self.source.text_filter, counts, self.source.stale_only))

    # -- live: other sessions' changes -------------------------------------

    def changes_heard(self, changes: list) -> None:
        """Changes committed by any session (`data.live.Change`s), from the app's listener.

        This board's own writes come back too; those it already shows are
        skipped. The rest are gathered for 100 ms (a burst becomes one
        refresh) and worked out in a thread.
        """
        fresh = [change for change in changes if change.everything or not self._already_shown(change)]
        if not fresh:
            return
        self._heard.extend(fresh)
        if self._live_timer is None:
            self._live_timer = self.set_timer(0.1, self._apply_heard, name="live-debounce")

    def _already_shown(self, change) -> bool:
        own = self._own_versions.get(change.ticket_id)
        if own is not None and change.version is not None and own >= change.version:
            return True
        for column in self.columns:
            card = column.cached_cards().get(change.ticket_id)
            if card is not None and change.version is not None and card.version >= change.version:
                return True
        return False

    def _apply_heard(self) -> None:
        self._live_timer = None
        if not self._heard:
            return
        if self._writing or self._live_busy:
            self._live_timer = self.set_timer(0.1, self._apply_heard, name="live-debounce")
            return
        # Judged again now that no write is in flight: the echo of our own move can arrive between its
        # commit and `_post_moved` recording its version, and was then taken for another session's change.
        changes = [change for change in self._heard if change.everything or not self._already_shown(change)]
        self._heard = []
        if not changes:
            return
        everything = any(change.everything for change in changes)
        ids = sorted({change.ticket_id for change in changes if not change.everything})
        columns = self.columns
        shown = {}
        was: set[str] = set()
        shown_keys: dict[str, str] = {}
        for column in columns:
            card = column.current_card
            shown[column.state] = card.id if card is not None else None
            if card is not None:
                shown_keys[column.state] = card.key
            if everything or set(ids).intersection(column.cached_cards()):
                was.add(column.state)
        counts = {column.state: column.count for column in columns}
        self._live_busy = True
        self._live_worker(ids, everything, shown, was, counts, self.source.at_risk_only, shown_keys)

    @work(thread=True, group="board-live", exit_on_error=False)
    def _live_worker(self, ids: list[int], everything: bool, shown: dict[str, int | None], was: set[str],
                     old_counts: dict[str, int], risk_view: bool, shown_keys: dict[str, str] | None = None) -> None:
        shown_keys = shown_keys or {}
        try:
            now = self.source.where_are(ids) if ids else {}
            touched = set(was) | {state for state, _ in now.values()}
            counts: dict[str, int] = {}
            positions: dict[str, int | None] = {}
            if not risk_view:  # the at-risk view pages from its snapshot: the event loop re-pages it
                counts = self.source.counts()
                touched |= {state for state, count in counts.items() if old_counts.get(state) != count}
                positions = {state: self.source.position_of(state, card_id) for state, card_id in shown.items()
                             if card_id is not None and state in touched}
            departed = {state: self._departure(shown_keys[state], state) for state, card_id in shown.items()
                        if card_id is not None and state in positions and positions[state] is None}
            if everything:
                _, risky, gone = [], [], []
                self.app.call_from_thread(self.count_at_risk)
            else:
                _, risky, gone = self.source.evaluate_sla(ids)
        except Exception as exc:
            self.post_message(self.LiveApplied(set(), {}, {}, [], []))
            self.app.call_from_thread(self.notify, f"could not refresh the board: {exc}", severity="error")
            return
        self.post_message(self.LiveApplied(touched, counts, positions, risky, gone, departed))

    def _departure(self, key: str, state: str) -> str:
        """In a worker: what became of the card another session took out of the column (`state`) its cursor
        was on, for the toast that says why the highlight is now on its neighbour."""
        try:
            ticket = self.service.get(key)
        except Refused:
            return f"{key} is gone"
        last = self.service.history(ticket)[-1:]
        who = f" by {last[0].by}" if last and last[0].by else ""
        if ticket.state == state:
            return f"{key} was changed{who} and no longer matches this view"
        return f"{key} moved to {self.workflow.column(ticket.state).title}{who}"

    @on(LiveApplied)
    def live_applied(self, message: LiveApplied) -> None:
        self._live_busy = False
        self._patch_risk(message.risky, message.gone)
        if self.source.at_risk_only:
            self._refresh_risk_view()
            message.touched = set()
        self._apply_counts(message.counts)
        for state in message.touched:
            column = self.column(state)
            column.invalidate()
            position = message.positions.get(state)
            if position is not None:
                column.cursor = position  # the same card, wherever it now sits in this column
        focused = self.focused_column
        if focused.state in message.touched:
            # The cursor keeps its place; the card under it may be another now (its own left the column)
            # or a fresher version. Describe it in this frame: the status line and the highlight are
            # repainted together, and a key acts on the card they both show (`move_requested`).
            self._show_card(focused, focused.current_card)
            departed = message.departed.get(focused.state)
            if departed:
                self.notify(departed, title="Changed elsewhere", severity="warning", timeout=8)
        if message.touched and self.source.filtered:
            self.refresh_totals()
        if self._heard and self._live_timer is None:
            self._live_timer = self.set_timer(0.1, self._apply_heard, name="live-debounce")

    # -- detail ----------------------------------------------------------

    @on(Column.CardSelected)
    def card_selected(self, event: Column.CardSelected) -> None:
        event.stop()
        self.open_detail(event.card)

    def open_detail(self, card: Card) -> None:
        self._detail_worker(card.key)

    @work(thread=True, exclusive=True, group="board-detail", exit_on_error=False)
    def _detail_worker(self, key: str) -> None:
        from app.tui.screens.detail import load_detail

        try:
            detail = load_detail(self.service, key)
            self.service.seen(key, by=self.user)  # opening it is a look: the "answered" mark goes
        except Refused as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.DetailLoaded(detail))

    @on(DetailLoaded)
    def detail_loaded(self, message: DetailLoaded) -> None:
        from app.tui.screens.detail import CardDetailScreen  # the DataTable is imported on first use, not at start-up

        self.app.push_screen(CardDetailScreen(message.detail))

    # -- filter ----------------------------------------------------------

    def action_filter(self) -> None:
        def chosen(text: str | None) -> None:
            if text is not None:
                self.apply_filter(text)

        from app.tui.screens.pickers import FilterScreen

        self.app.push_screen(FilterScreen(self.source.text_filter), chosen)

    def apply_filter(self, text: str) -> None:
        self._filter_worker(text, self.source.stale_only)

    def action_stale_filter(self) -> None:
        """Toggle the stale filter: only cards that sat in their column past `report.stale_after`."""
        self.source.at_risk_only = False  # one view at a time: the at-risk view pages from its snapshot
        self._filter_worker(self.source.text_filter, not self.source.stale_only)

    @work(thread=True, exclusive=True, group="board-filter", exit_on_error=False)
    def _filter_worker(self, text: str, stale_only: bool = False) -> None:
        counts = msgspec.structs.replace(self.source, text_filter=text, stale_only=stale_only).counts()
        self.post_message(self.Filtered(text, counts, stale_only))

    @on(Filtered)
    def filtered(self, message: Filtered) -> None:
        self.source.text_filter = message.text
        self.source.stale_only = message.stale_only
        self.update_sub_title()
        for column in self.columns:
            column.set_reactive(Column.cursor, 0)
            column.count = message.counts[column.state]
            column.invalidate()
        self.focused_column.post_message(Column.CardHighlighted(self.focused_column,
                                                                self.focused_column.current_card))
        self.refresh_totals()

    def refresh_totals(self) -> None:
        """The whole counts beside a filtered view's (cleared at once when nothing is filtered)."""
        if self.source.filtered:
            self._totals_worker()
        else:
            for column in self.columns:
                column.total = None

    class Totalled(Message):
        def __init__(self, totals: dict[str, int]) -> None:
            super().__init__()
            self.totals = totals

    @work(thread=True, exclusive=True, group="board-totals", exit_on_error=False)
    def _totals_worker(self) -> None:
        totals = self.source.totals()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Totalled(totals))

    @on(Totalled)
    def totalled(self, message: Totalled) -> None:
        filtered = self.source.filtered
        for column in self.columns:
            column.total = message.totals.get(column.state, 0) if filtered else None

    def update_sub_title(self) -> None:
        parts = [self._board_label(), *self.sub_title_parts()]
        if self.source.text_filter:
            parts.append(f"filter: {self.source.text_filter}")  # the title bar shows text, never markup
        if self.source.stale_only:
            parts.append("stale only")
        parts += self.sla_sub_title_parts()
        sub_title = " · ".join(parts)
        if sub_title != self.sub_title:
            self.sub_title = sub_title

    # -- reports ---------------------------------------------------------

    def action_reports(self) -> None:
        from app.tui.screens.reports import ReportsScreen  # plotext is loaded only when reports are opened

        self.app.push_screen(ReportsScreen(self.service.config, self.service.clock))

    # -- command palette -------------------------------------------------

    def palette_commands(self) -> list[PaletteCommand]:
        """What ctrl+p offers: moves and detail for the card under the cursor, then board-wide commands."""
        commands: list[PaletteCommand] = []
        card = self.current_card
        if card is not None:
            for target in self.workflow.allowed(card.state):
                into = self.column(target)  # its whole count, a filter or not, as the refusal counts
                name, help = move_command(card.key, self.workflow.column(card.state).title, into.title,
                                          into.count if into.total is None else into.total,
                                          self.workflow.column(target).wip_limit, self.workflow.wip_policy)
                commands.append(PaletteCommand(name, lambda t=target: self.move_card_to(card, t), help))
            commands.append(PaletteCommand(f"Open {card.key}: detail and history",
                                           lambda: self.open_detail(card), "the card's fields and every transition"))
        commands.extend(self.oncall_commands(card))
        if self.undo_stack:
            commands.append(PaletteCommand(f"Undo the last move ({self.undo_stack[-1]})", self.action_undo,
                                           "a compensating move back; history keeps both"))
        commands += self.triage_palette_commands(card)
        commands.append(PaletteCommand("Filter the board", self.action_filter, "by key, title or assignee"))
        stale_title = "Show every card again" if self.source.stale_only else "Show only stale cards"
        commands.append(PaletteCommand(stale_title, self.action_stale_filter,
                                       "cards in their column past report.stale_after"))
        commands.append(PaletteCommand("Cycle reports", self.action_reports,
                                       "cumulative flow, cycle time, ageing, throughput"))
        if self.source.text_filter:
            commands.append(PaletteCommand("Clear the filter", lambda: self.apply_filter(""), "show every card"))
        commands.append(PaletteCommand("Keyboard help", self.action_help, "every key and its id"))
        return commands

    # -- help ------------------------------------------------------------

    def key_help(self) -> list:
        """Every active binding, keys of one action joined: what the footer shows and what it hides."""
        from app.tui.screens.help import KeyHelp

        entries: dict[tuple[str, str], list[str]] = {}
        ids: dict[tuple[str, str], str] = {}
        for key, active in self.active_bindings.items():
            binding = active.binding
            if binding.system and binding.action != "command_palette":
                continue
            ident = (binding.action, binding.description)
            entries.setdefault(ident, []).append(self.app.get_key_display(binding.with_key(key)))
            ids[ident] = binding.id or ""
        return [*[KeyHelp(", ".join(keys), description or action, ids[(action, description)])
                  for (action, description), keys in entries.items()], *self.triage_key_help(set(ids.values())),
                *self._reports_key_help()]

    def _reports_key_help(self) -> list:
        """The reports screen's keys (`r` opens it), as remapped: `?` is where a user looks for them."""
        from app.tui.screens.help import KeyHelp
        from app.tui.screens.reports import ReportsScreen

        from app.tui.app import keymap_of

        keymap = keymap_of(self.service.config)
        return [KeyHelp(keymap.get(binding.id, binding.key_display or binding.key), f"Reports: {binding.description}",
                        binding.id or "")
                for binding in ReportsScreen.BINDINGS if isinstance(binding, Binding)]

    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.key_help()))


__all__ = ["BoardScreen", "MoveOutcome"]
