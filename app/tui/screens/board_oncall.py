"""The board's on-call and outbox parts: the roster panel (`o`), `A` acknowledge, the header's mail count.

A part the board screen composes (`OnCallPanel(board)`), seeing the board only
through `BoardHost`; the screen keeps the bindings and hands their actions
and this part's messages here. Everything follows the board's rules: database
work in thread workers whose results come back as messages, panels of fixed
size that repaint without a layout pass, and no work on a key press that the
key does not need (the roster is recomputed by a once-a-minute timer and when
the panel opens, the outbox counted every few seconds).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.widget import MountError

from app.oncall.roster import RosterRow, holders_in_words, roster_rows
from app.service import Conflict, Refused, write_error
from app.service.reads import outbox_counts
from app.tui.commands import PaletteCommand
from app.tui.screens.board_host import BoardHost, hosted_work
from widgets.card import Card
from widgets.column import PAGE_SIZE, Column
from widgets.title_bar import TitleBar
from widgets.roster_panel import RosterLine, RosterPanel

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

ROSTER_EVERY = 60.0
"""Seconds between roster refreshes while the panel is open (handoffs fall on whole minutes)."""

OUTBOX_EVERY = 5.0
"""Seconds between outbox counts: one grouped query over an indexed column."""


class AckDone(Message):
    """An acknowledgement finished: `error` is None on success, else the refusal's words."""

    def __init__(self, key: str, pages: dict[str, dict[int, list[Card]]], error: str | None = None,
                 conflict: bool = False) -> None:
        super().__init__()
        self.key = key
        self.pages = pages
        """Fresh pages around the cursor of each column the card was or is in, read in the worker."""
        self.error = error
        self.conflict = conflict


class OutboxCounted(Message):
    def __init__(self, pending: int, failed: int) -> None:
        super().__init__()
        self.pending = pending
        self.failed = failed


def local(instant: dt.datetime, tz: ZoneInfo) -> str:
    """"Mon 28 Dec 09:00" in the board's time zone."""
    return f"{instant.astimezone(tz):%a %d %b %H:%M}"


def roster_line(row: RosterRow, tz: ZoneInfo) -> RosterLine:
    """A roster row in words: overrides say whose seat they cover and until when."""
    holders = holders_in_words(row, lambda instant: local(instant, tz))
    incoming = ", ".join(row.incoming) or "—"
    if row.incoming and len(row.on_duty) > 1 and row.outgoing:  # several seats: say whose seat changes
        incoming += f" for {', '.join(row.outgoing)}"
    return RosterLine(rotation=row.rotation, on_duty=", ".join(holders) or "—",
                      next_handoff=local(row.next_handoff, tz) if row.next_handoff else "—",
                      incoming=incoming, covered=bool(row.covers))


def paged_text(card: Card) -> str:
    """The status line's page mark: " · ⚑ paged: alice (SET primary)"."""
    if not card.needs_ack:
        return ""
    if not card.paged:
        return " · ⚑ needs acknowledgement (A)"
    rotation = f" ({card.paged_rotation})" if card.paged_rotation else ""
    return f" · ⚑ paged: {', '.join(card.paged)}{rotation} · A acknowledges"


