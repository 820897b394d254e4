"""The board's conversation keys: `R` reply to the requester, `N` internal note, `e` edit the ticket, and
the detail view's `l` link.

A part the board screen composes (`ConversationKeys(board)`), seeing the board only through
`BoardHost`, as the moves and the triage keys do. What differs: the dialog stays open while
its write runs, so a refusal (a stale version, no requester address) is said in the dialog,
in one line, and nothing typed is lost; only a write that went through closes it. The write
itself follows the board's pattern: serialised with the moves by the `WriteGate`, run in a
thread worker with the version the dialog was filled from, the card's column repainted from
pages read in that worker, and its countdown worked out afresh there (a reply is the first
response: the card's clock moves on to the next update).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual.binding import Binding

from app.board.ordering import BUG_CLASSES
from app.config.settings import KINDS
from app.service import Conflict, Refused, write_error
from app.service.conversation import EDITABLE
from app.tui.commands import PaletteCommand
from app.tui.screens.board_host import BoardHost, hosted_work
from app.tui.screens.compose import Outcome
from widgets.column import PAGE_SIZE

if TYPE_CHECKING:
    from app.tui.screens.compose import Submit
    from widgets.card import Card

CONVERSATION_BINDINGS = [
    Binding("R", "reply", "Reply", id="board.reply"),
    Binding("N", "note", "Note", show=False, id="board.note"),
    Binding("e", "edit", "Edit", show=False, id="board.edit"),
]
"""Always active. `e` is also triage mode's deadline key: the triage bindings come first and win there."""

Write = Callable[[int | None], Any]
"""A service write, given the version to guard with; returns its result (with `.ticket`)."""


