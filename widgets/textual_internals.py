"""Every use of Textual's private API, in one place, each with the reason for it.

The board's column paints its own rows (widgets/column.py `render_lines`): Textual's
`StylesCache` rebuilds each line it repaints, about 100 µs a line, and a move shifts every
card below it in two columns. To draw exactly what Textual would, cell for cell, the column
borrows Textual's own border drawing and a few of its internal hooks. None of these is public,
so a Textual release may change them without notice; keeping them here means an upgrade is
checked in one module, by one test (tests/unit/test_textual_internals.py, which fails loudly
when a name, a signature or a behaviour relied on here changes; and
tests/tui/test_board.py::test_the_columns_own_painting_matches_textuals, which compares the
column's rows with Textual's pipeline cell for cell).

What is used, and why:

- `textual._border.get_box`, `render_border_label`, `render_row`: the border cells and the
  titled top and bottom rows, drawn by the same code Textual uses, so the column's fast path
  and Textual's pipeline paint the same frame.
- `textual._styles_cache.StylesCache.get_inner_outer`: the inner and outer background styles
  the border cells are drawn with.
- `Widget._get_title_style_information` / `_get_subtitle_style_information`: the colours of
  the border title and subtitle, as Textual works them out.
- `Widget._border_title` / `_border_subtitle`: the title as set (a `Content`), read without
  the public property's conversion, to compare it with what a row was painted with.
- `RenderStyles._cache_key` (the styles' update count): any rule set since the frame was
  worked out (an inline border on the active column) redoes it.
- `ScrollView._scroll_update`: sets the scrollable height without the layout pass that
  assigning `virtual_size` triggers (a full-screen reflow on every move).
- `Widget._set_dirty`: where every `refresh()` arrives with the regions to repaint; the
  column forgets the rows it handed Textual for those regions (`DirtyRows`).
- `App._thread_id`: the event loop's thread, to tell a call from a worker from one on the
  loop.
- `Compositor` (its `render_partial_update`, `_get_renders`, `_dirty_regions` and
  `visible_widgets`): Textual renders, for a partial update, every widget whose clip meets
  the box around all the dirty regions, and a column's clip is the whole row of columns, so
  a move (two columns and the status line dirty) rendered and cut every column of the board.
  `DirtyOnlyCompositor` renders only the widgets a dirty region meets: the others' cells lie
  outside every span the update writes, so the frame is the same (a fifth of the repaint).
- `DOMNode._bindings.key_to_bindings`: a screen's bindings after `keys:` remapping, key by
  key, for the keys the triage panel and the help name (the public `active_bindings` holds
  only the bindings live in the current mode).
- `App._display` and `App._batch_count` (`FrameWatch`): the one place a composited frame
  goes to the terminal, and the count that makes it drop the frame (`batch_update`). A
  dialog that writes acts only once a whole frame of it was handed to the terminal: Textual
  can lose a screen's first frame (the compositor clears its dirty regions, then `_display`
  drops the frame while a batch is open) and nothing repaints it until something else
  changes; the modal then takes the keys while the board is still what the terminal shows.
"""

from __future__ import annotations

import threading
from typing import Any

from textual._border import get_box, render_border_label, render_row
from textual._compositor import Compositor, LayoutUpdate
from textual._styles_cache import StylesCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.widget import Widget

__all__ = ["DirtyOnlyCompositor", "DirtyRows", "FrameWatch", "border_label", "border_label_style", "frame_cells", "frames_held", "get_box",
           "inner_outer", "key_to_bindings", "on_event_loop", "render_border_label", "render_row",
           "set_virtual_size_quietly", "styles_version", "use_dirty_only_compositor"]


class DirtyRows:
    """Mixed into a widget that keeps its painted rows: told which rows Textual will repaint.

    `forget_rows(regions)` gets the regions in the widget's outer coordinates (border
    included); no regions means the whole widget.
    """

    def forget_rows(self, regions: tuple[Region, ...]) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _set_dirty(self, *regions: Region) -> None:
        super()._set_dirty(*regions)  # type: ignore[misc]
        offset = self.content_offset  # type: ignore[attr-defined]
        self.forget_rows(tuple(region.translate(offset) for region in regions))


