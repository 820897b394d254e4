"""What widgets/textual_internals.py relies on in Textual's private API: fails loudly on an upgrade that changes it.

The cell-for-cell comparison of the column's own painting with Textual's pipeline
(tests/tui/test_board.py::test_the_columns_own_painting_matches_textuals) checks that
what is drawn with these still matches; this file checks that each name is there, takes
the arguments passed to it and behaves as used.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from rich.segment import Segment
from textual._border import get_box, render_border_label, render_row
from textual._styles_cache import StylesCache
from textual.app import App
from textual.color import Color
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.style import Style
from textual.widget import Widget
from textual.widgets import Label

from widgets import textual_internals

ROOT = Path(__file__).resolve().parents[2]


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_border_functions_take_what_the_column_passes():
    assert parameters(get_box) == ["name", "inner_style", "outer_style", "style"]
    assert parameters(render_border_label) == ["label", "is_title", "name", "width", "inner_style", "outer_style",
                                               "style", "has_left_corner", "has_right_corner"]
    assert parameters(render_row)[:5] == ["box_row", "width", "left", "right", "label_segments"]
    assert parameters(StylesCache.get_inner_outer) == ["cls", "base_background", "background"]  # called unbound


def test_the_border_functions_draw_rows_of_cells():
    inner, outer = textual_internals.inner_outer(Color(0, 0, 0), Color(10, 10, 10))
    assert isinstance(inner, Style) and isinstance(outer, Style)
    box = get_box("round", inner, outer, Style(foreground=Color(255, 0, 0)))
    assert len(box) == 3 and all(len(row) == 3 and all(isinstance(cell, Segment) for cell in row) for row in box)
    left, right = textual_internals.frame_cells("round", "round", inner, outer, Style(), Style())
    assert left.text == "│" and right.text == "│"
    label = list(render_border_label((Content("Ready 3"), Style()), True, "round", 20, inner, outer, Style(),
                                     True, True))
    row = list(render_row(box[0], 22, True, True, label, "left"))
    assert "".join(segment.text for segment in row).startswith("╭") and "Ready 3" in "".join(s.text for s in row)


async def test_the_widget_internals_exist_and_behave():
    forgotten: list[tuple[Region, ...]] = []

    class Probe(textual_internals.DirtyRows, ScrollView):
        DEFAULT_CSS = "Probe { border: round red; }"

        def forget_rows(self, regions):
            forgotten.append(regions)

    class Probing(App):
        def compose(self):
            yield Probe()

    app = Probing()
    async with app.run_test(size=(40, 12)) as pilot:
        probe = app.query_one(Probe)
        assert textual_internals.on_event_loop(app)
        probe.border_title = Content("Title")
        assert textual_internals.border_label(probe, True) == Content("Title")
        assert textual_internals.border_label(probe, False) is None
        color, background, style = textual_internals.border_label_style(probe, True, Color(0, 0, 0))
        assert isinstance(color, Color) and isinstance(background, Color)

        before = textual_internals.styles_version(probe)
        probe.styles.set_rule("border_top", ("round", Color(0, 255, 0)))
        assert textual_internals.styles_version(probe) != before  # an inline rule set changes it

        assert textual_internals.set_virtual_size_quietly(probe, Size(38, 100))
        assert probe.virtual_size == Size(38, 100) and probe.max_scroll_y > 0
        assert not textual_internals.set_virtual_size_quietly(probe, Size(38, 100))

        await pilot.pause()
        forgotten.clear()
        probe.refresh(Region(0, 2, 10, 2))  # content coordinates: the rows come back in outer ones
        assert forgotten == [(Region(1, 3, 10, 2),)]
        probe.refresh()
        assert forgotten[-1] == ()

        assert "q" not in textual_internals.key_to_bindings(app.screen)
        assert isinstance(textual_internals.key_to_bindings(app), dict)


async def test_frame_watch_reports_each_whole_frame_that_reaches_the_terminal_and_none_held_back():
    """`App._display` is where a frame goes out; `_batch_count` makes it drop the frame (`batch_update`)."""
    assert parameters(App._display) == ["self", "screen", "renderable"]
    shown: list = []

    class Watched(textual_internals.FrameWatch, App):
        def compose(self):
            yield Label("hello")

        def frame_shown(self, screen):
            shown.append(screen)

    app = Watched()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert app.screen in shown and not textual_internals.frames_held(app)
        shown.clear()
        with app.batch_update():
            assert textual_internals.frames_held(app)
            app.screen.refresh()
            await pilot.pause(0.1)
            assert shown == []  # the frame was worked out and dropped
        app.screen.refresh()
        await pilot.pause(0.1)
        assert shown and shown[-1] is app.screen


def test_no_other_module_uses_textuals_private_api():
    """Every `textual._…` import and every private Textual attribute stays in widgets/textual_internals.py."""
    private_attributes = {"_set_dirty", "_scroll_update", "_border_title", "_border_subtitle", "_cache_key",
                          "_styles_cache", "_get_title_style_information", "_get_subtitle_style_information",
                          "_thread_id", "_bindings", "_compositor", "_batch_count", "_display"}
    found = []
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("widgets/**/*.py")]:
        if path.name == "textual_internals.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                found += [f"{path.relative_to(ROOT)}: import {n}" for n in names if n.startswith("textual._")]
            elif isinstance(node, ast.Attribute) and node.attr in private_attributes:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
            elif isinstance(node, ast.FunctionDef) and node.name in private_attributes:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: def {node.name}")
    assert found == []


def test_the_compositor_has_what_the_dirty_only_compositor_overrides():
    from textual._compositor import Compositor

    assert parameters(Compositor._get_renders) == ["self", "crop"]
    assert parameters(Compositor.render_partial_update) == ["self"]
    compositor = textual_internals.DirtyOnlyCompositor()
    assert compositor._dirty_regions == set() and compositor.visible_widgets == {}
    assert compositor.render_partial_update() is None  # nothing dirty, nothing drawn