class ConversationKeys:
    """Reply, note, edit and link for one board (and for the detail view opened from it)."""

    def __init__(self, host: BoardHost) -> None:
        self.host = host

    # -- asking ------------------------------------------------------------

    def _key(self, key: str | None) -> str | None:
        if key is not None:
            return key
        if self.host.refused_read_only():
            return None
        card = self.host.current_card
        if card is None:
            self.host.app.bell()
            return None
        return card.key

    def action_reply(self, key: str | None = None, after: Callable[[], None] | None = None) -> None:
        self._open("reply", key, after)

    def action_note(self, key: str | None = None, after: Callable[[], None] | None = None) -> None:
        self._open("note", key, after)

    def action_edit(self, key: str | None = None, after: Callable[[], None] | None = None) -> None:
        self._open("edit", key, after)

    def _open(self, mode: str, key: str | None, after: Callable[[], None] | None) -> None:
        if key is not None and self.host.refused_read_only():
            return
        key = self._key(key)
        if key is not None:
            self._open_worker(mode, key, after)

    @hosted_work(group="conversation-dialog", exclusive=True)
    def _open_worker(self, mode: str, key: str, after: Callable[[], None] | None) -> None:
        """Read what the dialog shows (recipient and subject, or the ticket's fields) off the event loop."""
        service = self.host.service
        try:
            if mode == "edit":
                ticket = service.get(key)
                values = {name: getattr(ticket, name) or "" for name in EDITABLE}
                opened: Any = (ticket.version, values)
            else:
                opened = service.compose(key)
        except Refused as exc:
            self.host.app.call_from_thread(self.host.notify, str(exc), title="Not opened", severity="error",
                                      markup=False)
            return
        self.host.app.call_from_thread(self._push, mode, key, opened, after)

    def _push(self, mode: str, key: str, opened: Any, after: Callable[[], None] | None) -> None:
        from app.tui.screens import compose as dialogs

        service = self.host.service

        def closed(message: str | None) -> None:
            if message:
                self.host.notify(message, title={"reply": "Sent", "note": "Noted", "edit": "Saved"}[mode],
                                 markup=False)  # "[SET-1]" in a subject is no markup tag
                if after is not None:
                    after()

        if mode == "edit":
            version, values = opened
            dialog = dialogs.EditDialog(key, version, values, kinds=KINDS, bug_classes=BUG_CLASSES,
                                        services=service.config.services, check=service.check_edit,
                                        submit=self._edit_submit(key))
        else:
            snippets = [(name, tuple(s.sets)) for name, s in service.snippets.items()] if mode == "reply" else []
            dialog = dialogs.ComposeDialog(mode, opened, snippets=snippets, fill=self._filler(key),
                                           submit=self._message_submit(mode, key))
        self.host.app.push_screen(dialog, closed)

    def _filler(self, key: str) -> Callable[[str, str | None], str]:
        service, user = self.host.service, self.host.user
        return lambda name, eta: service.snippet_text(key, name, by=user, eta=eta)

    def _message_submit(self, mode: str, key: str) -> Submit:
        service, user = self.host.service, self.host.user

        def submit(draft: Any, version: int | None, answered: Callable[[Outcome], None]) -> None:
            if mode == "reply":
                def write(guard: int | None) -> Any:
                    return service.reply(key, draft.text, by=user, snippet=draft.snippet, eta=draft.eta,
                                         expected_version=guard)

                def said(result: Any) -> str:
                    told = f"{key}: reply to {result.notification.recipient} queued ({result.notification.subject})"
                    if result.triage is not None:
                        told += f"; {result.triage.reason}"
                    first = result.ticket.first_response
                    if first is not None and first == result.history.at:
                        told += "; first response met"
                    return told
            else:
                def write(guard: int | None) -> Any:
                    return service.note(key, draft.text, by=user, expected_version=guard)

                def said(result: Any) -> str:
                    return f"{key}: internal note added (never mailed)"

            self.write(key, version, write, said, answered)

        return submit

    def _edit_submit(self, key: str) -> Submit:
        service, user = self.host.service, self.host.user

        def submit(changes: Any, version: int | None, answered: Callable[[Outcome], None]) -> None:
            def said(result: Any) -> str:
                if result.history is None:
                    return f"{key}: nothing changed"
                return f"{key}: {result.history.reason}"

            self.write(key, version,
                       lambda guard: service.edit_ticket(key, changes, by=user, expected_version=guard),
                       said, answered)

        return submit

    def action_link(self, key: str, after: Callable[[], None] | None = None) -> None:
        """The detail view's `l`: a URL and an optional label, checked as they are typed."""
        if self.host.refused_read_only():
            return
        from app.tui.screens.compose import LinkDialog

        service, user = self.host.service, self.host.user

        def submit(link: Any, version: int | None, answered: Callable[[Outcome], None]) -> None:
            url, label = link
            self.write(key, version, lambda guard: service.link(key, url, label=label, by=user, expected_version=guard),
                       lambda result: f"{key}: linked {label} <{url}>", answered)

        def closed(message: str | None) -> None:
            if message:
                self.host.notify(message, title="Linked", markup=False)
                if after is not None:
                    after()

        self.host.app.push_screen(LinkDialog(key, check=service.check_link, submit=submit), closed)

    # -- writing -----------------------------------------------------------

    def write(self, key: str, version: int | None, write: Write, said: Callable[[Any], str],
              answered: Callable[[Outcome], None]) -> None:
        """Run `write` after any write in flight, then tell the dialog how it went (`answered`)."""
        if self.host.writes.busy:
            self.host.writes.after(lambda: self.write(key, version, write, said, answered))
            return
        self.host.writes.start()
        self._write_worker(key, version, write, said, answered)

    @hosted_work(group="board-write")
    def _write_worker(self, key: str, version: int | None, write: Write, said: Callable[[Any], str],
                      answered: Callable[[Outcome], None]) -> None:
        host = self.host
        try:
            result = write(version)
        except Exception as exc:  # noqa: BLE001 - a refusal, or anything else: one line, never a stuck board
            fresh = exc.ticket if isinstance(exc, Conflict) else None
            message = str(exc) if isinstance(exc, Refused) else write_error(key, exc)
            if fresh is not None:
                host.own_versions[fresh.id] = fresh.version
                message += "; nothing was written. What you typed is kept: check the ticket and ctrl+s again"
            host.app.call_from_thread(self._applied, Outcome(ok=False, message=message, conflict=fresh is not None,
                                                             version=fresh.version if fresh else None),
                                      fresh.state if fresh else None, None, {}, [], answered)
            return
        ticket = result.ticket
        host.own_versions[ticket.id] = ticket.version
        _, risky, gone = host.source.evaluate_sla([ticket.id])  # a reply met the first response: the clock moved on
        position = host.source.position_of(ticket.state, ticket.id)
        number = host.column(ticket.state).page_number(position)
        pages = {ticket.state: {number: host.source.page(ticket.state, number * PAGE_SIZE, PAGE_SIZE)}}
        host.label_pages(pages)
        outcome = Outcome(ok=True, message=said(result), version=ticket.version)
        host.app.call_from_thread(self._applied, outcome, ticket.state, position, pages[ticket.state],
                                  (risky, gone), answered)

    def _applied(self, outcome: Outcome, state: str | None, position: int | None, pages: dict[int, list[Card]],
                 risk: Any, answered: Callable[[Outcome], None]) -> None:
        host = self.host
        if state is not None:
            column = host.column(state)
            column.invalidate(pages or None)
            if outcome.ok and risk:
                host.patch_risk(*risk)
            if column is host.focused_column:
                if position is not None:
                    column.cursor = position
                column.post_message(column.CardHighlighted(column, column.current_card))  # the status line too
        host.writes.done()
        answered(outcome)

    # -- palette -----------------------------------------------------------

    def palette_commands(self, card: Card | None) -> list[PaletteCommand]:
        if card is None:
            return []
        return [
            PaletteCommand(f"Reply to {card.key}'s requester…", self.action_reply,
                           "a mail from the outbox; snippets with ctrl+t; counts as a response"),
            PaletteCommand(f"Internal note on {card.key}…", self.action_note, "for the team only, never mailed"),
            PaletteCommand(f"Edit {card.key}…", self.action_edit,
                           "title, description, requester, kind, bug class, service, team"),
        ]

__all__ = ["CONVERSATION_BINDINGS", "ConversationKeys"]
