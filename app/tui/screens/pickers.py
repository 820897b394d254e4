"""Small dialogs of the board: pick a target column or a hold reason (the filter is `widgets.filter_bar`).

Each is a `ModalScreen[T]` that dismisses with its answer (None when the
user backs out with escape), as posting's `widgets/confirmation.py` does; the
board screen decides what to do with the answer. A picker's answer writes, so
it takes enter only once it has been on the screen (`app.screens.seen`).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from app.board.workflow import HOLD_REASONS, Workflow
from app.tui.screens.seen import SeenFirst
from widgets.safe_text import shown


class _Picker(SeenFirst, ModalScreen[str]):
    """A titled list of options; enter picks one, escape cancels. `highlight` is the option first under the cursor."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, heading: str, options: list[tuple[str, str]], highlight: str | None = None) -> None:
        super().__init__()
        self.heading = heading
        self.choices = options
        """(id, plain-text label) pairs, in the order shown."""
        self.highlight = highlight

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(shown(self.heading)), classes="dialog--title")
            yield OptionList(*[Option(Text(shown(label)), id=key) for key, label in self.choices])

    def on_mount(self) -> None:
        ids = [key for key, _ in self.choices]
        if self.highlight in ids:
            self.query_one(OptionList).highlighted = ids.index(self.highlight)

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.seen():
            self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MovePicker(_Picker):
    """`m`: the columns the workflow allows from the card's column, and nothing else."""

    def __init__(self, workflow: Workflow, key: str, state: str) -> None:
        targets = [(t, f"{workflow.column(t).title}  ({t})") for t in workflow.allowed(state)]
        super().__init__(f"Move {key} from {workflow.column(state).title} to…", targets)


class HoldReasonPicker(_Picker):
    """A move into an on-hold column needs to know who the ticket waits on."""

    def __init__(self, workflow: Workflow, key: str, target: str) -> None:
        column = workflow.column(target)
        statuses = column.support_status if column.is_hold else {}
        waits = {"requester": "waiting on the requester", "external": "waiting on a third party"}
        options = [(reason, f"{waits.get(reason, reason)}  — the requester sees {statuses.get(reason, reason)}")
                   for reason in HOLD_REASONS]
        super().__init__(f"Why is {key} going to {column.title}?", options)
