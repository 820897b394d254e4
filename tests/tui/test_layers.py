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
