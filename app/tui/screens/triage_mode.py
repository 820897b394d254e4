"""The board's triage keys: the panel and triage mode, assign, new ticket, manual rank.

A part the board screen composes (`TriageKeys(board)`), seeing the board only
through `BoardHost`. It follows the board's rules: the screen owns every
key (triage mode is a flag that enables the answer keys, not a focused
widget: moving the focus repaints the whole screen), the service is called
in thread workers, writes are serialised with the board's moves through
its `WriteGate`, and only the column a write touched is repainted.

Answer keys come from `app.triage.rules.PANEL_KEYS`. Two of them (`u` urgency, `r`
reproducible) are also board keys (undo, reports): the triage bindings come
first and are disabled outside triage mode, so the key falls through to the
board's binding then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.worker import get_current_worker

from app.config.settings import KINDS
from app.service import Conflict, Refused, write_error
from app.triage.rules import PANEL_KEYS, PanelRow, panel_rows, suggested_priority
from app.tui.commands import PaletteCommand
from app.tui.screens.board_host import BoardHost, hosted_work
from widgets.card import Card
from widgets.column import PAGE_SIZE

if TYPE_CHECKING:
    from widgets.triage_panel import TriagePanel, TriageView
    from app.tui.screens.triage_dialogs import NewTicket

# The dialogs (app.tui.screens.triage_dialogs) are imported when one is first opened: the board's
# first paint does without their modules.

_QUESTIONS = {
    "users_affected": "Users: many / subset",
    "frequency": "Always / intermittent",
    "service_down": "Totally down?",
    "impact": "Impact",
    "deadline": "Event or deadline date…",
    "urgency": "Urgency",
    "actionable": "Actionable?",
    "reproducible": "Reproducible?",
    "acknowledged": "Requester acknowledged",
    "next_steps_sent": "Next steps sent",
    "eta": "ETA…",
}
"""Answer field -> the binding's description (the footer is narrow)."""

_IN_FOOTER = {"impact", "urgency", "actionable", "acknowledged"}
FREE_TEXT = {"deadline": ("Event or deadline date (YYYY-MM-DD; empty clears)", "2026-11-20"),
             "eta": ("ETA given to the requester (empty clears)", "e.g. Friday")}

TRIAGE_MODE_BINDINGS = [
    *[Binding(PANEL_KEYS[field], f"triage('{field}')", description, show=field in _IN_FOOTER,
              id=f"triage.{field}") for field, description in _QUESTIONS.items()],
    Binding(PANEL_KEYS["priority"], "override_priority", "Override priority…", id="triage.priority"),
    Binding(PANEL_KEYS["clear_override"], "clear_override", "Matrix priority", show=False,
            id="triage.clear_override"),
    Binding("b", "intake", "Intake texts…", show=False, id="triage.intake"),
    Binding("escape", "leave_triage", "Leave triage", id="triage.leave"),
]
"""Active only in triage mode; listed before the board's own keys so they win there."""

TRIAGE_BOARD_BINDINGS = [
    Binding("t", "toggle_triage", "Triage", id="triage.toggle"),
    Binding("a", "assign", "Assign", id="board.assign"),
    Binding("n", "new_ticket", "New", id="board.new"),
    Binding("shift+up,K", "rank('up')", "Rank up", key_display="K", show=False, id="board.rank_up"),
    Binding("shift+down,J", "rank('down')", "Rank down", key_display="J", show=False, id="board.rank_down"),
    Binding("O", "switch_order", "Priority / manual order", show=False, id="board.order"),
    Binding("U", "untriaged_filter", "Untriaged only", show=False, id="board.untriaged"),
]
"""Always active."""

_MODE_ACTIONS = {"triage", "override_priority", "clear_override", "intake", "leave_triage"}


class TriageOutcome(msgspec.Struct, frozen=True):
    """A finished triage/assign/rank write, as the board applies it."""

    key: str
    state: str
    position: int | None
    view: TriageView
    notes: tuple[str, ...] = ()
    pages: dict[int, list[Card]] = msgspec.field(default_factory=dict)
    """The fresh page around the card, read in the worker so the repaint runs no query."""


