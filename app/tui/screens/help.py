"""`?`: every key the board answers to, with what it does and its id for `keys:` in config.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Mapping

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

if TYPE_CHECKING:
    from textual.binding import ActiveBinding


class KeyHelp(msgspec.Struct, frozen=True):
    keys: str
    description: str
    binding_id: str


def board_key_help(active: Mapping[str, ActiveBinding], key_display: Callable[[Binding], str],
                   more: Callable[[set[str]], list[KeyHelp]], keymap: Mapping[str, str]) -> list[KeyHelp]:
    """The board's help: every active binding, keys of one action joined (what the footer shows and what
    it hides), then what `more` adds for the ids not listed (the triage-mode keys), then the detail
    view's and the reports screen's keys as `keymap` remaps them (enter and `r` open them: `?` is where
    a user looks for them)."""
    from app.tui.screens.detail import CardDetailScreen
    from app.tui.screens.reports import ReportsScreen

    entries: dict[tuple[str, str], list[str]] = {}
    ids: dict[tuple[str, str], str] = {}
    for key, bound in active.items():
        binding = bound.binding
        if binding.system and binding.action != "command_palette":
            continue
        ident = (binding.action, binding.description)
        entries.setdefault(ident, []).append(key_display(binding.with_key(key)))
        ids[ident] = binding.id or ""
    reports = [KeyHelp(keymap.get(binding.id, binding.key_display or binding.key), f"{where}: {binding.description}",
                       binding.id or "")
               for where, screen in (("Detail view", CardDetailScreen), ("Reports", ReportsScreen))
               for binding in screen.BINDINGS if isinstance(binding, Binding) and binding.id != "dialog.close"]
    return [*[KeyHelp(", ".join(keys), description or action, ids[(action, description)])
              for (action, description), keys in entries.items()], *more(set(ids.values())), *reports]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="dialog.close")]

    def __init__(self, entries: list[KeyHelp]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog--wide"):
            yield Label("Keys  (remap any of them by id under keys: in config.yaml)", classes="dialog--title")
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("keys", "does", "id")
            for entry in self.entries:
                table.add_row(Text(entry.keys), Text(entry.description), Text(entry.binding_id))
            yield table
            yield Label("", id="help-more", classes="dialog--more")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.watch(table, "scroll_y", lambda _y: self._show_more(), init=False)
        self.call_after_refresh(self._show_more)

    def _show_more(self) -> None:
        """The table scrolls: say which rows are in view and that more lie below (or above)."""
        table = self.query_one(DataTable)
        shown = max(table.scrollable_content_region.height - 1, 1)  # less the header row
        first = round(table.scroll_y) + 1
        last = min(len(self.entries), first + shown - 1)
        if last >= len(self.entries) and first == 1:
            text = f"{len(self.entries)} keys · escape closes"
        else:
            below = "  ↓ more below (pgdn)" if last < len(self.entries) else ""
            text = f"keys {first}–{last} of {len(self.entries)}{below} · escape closes"
        self.query_one("#help-more", Label).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
