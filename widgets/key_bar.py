"""The bottom line: the keys the screen shows (`Binding(show=True)`) and what each does, in one widget.

Textual's `Footer` composes nothing on its first frame and then, once the
screen's bindings are known, mounts a widget per key: on the board that is
fifteen widgets styled and laid out after the board is up, and the line of
keys appeared 180 ms after the board did (bench/bench_startup.py). This bar
paints the same keys in the first frame, one line of text, and repaints
itself when the screen's bindings change. A click on a key presses it, as
the footer's keys do.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

_DIM = Style(dim=True)


class KeySpan(NamedTuple):
    start: int
    end: int
    key: str
    enabled: bool


class KeyBar(Widget):
    """Each shown binding as ` key description `, the command palette's key on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: clip;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[KeySpan] = []
        """Where each key sits on the line as last painted, for clicks."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def shown(self) -> tuple[list[tuple[Binding, bool]], tuple[Binding, bool] | None]:
        """The bindings to show, one per action, in the screen's order; and the command palette's."""
        active = self.screen.active_bindings
        seen: set[str] = set()
        keys: list[tuple[Binding, bool]] = []
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                keys.append((binding, enabled))
        # In the order the screen declares its bindings: a binding remapped by `keys:` is re-made by
        # Textual's keymap at the end of the screen's map, where it fell off the end of the bar.
        declared = {binding.id: index for index, binding in enumerate(getattr(self.screen, "BINDINGS", ()))
                    if isinstance(binding, Binding) and binding.id}
        order = {id(binding): (declared.get(binding.id, len(declared)), index)
                 for index, (binding, _) in enumerate(keys)}
        keys.sort(key=lambda item: order[id(item[0])])
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = (binding, enabled)
            keys = [(b, e) for b, e in keys if b.action != binding.action]
        return keys, palette

    def render_line(self, y: int) -> Strip:
        """The one line, as segments (the Line API): Textual's `Content` would wrap and align a line
        that is never wrapped, and that was most of the bar's cost in the board's first frame."""
        width = self.size.width
        base = self.rich_style
        if y:
            return Strip.blank(width, base)
        keys, palette = self.shown()
        key_style = base + self.get_component_rich_style("key-bar--key", partial=True)
        description_style = base + self.get_component_rich_style("key-bar--description", partial=True)
        segments: list[Segment] = []
        self._spans = []

        def label(binding: Binding) -> tuple[str, str]:
            return f" {self.app.get_key_display(binding)} ", f"{binding.description} " if binding.description else ""

        def add(binding: Binding, enabled: bool, at: int) -> int:
            key, description = label(binding)
            dim = _DIM if not enabled else None
            segments.append(Segment(key, key_style + dim if dim else key_style))
            if description:
                segments.append(Segment(description, description_style + dim if dim else description_style))
            end = at + cell_len(key) + cell_len(description)
            self._spans.append(KeySpan(at, end, binding.key, enabled))
            return end

        room = width - (sum(map(cell_len, label(palette[0]))) if palette is not None else 0)
        position = 0
        for binding, enabled in keys:
            if position + sum(map(cell_len, label(binding))) > room:
                break  # what does not fit is in the help (?) and the palette
            position = add(binding, enabled, position)
        if palette is not None:
            gap = max(1, room - position)
            segments.append(Segment(" " * gap, base))
            add(palette[0], palette[1], position + gap)
        return Strip(segments).adjust_cell_length(width, base)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for span in self._spans:
            if span.start <= event.x < span.end:
                if span.enabled:
                    self.app.simulate_key(span.key)
                else:
                    self.app.bell()
                return


__all__ = ["KeyBar"]
