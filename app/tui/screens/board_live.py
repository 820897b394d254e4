"""Other sessions' changes on the board: which columns they touched, and each cursor kept on its card.

A part the board screen composes (`LiveUpdates(board)`), seeing the board
only through `BoardHost`. The app's listener hands every committed change
here; this board's own writes come back too and are skipped. The rest are
gathered for 100 ms (a burst becomes one refresh) and worked out in a thread:
where the changed cards are now, where each column's highlighted card now
sits, and what became of one that left (the toast that says why the highlight
moved to its neighbour).

The counts follow the changes themselves when every change names the column
it left and entered (PostgreSQL's notifications do, `data.live.Change`) and
the board shows every card: one counted down, the other up, with no query.
A grouped count of a million tickets is half a second of the server, paid by
every open board for every move; ten boards on one move kept each other
waiting seconds for it. SQLite's polling, a full reload and a filtered view
count again as before. A change the board already shows (a page read since)
still moves the counts: only its own writes, counted by the write itself, do not.
"""

from __future__ import annotations

import time

from textual.message import Message
from textual.timer import Timer

from app.service import Refused
from app.sla.countdown import RiskEntry
from app.tui.screens.board_host import BoardHost, hosted_work


class LiveApplied(Message):
    """What another session's changes did to the board, worked out in a thread."""

    def __init__(self, touched: set[str], counts: dict[str, int], positions: dict[str, int | None],
                 risky: list[RiskEntry], gone: list[int], departed: dict[str, str] | None = None,
                 deltas: dict[str, int] | None = None) -> None:
        super().__init__()
        self.touched = touched
        self.counts = counts
        self.deltas = deltas or {}
        """Column -> cards gained (lost, negative) by the changes, when they were not counted again."""
        self.positions = positions
        self.risky = risky
        self.gone = gone
        self.departed = departed or {}
        """Column -> what became of the card its cursor was on, when another session took it away."""


class LiveUpdates:
    """The live refresh of one board: heard changes in, touched columns re-read."""

    DEBOUNCE = 0.04
    """Seconds a burst of changes is gathered for before one refresh."""
    SETTLE = 0.5
    """Seconds after a refresh is applied that the board still counts as busy showing it (its repaint)."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host
        self._heard: list = []
        self._timer: Timer | None = None
        self._busy = False
        self._applied_at = 0.0

    def busy(self) -> bool:
        """Changes heard and not yet shown, a refresh being worked out, or one applied a moment ago: the
        background walks give way (`RiskWatch`). Read from their threads; each part is one attribute."""
        return bool(self._heard) or self._busy or time.monotonic() - self._applied_at < self.SETTLE

    def changes_heard(self, changes: list) -> None:
        """Changes committed by any session (`data.live.Change`s), from the app's listener."""
        fresh = [change for change in changes if change.everything or not self._own(change)]
        if not fresh:
            return
        self._heard.extend(fresh)
        if self._timer is None:
            self._timer = self.host.set_timer(self.DEBOUNCE, self._apply_heard, name="live-debounce")

    def follows_counts(self) -> bool:
        """Whether the headers are kept by the changes heard (PostgreSQL's notifications name the columns,
        and the board shows every card): a recount after the board's own writes would find nothing new."""
        listener = getattr(self.host.app, "listener", None)
        return listener is not None and listener.names_columns and not self.host.source.filtered

    def _own(self, change) -> bool:
        """This board's write (or a version it was shown after a conflict, and counted then)."""
        own = self.host.own_versions.get(change.ticket_id)
        return own is not None and change.version is not None and own >= change.version

    def _already_shown(self, change) -> bool:
        if self._own(change):
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
        heard = [change for change in self._heard if change.everything or not self._own(change)]
        self._heard = []
        deltas = self._deltas(heard)
        changes = [change for change in heard if change.everything or not self._already_shown(change)]
        if not changes:
            if deltas:  # cards already shown as they are: only the headers move
                self._apply_deltas(deltas)
                host.count_untriaged()
            if deltas is not None or not heard:
                return
            # The cards are shown as they are (a page read since they changed), but not what the changes
            # did to the counts, nor could they say (SQLite's polling): the worker counts again.
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
        self._live_worker(ids, everything, shown, was, counts, host.source.at_risk_only, shown_keys, deltas)

    def _deltas(self, changes: list) -> dict[str, int] | None:
        """What the changes do to the column counts, or None when the counts must be read again."""
        host = self.host
        if host.source.filtered or not changes or not all(change.columns_known for change in changes):
            return None
        keys = set(host.workflow.keys)
        deltas: dict[str, int] = {}
        for change in changes:
            if change.source == change.target:
                continue
            if change.source in keys:
                deltas[change.source] = deltas.get(change.source, 0) - 1
            if change.target in keys:
                deltas[change.target] = deltas.get(change.target, 0) + 1
        return {state: delta for state, delta in deltas.items() if delta}

    def _apply_deltas(self, deltas: dict[str, int]) -> None:
        for state, delta in deltas.items():
            column = self.host.column(state)
            column.count = max(0, column.count + delta)

    @hosted_work(group="board-live")
    def _live_worker(self, ids: list[int], everything: bool, shown: dict[str, int | None], was: set[str],
                     old_counts: dict[str, int], risk_view: bool, shown_keys: dict[str, str] | None = None,
                     deltas: dict[str, int] | None = None) -> None:
        host, source = self.host, self.host.source
        shown_keys = shown_keys or {}
        try:
            now = source.where_are(ids) if ids else {}
            touched = set(was) | {state for state, _ in now.values()}
            counts: dict[str, int] = {}
            positions: dict[str, int | None] = {}
            if not risk_view:  # the at-risk view pages from its snapshot: the event loop re-pages it
                if deltas is None:
                    counts = source.counts()
                    touched |= {state for state, count in counts.items() if old_counts.get(state) != count}
                else:
                    touched |= set(deltas)
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
            host.post_message(LiveApplied(set(), {}, {}, [], [], deltas=deltas))  # the counts still moved
            host.app.call_from_thread(host.notify, f"could not refresh the board: {exc}", severity="error")
            return
        host.post_message(LiveApplied(touched, counts, positions, risky, gone, departed, deltas))

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
        self._applied_at = time.monotonic()
        host.patch_risk(message.risky, message.gone)
        if host.source.at_risk_only:
            host.refresh_risk_view()
            message.touched = set()
        host.apply_counts(message.counts)
        self._apply_deltas(message.deltas)
        # Another session's triage answer, new ticket or move may change how many need triage, and the
        # change does not say: the figure is one row of the counts table (`data.counts`), read again.
        host.count_untriaged()
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