class TriageKeys:
    """Triage mode and the board's triage keys, for one board."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host
        self.triage_on = False
        """Triage mode: the panel is shown and the answer keys are live."""

    # -- mode --------------------------------------------------------------

    @property
    def panel(self) -> TriagePanel:
        """The panel, mounted (hidden) when it is first asked for: the board's first paint does without it
        (nor does the board import it before)."""
        from widgets.triage_panel import TriagePanel

        try:
            return self.host.query_one(TriagePanel)
        except NoMatches:
            panel = TriagePanel(id="triage-panel")
            panel.display = False
            self.host.query_one("#columns").mount(panel)
            return panel

    def check_action(self, action: str) -> bool:
        if action in _MODE_ACTIONS:
            return self.triage_on
        return True

    def action_toggle_triage(self) -> None:
        self.triage_on = not self.triage_on
        self.panel.display = self.triage_on
        self.host.panel_toggled()
        self.host.refresh_bindings()
        if self.triage_on:
            self.load_triage(self.host.current_card)

    def action_leave_triage(self) -> None:
        if self.triage_on:
            self.action_toggle_triage()

    def card_changed(self, card: Card | None) -> None:
        """The cursor moved: the panel follows it (nothing to do while it is hidden)."""
        if self.triage_on:
            self.load_triage(card)

    def load_triage(self, card: Card | None) -> None:
        if card is None:
            from widgets.triage_panel import TriageView

            self.panel.view = TriageView(message="no card selected")
            return
        self._triage_load_worker(card.key)

    @hosted_work(group="triage-panel", exclusive=True)
    def _triage_load_worker(self, key: str) -> None:
        try:
            view = self.triage_view(self.host.service.get(key))
        except Refused:
            return
        if not get_current_worker().is_cancelled:
            self.host.app.call_from_thread(self._show_triage, view)

    def _show_triage(self, view: TriageView) -> None:
        card = self.host.current_card
        if card is not None and card.key == view.key:  # the cursor may have moved on meanwhile
            self.panel.view = view

    def _key_of(self, binding_id: str, default: str) -> str:
        """The key a binding answers to now (config.yaml's `keys:` may remap it)."""
        for key, bindings in self.host.bound_keys().items():
            if any(b.id == binding_id for b in bindings):
                return self.host.app.get_key_display(Binding(key, ""))
        return default

    def triage_view(self, ticket: Any) -> TriageView:
        """What the panel shows for `ticket` (called in workers: reads nothing but the ticket)."""
        from widgets.triage_panel import TriageView

        service = self.host.service
        rows = [msgspec.structs.replace(row, key=self._key_of(f"triage.{row.field}", row.key)) if row.key else row
                for row in panel_rows(ticket, service.config.triage, service.today())]
        extra = ((self._key_of("triage.clear_override", "P"), "clear the priority override"),
                 (self._key_of("triage.intake", "b"), "intake texts (description, …)"))
        return TriageView(key=ticket.key, title=ticket.title, rows=rows, blocking=service.triage_missing(ticket),
                          gated=ticket.state == self.host.workflow.initial, extra_keys=extra)

    # -- answers -----------------------------------------------------------

    def _card_for_write(self, replay) -> Card | None:
        """The card to write to, or None (no card; or a write is running and `replay` was queued)."""
        if self.host.writes.busy:
            self.host.writes.after(replay)
            return None
        if self.host.refused_read_only():
            return None
        card = self.host.current_card
        if card is None:
            self.host.app.bell()
        return card

    def action_triage(self, field: str) -> None:
        """Cycle an answer through its choices, or ask for a free-text one."""
        card = self._card_for_write(lambda: self.action_triage(field))
        if card is None:
            return
        if field in FREE_TEXT:
            self._dialog_worker(card, field)
        else:
            self.write_triage(card, cycle=field)

    def action_override_priority(self) -> None:
        card = self._card_for_write(self.action_override_priority)
        if card is not None:
            self._dialog_worker(card, "priority")

    def action_clear_override(self) -> None:
        card = self._card_for_write(self.action_clear_override)
        if card is not None:
            self.write_triage(card, {"clear_override": True})

    def action_intake(self) -> None:
        card = self._card_for_write(self.action_intake)
        if card is not None:
            self._dialog_worker(card, "intake")

    @hosted_work(group="triage-dialog", exclusive=True)
    def _dialog_worker(self, card: Card, what: str) -> None:
        """Read the ticket's current answer off the event loop, then ask for the new one."""
        try:
            ticket = self.host.service.get(card.key)
        except Refused as exc:
            self.host.app.call_from_thread(self.host.notify, str(exc), title="Triage refused", severity="error")
            return
        self.host.app.call_from_thread(self._open_dialog, card, what, ticket)

    def _open_dialog(self, card: Card, what: str, ticket: Any) -> None:
        from app.tui.screens.triage_dialogs import IntakeForm, PriorityPicker, TextPrompt

        def write(changes: dict[str, Any] | None) -> None:
            if changes:
                self.write_triage(card, changes)

        if what == "priority":
            effective = self.host.service.effective_urgency(ticket)
            matrix = suggested_priority(ticket.impact, effective, self.host.service.config.triage.matrix)
            self.host.app.push_screen(PriorityPicker(card.key, ticket.priority, matrix),
                                      lambda level: write({"priority": int(level)} if level else None))
        elif what == "intake":
            values = {name: getattr(ticket, name) or "" for name in
                      ("description", "background", "impact_statement", "extra_info")}
            self.host.app.push_screen(IntakeForm(card.key, values), write)
        else:
            heading, placeholder = FREE_TEXT[what]
            self.host.app.push_screen(TextPrompt(f"{card.key}: {heading}", getattr(ticket, what) or "", placeholder),
                                      lambda text: write(None if text is None else {what: text or None}))

    def write_triage(self, card: Card, changes: dict[str, Any] | None = None,
                     cycle: str | None = None) -> None:
        if self.host.writes.busy:  # a dialog answered while a move was still being written
            self.host.writes.after(lambda: self.write_triage(card, changes, cycle))
            return
        self.host.writes.start()
        self._triage_worker(card, changes or {}, cycle)

    @hosted_work(group="board-write")
    def _triage_worker(self, card: Card, changes: dict[str, Any], cycle: str | None) -> None:
        try:
            if cycle is not None:
                changes = {cycle: _next_answer(self.host.service.get(card.key), cycle, self.host.service)}
            result = self.host.service.triage(card.key, by=self.host.user, expected_version=card.version, **changes)
        except Exception as exc:  # noqa: BLE001 - never a stuck board
            self._write_refused(exc, card, "Triage refused")
            return
        if result.history is not None:
            self.host.app.call_from_thread(self.host.undo_stack.append, card.key)  # `u` on the board takes it back
        notes = list(result.warnings)
        old, new = result.changes.get("priority", (None, None))
        if new == 1 and old != 1:
            notes.append(f"{card.key} is P1: review immediately; the escalation clock started")
        self._write_applied(result.ticket, tuple(notes))

    def _write_applied(self, ticket: Any, notes: tuple[str, ...] = ()) -> None:
        """In a worker: hand the fresh ticket (its place in its column, the panel's view) to the board."""
        position = self.host.source.position_of(ticket.state, ticket.id)
        number = self.host.column(ticket.state).page_number(position)
        pages = {number: self.host.source.page(ticket.state, number * PAGE_SIZE, PAGE_SIZE)}
        by_state = {ticket.state: pages}
        self.host.label_pages(by_state)  # the new version's countdown, here: no painting asks for it later
        pages = by_state[ticket.state]
        outcome = TriageOutcome(ticket.key, ticket.state, position, self.triage_view(ticket), notes, pages)
        self.host.app.call_from_thread(self._apply_write, outcome)

    def _write_refused(self, exc: Exception, card: Card, title: str) -> None:
        """In a worker: say why the write did not happen; `_refused` ends the write whatever the error."""
        states = {card.state}
        if isinstance(exc, Conflict):
            states.add(exc.ticket.state)
            title = "Changed elsewhere"
        message = str(exc) if isinstance(exc, Refused) else write_error(card.key, exc)
        self.host.app.call_from_thread(self._refused, message, title, tuple(states))

    def _refused(self, message: str, title: str, states: tuple[str, ...]) -> None:
        self.host.notify(message, title=title, severity="error", timeout=8)
        for state in states:
            self.host.column(state).invalidate()
        self.host.writes.done()

    def _apply_write(self, outcome: TriageOutcome) -> None:
        """Repaint only the card's column; the cursor follows the card if the order moved it."""
        column = self.host.column(outcome.state)
        column.invalidate(outcome.pages)
        if outcome.position is not None and column is self.host.focused_column:
            column.cursor = outcome.position
        if self.triage_on:
            self._show_triage(outcome.view)
        if column is self.host.focused_column:  # the status line describes the fresh card
            column.post_message(column.CardHighlighted(column, column.current_card))
        for note in outcome.notes:
            self.host.notify(note, severity="warning")
        self.host.count_untriaged()  # the header's figure is what triaging is for: now, not with the recount
        self.host.writes.done()

    # -- assign ------------------------------------------------------------

    def action_assign(self) -> None:
        card = self._card_for_write(self.action_assign)
        if card is not None:
            self._suggest_worker(card)

    @hosted_work(group="triage-dialog", exclusive=True)
    def _suggest_worker(self, card: Card) -> None:
        try:
            suggestion = self.host.service.suggest_assignee(card.key, by=self.host.user)
        except Refused as exc:
            self.host.app.call_from_thread(self.host.notify, str(exc), title="No suggestion", severity="error")
            return
        from app.tui.screens.triage_dialogs import AssignDialog, Candidate

        candidates = [Candidate(m.handle, m.name, suggestion.open_work.get(m.handle) if m.available else None)
                      for m in self.host.service.config.team]
        candidates.sort(key=lambda c: (c.open_work is None, c.open_work or 0, c.handle))
        dialog = AssignDialog(card.key, suggestion.handle, candidates, suggestion.last_asked,
                              suggestion.ticket.assignee)
        version = suggestion.ticket.version

        def chosen(handle: str | None) -> None:
            if handle:
                self.write_assign(msgspec.structs.replace(card, version=version), handle)

        self.host.app.call_from_thread(self.host.app.push_screen, dialog, chosen)

    def write_assign(self, card: Card, handle: str) -> None:
        if self.host.writes.busy:
            self.host.writes.after(lambda: self.write_assign(card, handle))
            return
        self.host.writes.start()
        self._assign_worker(card, handle)

    @hosted_work(group="board-write")
    def _assign_worker(self, card: Card, handle: str) -> None:
        try:
            result = self.host.service.assign(card.key, handle, by=self.host.user, expected_version=card.version)
        except Exception as exc:  # noqa: BLE001 - never a stuck board
            self._write_refused(exc, card, "Assign refused")
            return
        if result.history is not None:
            self.host.app.call_from_thread(self.host.undo_stack.append, card.key)
        self._write_applied(result.ticket, (*result.warnings, f"{card.key} assigned to {handle}"))

    # -- new ticket ----------------------------------------------------------

    def action_new_ticket(self) -> None:
        from app.tui.screens.triage_dialogs import NewTicketDialog

        def chosen(new: NewTicket | None) -> None:
            if new is not None:
                self.write_new(new)

        self.host.app.push_screen(NewTicketDialog(KINDS, self.host.service.config.services), chosen)

    def write_new(self, new: NewTicket) -> None:
        if self.host.refused_read_only():
            return
        if self.host.writes.busy:
            self.host.writes.after(lambda: self.write_new(new))
            return
        self.host.writes.start()
        self._create_worker(new)

    @hosted_work(group="board-write")
    def _create_worker(self, new: NewTicket) -> None:
        try:
            ticket = self.host.service.create(title=new.title, by=self.host.user, requester_email=new.requester_email,
                                              kind=new.kind, service=new.service)
        except Exception as exc:  # noqa: BLE001 - never a stuck board
            message = str(exc) if isinstance(exc, Refused) else write_error(new.title, exc)
            self.host.app.call_from_thread(self._refused, message, "Not created", ())
            return
        self.host.own_versions[ticket.id] = ticket.version  # `_created` counts it: its echo must not again
        position = self.host.source.position_of(ticket.state, ticket.id)
        self.host.app.call_from_thread(self._created, ticket.key, ticket.state, position)

    def _created(self, key: str, state: str, position: int | None) -> None:
        column = self.host.column(state)
        if position is None:
            self.host.notify(f"{key} created; the board's filter hides it", title="Created", severity="warning")
        else:
            column.count += 1
            column.invalidate()
            self.host.focus_card(state, position)
            self.host.notify(f"{key} is in {column.title}: triage it with t", title="Created")
        self.host.count_untriaged()
        self.host.writes.done()

    # -- order ---------------------------------------------------------------

    def _rank_mode(self, state: str) -> str:
        """`Service.rank`'s name for the column's order."""
        return "work" if self.host.source.order_of(state) == "priority" else "manual"

    def action_rank(self, direction: str) -> None:
        card = self._card_for_write(lambda: self.action_rank(direction))
        if card is None:
            return
        self.host.writes.start()
        self._rank_worker(card, direction, self._rank_mode(card.state))

    @hosted_work(group="board-write")
    def _rank_worker(self, card: Card, direction: str, mode: str) -> None:
        try:
            result = self.host.service.rank(card.key, direction, by=self.host.user, mode=mode,
                                            expected_version=card.version)
        except Exception as exc:  # noqa: BLE001 - never a stuck board
            self._write_refused(exc, card, "Not moved")
            return
        self._write_applied(result.ticket)

    # -- palette and help ------------------------------------------------------

    def palette_commands(self, card: Card | None) -> list[PaletteCommand]:
        commands: list[PaletteCommand] = []
        if card is not None:
            verb = "Leave triage mode" if self.triage_on else f"Triage {card.key}"
            commands += [
                PaletteCommand(verb, self.action_toggle_triage, "the triage panel: each answer has a key"),
                PaletteCommand(f"Assign {card.key}…", self.action_assign,
                               "suggests the available member with the least open work"),
                PaletteCommand(f"Rank {card.key} up", lambda: self.action_rank("up"), "within its column"),
                PaletteCommand(f"Rank {card.key} down", lambda: self.action_rank("down"), "within its column"),
            ]
        commands.append(PaletteCommand("New ticket…", self.action_new_ticket, "lands in the first column"))
        return commands

    def key_help(self, listed: set[str]) -> list:
        """The triage-mode keys the help would otherwise miss while triage mode is off."""
        from app.tui.screens.help import KeyHelp

        entries: dict[str, tuple[list[str], str]] = {}
        for key, bindings in self.host.bound_keys().items():
            for binding in bindings:
                if binding.id and binding.id.startswith("triage.") and binding.id not in listed:
                    keys, _ = entries.setdefault(binding.id, ([], binding.description))
                    keys.append(self.host.app.get_key_display(binding.with_key(key)))
        return [KeyHelp(", ".join(keys), f"{description} (triage mode)", ident)
                for ident, (keys, description) in entries.items()]


def _next_answer(ticket: Any, field: str, service: Any) -> Any:
    """The answer after the current one in the row's choices (None, unanswered, is one of them)."""
    row: PanelRow = next(r for r in panel_rows(ticket, service.config.triage, service.today()) if r.field == field)
    current = getattr(ticket, field)
    choices = row.choices
    index = choices.index(current) if current in choices else -1
    return choices[(index + 1) % len(choices)]


__all__ = ["TRIAGE_BOARD_BINDINGS", "TRIAGE_MODE_BINDINGS", "TriageKeys", "TriageOutcome"]
