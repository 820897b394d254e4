"""Three layers, one direction: widgets never reach the database, data never imports Textual."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "widgets").glob("*.py")), ids=lambda p: p.name)
def test_widgets_do_not_import_data_or_the_service(path):
    assert not imported(path) & {"data", "peewee", "playhouse", "app"}


@pytest.mark.parametrize("path", sorted((ROOT / "data").rglob("*.py")), ids=lambda p: p.name)
def test_data_does_not_import_textual(path):
    assert not imported(path) & {"textual", "rich", "widgets", "app"}


SCREENS = sorted((ROOT / "app" / "tui" / "screens").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, by its dotted name: at the top, in functions, under TYPE_CHECKING."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_screens_read_through_the_service_never_data(path):
    """Issue 14: a screen's reads go through the service (app.service.reads for the outbox), in a worker."""
    assert not {name for name in imported_modules(path) if name.split(".")[0] in {"data", "peewee", "playhouse"}}


@pytest.mark.parametrize("path", [p for p in SCREENS if p.name not in {"board.py", "__init__.py"}],
                         ids=lambda p: p.name)
def test_the_board_s_parts_do_not_import_the_board(path):
    """The board composes its parts; they see it through `board_host.BoardHost`, never by importing it."""
    assert "app.tui.screens.board" not in imported_modules(path)


def test_no_tui_module_imports_a_module_that_imports_it():
    """Lazy imports included: `board -> app.tui.app -> board` was one (the help's keymap)."""
    paths = [*SCREENS, *sorted((ROOT / "app" / "tui").glob("*.py"))]
    graph = {module_name(path): imported_modules(path) for path in paths}
    pairs = sorted((a, b) for a, imports in graph.items() for b in imports
                   if b in graph and a != b and a in graph[b] and not b.endswith(".screens") and a < b)
    assert pairs == []


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_screen_modules_and_classes_stay_small(path):
    """Issue 14: no module of app/ over 600 lines, no class over ~400."""
    source = path.read_text()
    assert len(source.splitlines()) <= 600
    big = {node.name: node.end_lineno - node.lineno + 1 for node in ast.walk(ast.parse(source))
           if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 400}
    assert big == {}
