"""The triage dialogs: free-text answers, the intake texts, a priority override, whom to assign, a new ticket.

Each is a `ModalScreen[T]` that dismisses with its answer, or None when the
user backs out with escape; the board screen decides what to write. Each answer
writes, so each takes its confirming key only once it has been on the screen
(`app.screens.seen`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import msgspec
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from app.tui.screens.pickers import _Picker
from app.tui.screens.seen import SeenFirst
from widgets.safe_text import shown


def kept(edited: str, stored: str) -> str:
    """What a field prefilled with `shown(stored)` means: the stored text itself when left as shown.

    A field shows stored text escaped (a control character as `␛`, never raw to the
    terminal); saving it untouched must not write the escaped form back over the original.
    """
    return stored if edited == shown(stored) else edited


class TextPrompt(SeenFirst, ModalScreen[str]):
    """One free-text answer (ETA, event date). Enter keeps it; an empty answer clears it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, heading: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(shown(self.heading)), classes="dialog--title")
            yield Input(value=shown(self.value), placeholder=self.placeholder)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.seen():
            self.dismiss(kept(event.value, self.value).strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


INTAKE_LABELS = (
    ("description", "Short description"),
    ("background", "Background / context"),
    ("impact_statement", "Impact"),
    ("extra_info", "Extra information"),
)
"""Sourcegraph's intake fields, as `Service.triage` names them."""


class IntakeForm(SeenFirst, ModalScreen[dict]):
    """The four intake texts in one form: tab between them, enter saves all four."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, key: str, values: Mapping[str, str]) -> None:
        super().__init__()
        self.key = key
        self.values = values

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(shown(f"{self.key}: what the request says (enter saves, escape cancels)")),
                        classes="dialog--title")
            for name, label in INTAKE_LABELS:
                yield Label(label)
                yield Input(value=shown(self.values.get(name) or ""), id=f"intake-{name}")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.seen():
            return
        answers = {name: kept(self.query_one(f"#intake-{name}", Input).value, self.values.get(name) or "").strip()
                   for name, _ in INTAKE_LABELS}
        self.dismiss({name: value for name, value in answers.items() if value != (self.values.get(name) or "")})

    def action_cancel(self) -> None:
        self.dismiss(None)


class PriorityPicker(_Picker):
    """`p`: override the matrix with P1..P4."""

    def __init__(self, key: str, current: int | None, matrix_says: int | None) -> None:
        def label(level: int) -> str:
            notes = [note for note, hit in (("current", level == current), ("matrix", level == matrix_says)) if hit]
            return f"P{level}" + (f"  ({', '.join(notes)})" if notes else "")

        super().__init__(f"Override the priority of {key} (P clears the override)",
                         [(str(level), label(level)) for level in (1, 2, 3, 4)],
                         highlight=str(current) if current else None)


class Candidate(msgspec.Struct, frozen=True):
    handle: str
    name: str
    open_work: int | None
    """Assigned tickets not yet closed; None for someone not counted (unavailable)."""


class AssignDialog(_Picker):
    """`a`: the fair suggestion first and highlighted; enter accepts it, or pick someone else."""

    def __init__(self, key: str, suggested: str, candidates: Sequence[Candidate], last_asked: str | None,
                 current: str | None) -> None:
        def label(c: Candidate) -> str:
            work = "unavailable" if c.open_work is None else f"{c.open_work} open"
            notes = [note for note, hit in (("suggested", c.handle == suggested),
                                            ("asked last", c.handle == last_asked),
                                            ("assigned now", c.handle == current)) if hit]
            return f"{c.handle:<8} {c.name:<16} {work}" + (f"  ← {', '.join(notes)}" if notes else "")

        super().__init__(f"Assign {key}: the suggestion is {suggested} (least open work, not the last one asked)",
                         [(c.handle, label(c)) for c in candidates], highlight=suggested)
        self.suggested = suggested


class NewTicket(msgspec.Struct, frozen=True):
    title: str
    requester_email: str
    kind: str
    service: str | None


class _Form(VerticalScroll, can_focus=False):
    """A scrolling form that is no tab stop itself: tab goes from field to field."""


class NewTicketDialog(SeenFirst, ModalScreen[NewTicket]):
    """`n`: title, requester e-mail, kind and service; enter in a text field, ctrl+s or Create creates it.

    One line per field (compact widgets), so the whole form fits a 60x20
    terminal; the form scrolls should it not. A dropdown opens inline, pushing
    the fields below it down, so it is drawn inside the dialog, never over its
    border or off the screen.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("ctrl+s", "create", "Create", id="dialog.create")]

    def __init__(self, kinds: Sequence[str], services: Sequence[str], kind: str = "bug") -> None:
        super().__init__()
        self.kinds = kinds
        self.services = services
        self.kind = kind

    def compose(self) -> ComposeResult:
        with _Form(classes="dialog", id="new-ticket"):
            yield Label("New ticket", classes="dialog--title")
            with Horizontal(classes="new-ticket--row"):
                yield Label("Title")
                yield Input(id="new-title", placeholder="what is wrong, in a line", compact=True)
            with Horizontal(classes="new-ticket--row"):
                yield Label("Requester")
                yield Input(id="new-requester", placeholder="ana@school.example", compact=True)
            with Horizontal(classes="new-ticket--row"):
                yield Label("Kind")
                yield Select([(k, k) for k in self.kinds], value=self.kind, allow_blank=False, id="new-kind",
                             compact=True)
            with Horizontal(classes="new-ticket--row"):
                yield Label("Service")
                yield Select([(s, s) for s in self.services], prompt="(none)", id="new-service", compact=True)
            with Horizontal(id="new-ticket-buttons"):
                yield Button("Create", id="new-create", variant="primary", compact=True)
                yield Label("enter or ctrl+s creates · esc cancels", classes="dialog--hint")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_create()

    @on(Button.Pressed, "#new-create")
    def create_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_create()

    def action_create(self) -> None:
        if not self.seen():
            return
        title = self.query_one("#new-title", Input).value.strip()
        if not title:
            self.notify("a ticket needs a title", severity="error")
            self.query_one("#new-title", Input).focus()
            return
        service = self.query_one("#new-service", Select)
        self.dismiss(NewTicket(title=title, requester_email=self.query_one("#new-requester", Input).value.strip(),
                               kind=str(self.query_one("#new-kind", Select).value),
                               service=None if service.is_blank() else str(service.value)))

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["AssignDialog", "Candidate", "IntakeForm", "NewTicket", "NewTicketDialog", "PriorityPicker",
           "TextPrompt"]
