"""The values a parse of `config.yaml` produces, and the error that points at their line.

Kept apart from `app.config.yamlnodes` (which reads a file through the parse cache or
the loader) so that `app.config.yaml_loader` and `app.config.parse_cache`, which build
these values, depend on this leaf and not on the module that calls them: no cycle.
`app.config.yamlnodes` re-exports all three names.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A configuration problem a user can fix: file, line and dotted key."""

    def __init__(self, path: str | Path, line: int | None, key: str, message: str):
        self.path = str(path)
        self.line = line
        self.key = key
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class LineDict(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):
    """A list that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]


__all__ = ["ConfigError", "LineDict", "LineList"]
