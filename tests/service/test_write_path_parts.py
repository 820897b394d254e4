"""The write path in parts: each capability builds on the core alone, so none can bypass or tangle it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "app" / "service"
CAPABILITIES = ("moves", "triage", "paging", "replies", "reminders", "creation", "conversation", "intake",
                "public")
FOUNDATIONS = {"app.service.core", "app.service.errors", "app.service.results", "app.service.fields"}


def service_imports(path: Path) -> set[str]:
    """The app.service modules `path` imports, lazy and TYPE_CHECKING imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name for name in names if name == "app.service" or name.startswith("app.service.")}


@pytest.mark.parametrize("name", CAPABILITIES)
def test_a_capability_imports_only_the_core_and_its_shared_pieces(name):
    assert service_imports(SERVICE / f"{name}.py") <= FOUNDATIONS


@pytest.mark.parametrize("path", sorted(SERVICE.glob("*.py")), ids=lambda p: p.name)
def test_no_module_of_the_service_imports_the_package_that_imports_it(path):
    if path.name != "__init__.py":
        assert "app.service" not in service_imports(path)


def test_the_one_service_has_every_capability_on_one_write_path():
    from app.service import Service
    from app.service.core import WritePath

    bases = {base.__module__.rsplit(".", 1)[1] for base in Service.__bases__}
    assert bases == set(CAPABILITIES)
    assert all(issubclass(base, WritePath) for base in Service.__bases__)
