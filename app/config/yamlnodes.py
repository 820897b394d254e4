"""Read YAML while remembering where every value came from.

Users write `config.yaml` by hand, so an error has to point at the line they
typed. PyYAML's composer already knows the line of every node; the loader in
`app.config.yaml_loader` keeps it on the mappings and lists it builds, and `Section`
turns that into errors that name file, line and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import msgspec

from app.config import parse_cache
from app.config.lines import ConfigError, LineDict, LineList

T = TypeVar("T")


def load_yaml(path: str | Path) -> LineDict:
    """Parse a YAML file into `LineDict`/`LineList`, or raise `ConfigError`.

    A file whose text is the same as when it was last parsed comes from
    `app.config.parse_cache`, without importing PyYAML (20 ms of every start).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "", "no such file (use --config or TRIAGEBOARD_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc}") from None
    data = parse_cache.get(path, raw)
    if data is None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(path, None, "", f"cannot read: {exc}") from None
        from app.config.yaml_loader import parse_yaml

        data = parse_yaml(path, text)
        parse_cache.put(path, raw, data)
    return data


class Section(msgspec.Struct, frozen=True):
    """A view of one mapping in the file, for validating its keys.

    Parsers of each config section take a `Section` and use `get`/`require`
    to read values, `fail` to report a problem at the right line.
    """

    path: str
    key: str  # dotted path of this mapping, "" for the top level
    data: LineDict

    @classmethod
    def root(cls, path: str | Path) -> "Section":
        return cls(str(path), "", load_yaml(path))

    def dotted(self, name: str | int) -> str:
        if isinstance(name, int):
            return f"{self.key}[{name}]"
        return f"{self.key}.{name}" if self.key else str(name)

    def line_of(self, name: str) -> int:
        return self.data.key_lines.get(name, self.data.line)

    def fail(self, name: str | None, message: str) -> ConfigError:
        """Build (not raise) the error for key `name` of this mapping."""
        if name is None:
            return ConfigError(self.path, self.data.line, self.key, message)
        return ConfigError(self.path, self.line_of(name), self.dotted(name), message)

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def keys(self) -> list[str]:
        return [str(k) for k in self.data]

    def only(self, *allowed: str) -> None:
        """Refuse keys this mapping does not define: typos must not pass silently."""
        for name in self.data:
            if name not in allowed:
                raise self.fail(str(name), f"unknown key (expected one of: {', '.join(allowed)})")

    def get(self, name: str, kind: type | tuple[type, ...] | None = None, default: Any = None,
            convert: Callable[[Any], T] | None = None) -> Any:
        """The value of `name`, type-checked, or `default` when absent.

        `convert` may raise ValueError; its message becomes the error text.
        """
        if name not in self.data or self.data[name] is None:
            return default
        value = self.data[name]
        if kind is not None and not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise self.fail(name, f"expected {_describe(kind)}, got {_show(value)}")
        if convert is not None:
            try:
                return convert(value)
            except (ValueError, TypeError) as exc:
                raise self.fail(name, str(exc)) from None
        return value

    def require(self, name: str, kind: type | tuple[type, ...] | None = None,
                convert: Callable[[Any], T] | None = None) -> Any:
        if name not in self.data or self.data[name] is None:
            raise self.fail(None, f"missing required key '{name}'") if name not in self.data else self.fail(name, "must not be empty")
        return self.get(name, kind, convert=convert)

    def section(self, name: str, required: bool = False) -> "Section | None":
        """The nested mapping at `name` as a Section (None when absent and optional)."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(None, f"missing required section '{name}'")
            return None
        if not isinstance(value, LineDict):
            raise self.fail(name, f"expected a mapping, got {_show(value)}")
        return Section(self.path, self.dotted(name), value)

    def items(self, name: str, required: bool = False) -> Iterator[tuple[int, Any, "Section | None", int]]:
        """Iterate a list at `name`: (index, value, Section if a mapping, line)."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(None, f"missing required list '{name}'")
            return
        if not isinstance(value, LineList):
            raise self.fail(name, f"expected a list, got {_show(value)}")
        for index, item in enumerate(value):
            line = value.item_lines[index]
            sub = Section(self.path, f"{self.dotted(name)}[{index}]", item) if isinstance(item, LineDict) else None
            yield index, item, sub, line

    def item_error(self, name: str, index: int, message: str) -> ConfigError:
        value = self.data[name]
        return ConfigError(self.path, value.item_lines[index], f"{self.dotted(name)}[{index}]", message)

    def mapping(self, name: str) -> Iterator[tuple[str, Any]]:
        """Iterate the key/value pairs of a mapping at `name`."""
        sub = self.section(name)
        if sub is None:
            return iter(())
        return ((str(k), v) for k, v in sub.data.items())


def _describe(kind: type | tuple[type, ...] | None) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
             LineDict: "a mapping", LineList: "a list", dict: "a mapping", list: "a list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, getattr(k, "__name__", str(k))) for k in kinds)


def _show(value: Any) -> str:
    if isinstance(value, LineDict):
        return "a mapping"
    if isinstance(value, LineList):
        return "a list"
    return repr(value)
