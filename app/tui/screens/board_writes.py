"""The board's moves: `h`/`l` (and `m`, the palette's moves), `u` undo, and the headers' recount after them.

A part the board screen composes (`BoardMoves(board)`), seeing the board only
through `BoardHost`. The write runs in a thread worker and reads there the
fresh pages the repaint needs (the two columns around their cursors, with
their countdowns), so the event loop only swaps them in; the counts are
adjusted by the move itself, and every header is re-read by one grouped
query once a burst of writes ends (which also catches other boards' moves).
"""

from __future__ import annotations

import time

import msgspec
from textual.message import Message
from textual.timer import Timer
from textual.worker import get_current_worker

from app.service import Conflict, MoveResult, Refused, write_error
from app.sla.countdown import RiskEntry
from app.tui.screens.board_host import BoardHost, hosted_work
from widgets.card import Card
from widgets.column import PAGE_SIZE, Column


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
    triaged: bool = False
    """The card has no triage to do: moving it cannot change the header's untriaged figure."""


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


class Counted(Message):
    def __init__(self, text_filter: str, counts: dict[str, int]) -> None:
        super().__init__()
        self.text_filter = text_filter
        self.counts = counts


class BoardMoves:
    """Moves and undo of one board, and the recount that follows a burst of writes."""

    RECOUNT_AFTER = 0.3
    """Seconds after the last write before the headers are re-read: the recount is for other writers'
    moves (the live listener hears those too), and run at once it would take the interpreter from the
    repaint of the move just made."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host
        self._recount_timer: Timer | None = None

    # -- asking ----------------------------------------------------------

    def move_requested(self, event: Column.MoveRequested) -> None:
        """`h`/`l` (`H`/`L`) on a column: the card it names goes one column over."""
        host = self.host
        event.stop()
        if host.writes.busy:
            # The card under the cursor is about to change; replay the key on the fresh board.
            step = event.step
            host.writes.after(lambda: host.focused_column.action_move_card(step))
            return
        shown = host.described()
        if shown is not None and shown[0] is event.column and shown[1] is not None and shown[1].id != event.card.id:
            # The highlight and the status line were about to change cards (a refresh in flight): act on
            # nothing the user has not seen selected; they are described together now.
            host.show_card(event.column, event.card)
            host.notify(f"the board changed under the cursor: {event.card.key} is selected now; press again "
                        f"to move it", title="Not moved", severity="warning")
            return
        target = host.workflow.neighbour(event.card.state, event.step)
        if target is None:
            side = "first" if event.step < 0 else "last"
            host.notify(f"{event.key} is already in the {side} column", title="Move refused", severity="error")
            return
        self.move_card_to(event.card, target)

    def action_move_to(self) -> None:
        host = self.host
        card = host.current_card
        if card is None:
            host.app.bell()
            return
        if not host.workflow.allowed(card.state):
            host.notify(f"no moves are allowed from {host.workflow.column(card.state).title}",
                        title="Move refused", severity="error")
            return

        def picked(target: str | None) -> None:
            if target:
                self.move_card_to(card, target)

        from app.tui.screens.pickers import MovePicker  # the dialogs load when first opened, not with the board

        host.app.push_screen(MovePicker(host.workflow, card.key, card.state), picked)

    def move_card_to(self, card: Card, target: str) -> None:
        """Ask for a hold reason when the target needs one, then write.

        Only an allowed move asks: a forbidden one goes straight to the service
        so the refusal (with the allowed moves) comes from the one write path.
        """
        workflow = self.host.workflow
        column = workflow.column(target)
        if column.is_hold and target in workflow.allowed(card.state):
            def reason(hold: str | None) -> None:
                if hold:
                    self.write_move(card, target, hold)

            from app.tui.screens.pickers import HoldReasonPicker

            self.host.app.push_screen(HoldReasonPicker(workflow, card.key, target), reason)
        else:
            self.write_move(card, target, None)

    # -- writing ---------------------------------------------------------

    def write_move(self, card: Card, target: str, hold_reason: str | None) -> None:
        if self.host.refused_read_only():
            return
        self.host.writes.start()
        self.host.writes.last_write = time.monotonic()
        self._move_worker(card, target, hold_reason)

    @hosted_work(group="board-write")
    def _move_worker(self, card: Card, target: str, hold_reason: str | None) -> None:
        host = self.host
        try:
            result = host.service.move(card.key, target, by=host.user, hold_reason=hold_reason,
                                       expected_version=card.version)
        except Exception as exc:  # noqa: BLE001 - a refusal, or anything else: said in one line, never a stuck board
            self._post_failure(exc, card.key, (card.state, target))
        else:
            self._post_moved(result, card.state, target)

    def action_undo(self) -> None:
        host = self.host
        if host.writes.busy:
            host.writes.after(self.action_undo)
            return
        if not host.undo_stack:
            host.notify("no move to undo in this session", severity="warning")
            return
        if host.refused_read_only():
            return
        host.writes.start()
        self._undo_worker(host.undo_stack.pop())

    @hosted_work(group="board-write")
    def _undo_worker(self, key: str) -> None:
        host = self.host
        try:
            before = host.service.get(key).state
            result = host.service.undo(key, by=host.user)
        except Exception as exc:  # noqa: BLE001 - as in `_move_worker`
            self._post_failure(exc, key, ())
        else:
            self._post_moved(result, before, result.ticket.state, undo=True)

    def _post_moved(self, result: MoveResult, source: str, target: str, undo: bool = False) -> None:
        host = self.host
        ticket = result.ticket
        host.own_versions[ticket.id] = ticket.version
        risky: list[RiskEntry] = []
        # A move that changed the requester's status mailed them: a response, so the clocks moved on
        # (the first response met, the next update due): worked out afresh, as `ticket show` does.
        told = (result.history is not None and ticket.last_requester_update is not None
                and ticket.last_requester_update == result.history.at)
        if told or not (host.source.clock_unchanged(source, target)
                        and host.source.sla_labels.carry(ticket.id, ticket.version)):
            _, risky, _ = host.source.evaluate_sla([ticket.id])  # the moved card's countdown, before its page is read
        else:  # the same countdown; in the at-risk snapshot it only changes column
            entry = host.source.at_risk.entries.get(ticket.id)
            risky = [msgspec.structs.replace(entry, state=target)] if entry is not None else []
        position = host.source.position_of(target, ticket.id)
        # Read the pages the repaint will need here, in the worker, not in render_line on the event loop.
        # Every page in view (a compact column shows more than one of a tall terminal), as it will scroll.
        wanted = {target: {*host.column(target).pages_in_view(position or 0)}}
        wanted.setdefault(source, set()).update(
            {host.column(source).page_number(), *host.column(source).pages_in_view()})
        pages: dict[str, dict[int, list[Card]]] = {}
        for state, numbers in wanted.items():
            for number in sorted(numbers):
                pages.setdefault(state, {})[number] = host.source.page(state, number * PAGE_SIZE, PAGE_SIZE)
        self.label_pages(pages)
        outcome = MoveOutcome(key=ticket.key, ticket_id=ticket.id, source=source, target=target,
                              position=position, warnings=result.warnings, undo=undo, pages=pages,
                              risky=tuple(risky), triaged=not host.service.triage_missing(ticket))
        host.post_message(Moved(outcome))

    def label_pages(self, pages: dict[str, dict[int, list[Card]]]) -> None:
        """Countdowns for cards that shifted into the fresh pages unlabelled (usually one), here in the worker."""
        source = self.host.source
        labels = source.sla_labels
        wanted = {card.id for by_number in pages.values() for cards in by_number.values() for card in cards
                  if card.id in labels.missing}
        if not wanted:
            return
        found, _, _ = source.evaluate_sla(sorted(wanted))
        for by_number in pages.values():
            for number, cards in by_number.items():
                by_number[number] = [msgspec.structs.replace(card, sla_label=found[card.id].label,
                                                             sla_style=found[card.id].style)
                                     if card.id in found else card for card in cards]

    def _post_failure(self, exc: Exception, key: str, states: tuple[str, ...]) -> None:
        """Hand a failed write to the board, which ends the write (`WriteGate.done`) whatever the error."""
        host = self.host
        if not isinstance(exc, Refused):
            host.post_message(MoveFailed(write_error(key, exc), key, False, None, states, None))
            return
        conflict = isinstance(exc, Conflict)
        fresh = None
        if conflict:
            states = (*states, exc.ticket.state)
            host.own_versions[exc.ticket.id] = exc.ticket.version  # shown now: its echo needs no refresh
            host.source.evaluate_sla([exc.ticket.id])
            fresh = (exc.ticket.state, host.source.position_of(exc.ticket.state, exc.ticket.id))
        host.post_message(MoveFailed(str(exc), key, conflict, host.source.counts() if conflict else None,
                                     states, fresh))

    # -- applying --------------------------------------------------------

    def moved(self, message: Moved) -> None:
        message.stop()  # posted to the board for the board
        host = self.host
        outcome = message.outcome
        source, target = host.column(outcome.source), host.column(outcome.target)
        if outcome.position is not None and outcome.source != outcome.target:
            # Our own committed move: exact, and free. Other writers are caught by the recount.
            source.count -= 1
            target.count += 1
        if outcome.source != outcome.target and source.total is not None:
            source.total -= 1  # the whole counts too (the recount re-reads them)
            target.total += 1
        for state in {outcome.source, outcome.target}:
            host.column(state).invalidate(outcome.pages.get(state))
        if not outcome.undo:
            host.undo_stack.append(outcome.key)
        if outcome.triaged:
            host.writes.untriaged_unchanged += 1
        host.patch_risk(outcome.risky, [] if outcome.risky else [outcome.ticket_id])
        host.focus_card(outcome.target, outcome.position)
        for warning in outcome.warnings:
            host.notify(warning, title="Moved, with a warning", severity="warning")
        if outcome.undo:
            host.notify(f"{outcome.key} is back in {host.workflow.column(outcome.target).title}", title="Undone")
        host.writes.done()

    def move_failed(self, message: MoveFailed) -> None:
        host = self.host
        title = "Changed elsewhere" if message.conflict else "Move refused"
        host.notify(message.message, title=title, severity="error", timeout=8)
        if message.counts is not None:
            self.apply_counts(message.counts)
        for state in set(message.states):
            host.column(state).invalidate()
        if message.fresh is not None:
            host.focus_card(*message.fresh)  # the card as it now is, where it now is
        host.writes.done()

    # -- recount ---------------------------------------------------------

    def recount_soon(self) -> None:
        """A write ended with none queued: re-read the headers once the burst is over."""
        if self._recount_timer is None:
            self._recount_timer = self.host.set_timer(self.RECOUNT_AFTER, self._recount_due)
        else:
            self._recount_timer.reset()

    def _recount_due(self) -> None:
        self._recount_timer = None
        self.host.recount()

    def count_headers(self) -> None:
        """Every header from the one grouped query, off the event loop."""
        self._count_worker(self.host.source.text_filter)

    @hosted_work(group="board-counts", exclusive=True)
    def _count_worker(self, text_filter: str) -> None:
        # keeps the orders and the stale filter
        counts = msgspec.structs.replace(self.host.source, text_filter=text_filter).counts()
        if not get_current_worker().is_cancelled:
            self.host.post_message(Counted(text_filter, counts))

    def counted(self, message: Counted) -> None:
        if message.text_filter == self.host.source.text_filter and not self.host.writes.busy:
            self.apply_counts(message.counts)

    def apply_counts(self, counts: dict[str, int]) -> None:
        """Headers only: a column whose count is unchanged does not repaint."""
        for state, count in counts.items():
            self.host.column(state).count = count


__all__ = ["BoardMoves", "Counted", "MoveFailed", "MoveOutcome", "Moved"]
