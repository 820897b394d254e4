"""The board's response targets: the cards' countdowns, the at-risk snapshot, its header counts and view (`w`, `S`).

A part the board screen composes (`RiskWatch(board)`), seeing the board only
through `BoardHost`. Countdowns are worked out in thread workers for the
cards a frame painted without one (and every cached card once a minute, as
time moves on); the at-risk snapshot walks every open card, so it runs in the
background, gives way while the user is at the keys, and is patched by the
board's own writes meanwhile.
"""

from __future__ import annotations

import time

import msgspec
from textual.message import Message
from textual.worker import get_current_worker

from app.sla.countdown import AtRisk, RiskEntry
from app.tui.screens.board_view import Filtered
from app.tui.screens.board_host import BoardHost, hosted_work
from widgets.textual_internals import on_event_loop


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


class RiskWatch:
    """Countdowns and the at-risk snapshot of one board."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host
        self._risk_patches: dict[int, RiskEntry | None] | None = None
        """Patches made while a snapshot is being taken, re-applied to it when it arrives."""
        self._risk_every = 60.0

    def sub_title_parts(self) -> list[str]:
        """The header's response-target parts: the at-risk view, and the board's warning and breached counts."""
        source = self.host.source
        parts = []
        if source.at_risk_only:
            parts.append("at risk, by time left" if source.risk_order == "time-left" else "at risk")
        if source.sla is not None and source.at_risk.ready:
            counts = source.at_risk.counts()
            parts.append(f"{counts['warning']:,} warning · {counts['breached']:,} breached")
        return parts

    # -- countdowns --------------------------------------------------------

    def sla_missing(self) -> None:
        """A card read without its countdown: compute the missing ones once this frame is done.

        Called while painting, or from the move worker that reads fresh pages.
        """
        if on_event_loop(self.host.app):
            self.host.call_later(self.fill_sla)
        # In the move worker, `BoardMoves._post_moved` fills them itself before the pages reach the screen.

    def fill_sla(self) -> None:
        source = self.host.source
        if not source.calendar_loaded:  # the calendar is still loading: the board's `_calendar_ready` comes back here
            return
        ids = source.sla_labels.take_missing()
        if ids:
            self._sla_worker(ids)

    def refresh_sla(self) -> None:
        """Recompute every cached card's countdown (the minute timer: time moves on without a key press),
        and take a new at-risk snapshot when the last one is old enough."""
        host = self.host
        ids = sorted(set().union(*(column.cached_cards() for column in host.columns)))
        host.source.sla_labels.expire(ids)  # any other card is recomputed when it is painted again
        if ids:
            self._sla_worker(ids)
        at = host.source.at_risk.at
        if at is not None and (host.service.clock() - at).total_seconds() >= self._risk_every:
            self.count_at_risk()

    @hosted_work(group="board-sla")
    def _sla_worker(self, ids: list[int]) -> None:
        _, risky, gone = self.host.source.evaluate_sla(ids)
        self.host.post_message(SlaComputed(ids, risky, gone))

    def sla_computed(self, message: SlaComputed) -> None:
        # The new countdowns go into the cached cards as they are: re-reading the pages here would also
        # show other changes early, which is the live refresh's job (and a query on the event loop).
        host = self.host
        labels = host.source.sla_labels
        final = host.workflow.final
        for column in host.columns:
            changed = {}
            for ticket_id, card in column.cached_cards().items():
                entry = labels.peek(ticket_id) if ticket_id in message.ids_set else None
                if entry is not None and entry.version == card.version and column.state != final \
                        and (entry.label, entry.style) != (card.sla_label, card.sla_style):
                    changed[ticket_id] = msgspec.structs.replace(card, sla_label=entry.label, sla_style=entry.style)
            if changed:
                column.update_cards(changed)
        self.patch_risk(message.risky, message.gone)

    # -- the at-risk snapshot ----------------------------------------------

    def count_at_risk(self) -> None:
        """Take a new at-risk snapshot in the background (header counts, the at-risk view)."""
        if self._risk_patches is None:
            self._risk_patches = {}
            self._risk_worker()

    def _user_busy(self) -> bool:
        writes = self.host.writes
        last = max(writes.last_write, getattr(self.host.app, "last_input", 0.0))
        # Another session's change too: every board open hears it at once, and ten walks on two cores
        # held the nine repaints of a move back by a second (bench/bench_team.py, 1,000,000 tickets).
        return writes.busy or self.host.live_busy() or time.monotonic() - last < 1.0

    @hosted_work(group="board-risk", exclusive=True)
    def _risk_worker(self) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        # The walk gives way while the user is at the keys (a write in flight, or a key or write
        # within the last second) and while another session's change is shown: it would hold the
        # interpreter the repaint and the writes need.
        snapshot = self.host.source.at_risk_snapshot(cancelled=lambda: worker.is_cancelled, busy=self._user_busy)
        if snapshot is not None and not worker.is_cancelled:
            self.host.post_message(RiskCounted(snapshot, time.perf_counter() - started))

    def risk_counted(self, message: RiskCounted) -> None:
        patches, self._risk_patches = self._risk_patches or {}, None
        snapshot = message.snapshot
        snapshot.patch([e for e in patches.values() if e is not None], [i for i, e in patches.items() if e is None])
        # A big board's walk takes seconds of CPU: space the walks out so it stays a small share.
        self._risk_every = max(60.0, 10 * message.seconds)
        told = self.host.source.at_risk.note
        self.host.source.at_risk = snapshot
        if snapshot.note and snapshot.note != told:  # the stored due instants are of another sla: config
            self.host.notify(snapshot.note, severity="warning")
        self.host.update_sub_title()
        if self.host.source.at_risk_only:
            self.refresh_risk_view()

    def refresh_risk_view(self, states: set[str] | None = None) -> None:
        """Re-page the at-risk view from its snapshot (in memory), each cursor kept on its card."""
        source = self.host.source
        for column in self.host.columns:
            if states is not None and column.state not in states:
                continue
            card = column.current_card
            column.invalidate()
            column.count = len(source._risk_column(column.state))
            position = source.position_of(column.state, card.id) if card is not None else None
            if position is not None:
                column.cursor = position

    def patch_risk(self, risky, gone) -> None:
        patches = {ticket_id: None for ticket_id in gone}
        patches.update({entry.id: entry for entry in risky})
        if not patches:
            return
        if self._risk_patches is not None:
            self._risk_patches.update(patches)
        at_risk = self.host.source.at_risk
        if not at_risk.ready:
            return
        before = at_risk.counts()
        at_risk.patch(risky, gone)
        if at_risk.counts() != before:
            self.host.update_sub_title()

    # -- the at-risk view ----------------------------------------------------

    def action_at_risk(self) -> None:
        """Toggle the at-risk view: only warning and breached cards."""
        self._show_at_risk(not self.host.source.at_risk_only, self.host.source.risk_order)

    def action_sort_time_left(self) -> None:
        """Sort the at-risk view by time left, most overdue first (again: back to priority order).

        Time left is known for the whole board only through the at-risk
        snapshot, so this sort is offered inside the at-risk view, where it is
        an in-memory sort; the full board keeps its priority and rank orders.
        """
        source = self.host.source
        by_time = not (source.at_risk_only and source.risk_order == "time-left")
        self._show_at_risk(True, "time-left" if by_time else "priority")

    def _show_at_risk(self, on: bool, order) -> None:
        host, source = self.host, self.host.source
        if source.sla is None:
            host.notify("no response targets on this board", severity="warning")
            return
        if on and not source.at_risk.ready:
            host.notify("still working out which cards are at risk; try again in a moment", severity="warning")
            self.count_at_risk()
            return
        source.at_risk_only = on
        source.risk_order = order
        if on:  # one view at a time
            source.stale_only = False
            source.untriaged_only = False
        host.post_message(Filtered(source.text_filter, source.counts(), source.stale_only))


__all__ = ["RiskCounted", "RiskWatch", "SlaComputed"]
