"""The command palette (ctrl+p): commands that depend on the card under the cursor.

As in posting's `commands.py`, the provider asks the screen it was opened
from for its commands at that moment, so "Move SET-42 to Ready" lists only
the moves the workflow allows for the selected card.
"""

from __future__ import annotations

from typing import Callable

import msgspec
from textual.command import DiscoveryHit, Hit, Hits, Provider


class PaletteCommand(msgspec.Struct, frozen=True):
    name: str
    run: Callable[[], object]
    help: str = ""


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


__all__ = ["BoardCommands", "PaletteCommand"]