class OnCallPanel:
    """The roster panel, acknowledgements and the outbox badge of one board."""

    ONCALL_BINDINGS = [
        Binding("o", "roster", "On call", id="board.roster"),
        Binding("A", "acknowledge", "Acknowledge", id="board.ack"),
    ]
    """The board screen lists these among its own (Textual looks for bindings on the screen)."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host

    # -- set-up ------------------------------------------------------------

    def panel(self) -> RosterPanel:
        """The roster panel, hidden until `o` (composed with the board, above the status line)."""
        panel = RosterPanel(id="roster")
        panel.display = False
        rotations = self.host.service.config.oncall.rotations
        panel.styles.height = len(rotations) + 2  # fixed: heading, titles, one per rotation
        return panel

    def start(self) -> None:
        """After the first paint: the header's mail count, and the roster and outbox timers."""
        try:
            from widgets.outbox_badge import OutboxBadge  # after the first paint, so imported then

            self.host.query_one(TitleBar).mount(OutboxBadge(id="outbox"))
        except MountError:  # the board is closing already (q pressed before it was up)
            return
        self.host.set_interval(ROSTER_EVERY, self.refresh_roster)
        self.host.set_interval(OUTBOX_EVERY, self.count_outbox)
        self.count_outbox()

    # -- roster ------------------------------------------------------------

    def action_roster(self) -> None:
        panel = self.host.query_one(RosterPanel)
        panel.display = not panel.display
        self.refresh_roster()

    def refresh_roster(self) -> None:
        """Recompute the roster for the board's clock; pure and cheap, and only while the panel is shown."""
        panel = self.host.query_one(RosterPanel)
        if not panel.display:
            return
        config = self.host.service.config
        tz = config.board.tz
        now = self.host.service.clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.timezone.utc)  # the service's clock is naive UTC
        panel.heading = f"On call at {local(now, tz)} ({config.board.timezone})"
        panel.lines = tuple(roster_line(row, tz) for row in roster_rows(config.oncall, now))

    # -- acknowledge -------------------------------------------------------

    def action_acknowledge(self) -> None:
        card = self.host.current_card
        if card is None:
            self.host.app.bell()
            return
        self.acknowledge_card(card)

    def acknowledge_card(self, card: Card) -> None:
        """Take the page of `card` as this board's user, through the one write path.

        Even a card without the mark goes to the service: its refusal says
        why (never paged; already acknowledged by whom and when). Writes are
        serialised with the board's moves, which bump the version it checks.
        """
        if self.host.writes.busy:
            self.host.writes.after(self.action_acknowledge)
            return
        if self.host.refused_read_only():
            return
        self.host.writes.start()
        self._ack_worker(card)

    @hosted_work(group="board-write")
    def _ack_worker(self, card: Card) -> None:
        error, conflict, states = None, False, {card.state}
        try:
            self.host.service.acknowledge(card.key, by=self.host.user, expected_version=card.version)
        except Conflict as exc:
            error, conflict = str(exc), True
            states.add(exc.ticket.state)
        except Refused as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a locked file, a database gone: said, and the board goes on
            error = write_error(card.key, exc)
        pages = {}  # read here so the repaint runs no query on the event loop (as a move does)
        for state in states:
            number = self.host.column(state).page_number()
            pages[state] = {number: self.host.source.page(state, number * PAGE_SIZE, PAGE_SIZE)}
        self.host.post_message(AckDone(card.key, pages, error, conflict))

    def ack_done(self, message: AckDone) -> None:
        if message.error is None:
            self.host.notify(f"{message.key}: the page stops here; {self.host.user} has it", title="Acknowledged")
        else:
            title = "Changed elsewhere" if message.conflict else "Acknowledge refused"
            self.host.notify(message.error, title=title, severity="error", timeout=8)
        for state, pages in message.pages.items():
            self.host.column(state).invalidate(pages)
        column = self.host.focused_column
        column.post_message(Column.CardHighlighted(column, column.current_card))  # the status line's mark
        self.host.writes.done()

    # -- outbox ------------------------------------------------------------

    def count_outbox(self) -> None:
        self._outbox_worker()

    @hosted_work(group="outbox-count", exclusive=True)
    def _outbox_worker(self) -> None:
        counts = outbox_counts()
        self.host.post_message(OutboxCounted(counts["pending"], counts["failed"]))

    def outbox_counted(self, message: OutboxCounted) -> None:
        badge = self.host.query_one("#outbox")
        badge.queued = message.pending
        badge.failed = message.failed

    # -- command palette ---------------------------------------------------

    def commands(self, card: Card | None) -> list[PaletteCommand]:
        commands = []
        if card is not None and card.needs_ack:
            paged = f"paged: {', '.join(card.paged)}" if card.paged else "an unacknowledged page"
            commands.append(PaletteCommand(f"Acknowledge {card.key}", lambda: self.acknowledge_card(card),
                                           f"{paged}; stops the escalation"))
        shown = self.host.query_one(RosterPanel).display
        commands.append(PaletteCommand("Hide the on-call roster" if shown else "Show the on-call roster",
                                       self.action_roster, "who holds each rotation, the next handoff"))
        return commands


__all__ = ["AckDone", "OnCallPanel", "OutboxCounted", "paged_text", "roster_line"]
