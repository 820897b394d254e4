"""The command palette (ctrl+p): commands that depend on the card under the cursor.

As in posting's `commands.py`, the provider asks the screen it was opened
from for its commands at that moment, so "Move SET-42 to Ready" lists only
the moves the workflow allows for the selected card.
"""

from __future__ import annotations

from typing import Callable

import msgspec
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider, SearchIcon

SEARCH_ICON = ">"
"""Before the palette's input, instead of Textual's 🔎: an emoji many terminal fonts draw as a box."""


class PaletteCommand(msgspec.Struct, frozen=True):
    name: str
    run: Callable[[], object]
    help: str = ""


def move_command(key: str, source: str, target: str, held: int, limit: int | None,
                 policy: str) -> tuple[str, str]:
    """The palette's name and help for a move of `key` from column `source` to `target` (titles).

    `held` is how many cards the target holds in all (not only those a filter
    shows), the count the service's refusal quotes, so a move the WIP limit
    will refuse is marked "(at limit)" rather than offered as if it would work.
    """
    name, help = f"Move {key} to {target}", f"{key}: {source} → {target}"
    if limit is not None and held + 1 > limit:
        outcome = "the move is refused" if policy == "refuse" else "allowed with a warning"
        name, help = f"{name} (at limit)", f"{target} is at its WIP limit ({held}/{limit}): {outcome}"
    return name, help


class BoardPalette(CommandPalette):
    """Textual's palette with a search icon every terminal font has."""

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = SEARCH_ICON


class BoardCommands(Provider):
    """Reads `palette_commands()` from the calling screen (the board)."""

    def _commands(self) -> list[PaletteCommand]:
        source = getattr(self.screen, "palette_commands", None)
        return list(source()) if callable(source) else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, text=command.name,
                          help=command.help)


__all__ = ["BoardCommands", "BoardPalette", "PaletteCommand", "move_command"]
