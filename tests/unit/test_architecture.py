"""The shape of the code, checked on every `python -m pytest` (issue #14).

The import-linter contracts in pyproject.toml say which layer may import which (data/ and
widgets/ stand alone, the rule modules are pure, screens never read data/); the test below
them refuses any import cycle, counting the imports made inside functions, which an
`import` at the top of a module would turn into a cycle the moment someone hoists it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "widgets", "data")

KNOWN: set[tuple[str, str]] = set()
"""Imports left out of the cycle check, each until the step named beside it removes it."""


def test_the_import_contracts_are_kept():
    """`lint-imports` on pyproject.toml's contracts, run by the interpreter running the tests."""
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                               "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        pytest.fail(run.stdout + run.stderr, pytrace=False)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan), each sorted."""
    edges = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # recursion depth is bounded by the longest import chain
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """Each import inside the cycle, with the line it is on: where to start breaking it."""
    lines = []
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & set(component)):
            where = ", ".join(str(d["line_number"]) for d in graph.get_import_details(importer=importer, imported=imported))
            lines.append(f"  {importer} -> {imported} ({f'line {where}' if where else 'by name'})")
    return "\n".join(lines)


def test_no_import_cycle_among_the_modules():
    from app.cli.main import LazyGroup

    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    for module in set(LazyGroup.LAZY.values()):  # imported by name when a command is used: grimp cannot see it
        graph.add_import(importer="app.cli.main", imported=module)
    for importer, imported in sorted(KNOWN):
        assert graph.direct_import_exists(importer=importer, imported=imported), (
            f"{importer} no longer imports {imported}: take it out of KNOWN")
        graph.remove_import(importer=importer, imported=imported)
    found = cycles(graph)
    if found:
        pytest.fail("import cycles (a module reaches itself):\n" + "\n\n".join(describe(graph, c) for c in found),
                    pytrace=False)


def test_the_cycle_check_sees_an_import_made_inside_a_function(tmp_path, monkeypatch):
    """The check counts lazy imports: a cycle closed by an import in a function body is one."""
    package = tmp_path / "lazycycle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from lazycycle import second\n")
    (package / "second.py").write_text(textwrap.dedent("""\
        def later():
            from lazycycle import first
            return first
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("lazycycle", cache_dir=None)
    assert cycles(graph) == [["lazycycle.first", "lazycycle.second"]]
    assert "lazycycle.second -> lazycycle.first (line 2)" in describe(graph, cycles(graph)[0])
