"""PyYAML's loader, keeping the line of every mapping, key and list item (see `app.config.lines`).

Imported only when a file has to be parsed: importing PyYAML costs 20 ms
(its reader compiles a pattern over all of Unicode), and a `config.yaml`
unchanged since its last parse comes from `app.config.parse_cache` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.config.lines import ConfigError, LineDict, LineList


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser where PyYAML was built with it (five times faster; the marks are the same)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise ConfigError(loader.name, key_node.start_mark.line + 1, "", "a key must be a plain value")
        # YAML 1.1 reads a bare `on`/`off`/`yes` as booleans; keys are names here.
        if isinstance(key, bool):
            key = key_node.value
        if key in result:
            raise ConfigError(loader.name, key_node.start_mark.line + 1, str(key), "appears twice in the same mapping")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError for 2026-13-01; keep the text so the
    # section's parser reports it with its line and key.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(path: Path, text: str) -> LineDict:
    """Parse the text of the YAML file `path` into `LineDict`/`LineList`, or raise `ConfigError`."""
    loader = _Loader(text)
    loader.name = str(path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(path, line, "", f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        # A control character such as NUL: the reader knows only its offset in the text.
        position = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, position) + 1
        found = repr(text[position]) if position < len(text) else "a character"
        raise ConfigError(path, line, "", f"not valid YAML: {found} is a control character, "
                                          "not allowed in the file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, "", f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        data = LineDict()
        data.line, data.key_lines = 1, {}
    if not isinstance(data, LineDict):
        raise ConfigError(path, 1, "", "the file must be a mapping of sections (board:, team:, workflow:, …)")
    return data


__all__ = ["parse_yaml"]
