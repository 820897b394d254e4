"""Other sessions' changes on the board: which columns they touched, and each cursor kept on its card.

A part the board screen composes (`LiveUpdates(board)`), seeing the board
only through `BoardHost`. The app's listener hands every committed change
here; this board's own writes come back too and are skipped when already
shown. The rest are gathered for 100 ms (a burst becomes one refresh) and
worked out in a thread: where the changed cards are now, the fresh counts,
where each column's highlighted card now sits, and what became of one that
left (the toast that says why the highlight moved to its neighbour).
"""

from __future__ import annotations

from textual.message import Message
from textual.timer import Timer

from app.service import Refused
from app.sla.countdown import RiskEntry
from app.tui.screens.board_host import BoardHost, hosted_work


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


class LiveUpdates:
    """The live refresh of one board: heard changes in, touched columns re-read."""

    DEBOUNCE = 0.1
    """Seconds a burst of changes is gathered for before one refresh."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host
        self._heard: list = []
        self._timer: Timer | None = None
        self._busy = False

    def changes_heard(self, changes: list) -> None:
        """Changes committed by any session (`data.live.Change`s), from the app's listener."""
        fresh = [change for change in changes if change.everything or not self._already_shown(change)]
        if not fresh:
            return
        self._heard.extend(fresh)
        if self._timer is None:
            self._timer = self.host.set_timer(self.DEBOUNCE, self._apply_heard, name="live-debounce")

    def _already_shown(self, change) -> bool:
        own = self.host.own_versions.get(change.ticket_id)
        if own is not None and change.version is not None and own >= change.version:
            return True
        for column in self.host.columns:
            card = column.cached_cards().get(change.ticket_id)
            if card is not None and change.version is not None and card.version >= change.version:
                return True
        return False

    def _apply_heard(self) -> None:
        host = self.host
        self._timer = None
        if not self._heard:
            return
        if host.writes.busy or self._busy:
            self._timer = host.set_timer(self.DEBOUNCE, self._apply_heard, name="live-debounce")
            return
        # Judged again now that no write is in flight: the echo of our own move can arrive between its
        # commit and `_post_moved` recording its version, and was then taken for another session's change.
        changes = [change for change in self._heard if change.everything or not self._already_shown(change)]
        self._heard = []
        if not changes:
            return
        everything = any(change.everything for change in changes)
        ids = sorted({change.ticket_id for change in changes if not change.everything})
        columns = host.columns
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
        self._busy = True
        self._live_worker(ids, everything, shown, was, counts, host.source.at_risk_only, shown_keys)

    @hosted_work(group="board-live")
    def _live_worker(self, ids: list[int], everything: bool, shown: dict[str, int | None], was: set[str],
                     old_counts: dict[str, int], risk_view: bool, shown_keys: dict[str, str] | None = None) -> None:
        host, source = self.host, self.host.source
        shown_keys = shown_keys or {}
        try:
            now = source.where_are(ids) if ids else {}
            touched = set(was) | {state for state, _ in now.values()}
            counts: dict[str, int] = {}
            positions: dict[str, int | None] = {}
            if not risk_view:  # the at-risk view pages from its snapshot: the event loop re-pages it
                counts = source.counts()
                touched |= {state for state, count in counts.items() if old_counts.get(state) != count}
                positions = {state: source.position_of(state, card_id) for state, card_id in shown.items()
                             if card_id is not None and state in touched}
            departed = {state: self._departure(shown_keys[state], state) for state, card_id in shown.items()
                        if card_id is not None and state in positions and positions[state] is None}
            if everything:
                _, risky, gone = [], [], []
                host.app.call_from_thread(host.count_at_risk)
            else:
                _, risky, gone = source.evaluate_sla(ids)
        except Exception as exc:
            host.post_message(LiveApplied(set(), {}, {}, [], []))
            host.app.call_from_thread(host.notify, f"could not refresh the board: {exc}", severity="error")
            return
        host.post_message(LiveApplied(touched, counts, positions, risky, gone, departed))

    def _departure(self, key: str, state: str) -> str:
        """In a worker: what became of the card another session took out of the column (`state`) its cursor
        was on, for the toast that says why the highlight is now on its neighbour."""
        service = self.host.service
        try:
            ticket = service.get(key)
        except Refused:
            return f"{key} is gone"
        last = service.history(ticket)[-1:]
        who = f" by {last[0].by}" if last and last[0].by else ""
        if ticket.state == state:
            return f"{key} was changed{who} and no longer matches this view"
        return f"{key} moved to {self.host.workflow.column(ticket.state).title}{who}"

    def live_applied(self, message: LiveApplied) -> None:
        host = self.host
        self._busy = False
        host.patch_risk(message.risky, message.gone)
        if host.source.at_risk_only:
            host.refresh_risk_view()
            message.touched = set()
        host.apply_counts(message.counts)
        for state in message.touched:
            column = host.column(state)
            column.invalidate()
            position = message.positions.get(state)
            if position is not None:
                column.cursor = position  # the same card, wherever it now sits in this column
        focused = host.focused_column
        if focused.state in message.touched:
            # The cursor keeps its place; the card under it may be another now (its own left the column)
            # or a fresher version. Describe it in this frame: the status line and the highlight are
            # repainted together, and a key acts on the card they both show (`BoardScreen.move_requested`).
            host.show_card(focused, focused.current_card)
            departed = message.departed.get(focused.state)
            if departed:
                host.notify(departed, title="Changed elsewhere", severity="warning", timeout=8)
        if message.touched and host.source.filtered:
            host.refresh_totals()
        if self._heard and self._timer is None:
            self._timer = host.set_timer(self.DEBOUNCE, self._apply_heard, name="live-debounce")


__all__ = ["LiveApplied", "LiveUpdates"]