class DirtyOnlyCompositor(Compositor):
    """A screen's compositor whose partial update renders only the widgets a dirty region meets.

    Textual's `_get_renders(crop)` tests `crop` (the box around every dirty
    region) against each widget's clip, the visible area of its container: the
    status line along the bottom and two dirty columns made that box the whole
    board, and every column's clip is the whole row of columns. A widget no
    dirty region meets has no cell in the spans the update writes, so leaving it
    out changes no cell; a full update, a widget the region only partly shows and
    the render order stay Textual's own.
    """

    _painting: tuple[Region, ...] = ()
    """The dirty regions of the partial update being rendered; () otherwise (Textual's own `_get_renders`)."""

    def render_partial_update(self):
        self._painting = tuple(self._dirty_regions)
        try:
            return super().render_partial_update()
        finally:
            self._painting = ()

    def _get_renders(self, crop: Region | None = None):
        dirty = self._painting
        if not dirty or not crop:
            yield from super()._get_renders(crop)
            return
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            if not any(area.overlaps(shown) for area in dirty):
                continue
            if clip.contains_region(region):
                yield region, clip, widget.render_lines(Region(0, 0, region.width, region.height))
            elif shown.width and shown.height:
                yield region, clip, widget.render_lines(
                    Region(shown.x - region.x, shown.y - region.y, shown.width, shown.height))


def use_dirty_only_compositor(screen) -> None:
    """Give a screen, in its `__init__` (before it is composed), the `DirtyOnlyCompositor`."""
    screen._compositor = DirtyOnlyCompositor()


def set_virtual_size_quietly(view: ScrollView, size: Size) -> bool:
    """Set a scroll view's `virtual_size` without a layout pass; True if it changed."""
    if size == view.virtual_size:
        return False
    view.set_reactive(ScrollView.virtual_size, size)
    view._scroll_update(size)
    return True


def border_label(widget: Widget, top: bool) -> Any:
    """The border title (`top`) or subtitle as set, a `Content` or None."""
    return widget._border_title if top else widget._border_subtitle


def border_label_style(widget: Widget, top: bool, base_background) -> tuple:
    """(color, background, style) of the border title or subtitle, as Textual works them out."""
    describe = widget._get_title_style_information if top else widget._get_subtitle_style_information
    return describe(base_background)


def styles_version(widget: Widget) -> int:
    """A number that changes whenever any style rule of the widget is set (inline ones too)."""
    return widget.styles._cache_key


def inner_outer(base_background, background) -> tuple:
    """The inner and outer styles Textual draws a border's cells with."""
    return StylesCache.get_inner_outer(StylesCache, base_background, background)


def frame_cells(left_type: str, right_type: str, inner, outer, left_style, right_style) -> tuple:
    """The left and right border cells of a content row, as `StylesCache` draws them."""
    return get_box(left_type, inner, outer, left_style)[1][0], get_box(right_type, inner, outer, right_style)[1][2]


def key_to_bindings(node) -> dict:
    """Key -> the node's own bindings for it, after the keymap (every mode's, live or not)."""
    return node._bindings.key_to_bindings


def on_event_loop(app) -> bool:
    """True when called on the app's event-loop thread (not from a worker)."""
    return threading.get_ident() == app._thread_id



class FrameWatch:
    """Mixed into the App (before `App`): `frame_shown(screen)` after each whole frame handed to the terminal.

    A whole frame (`LayoutUpdate`: every cell of the screen) rather than a partial one, so
    that what is reported shown is all of the screen, a dialog's border and text included.
    Headless (a test's pilot) counts as handed over: the frame went as far as it can go.
    """

    def _display(self, screen, renderable) -> None:
        handed = (renderable is not None and not self._batch_count  # type: ignore[attr-defined]
                  and self._driver is not None and not self._closed)  # type: ignore[attr-defined]
        super()._display(screen, renderable)  # type: ignore[misc]
        if handed and isinstance(renderable, LayoutUpdate):
            self.frame_shown(screen)

    def frame_shown(self, screen) -> None:  # pragma: no cover - overridden
        """Called on the event loop after a whole frame of `screen` went to the terminal."""


def frames_held(app) -> bool:
    """True while a batch of updates is open: Textual drops every frame until it closes."""
    return bool(app._batch_count)
