"""`notify.snippets` in config.yaml: checked when the file loads, errors with file:line: key."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.settings import load_config
from app.config.yamlnodes import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def with_snippets(tmp_path, text: str) -> Path:
    base = (ROOT / "config.yaml").read_text(encoding="utf-8")
    start = base.index("  snippets:")
    end = base.index("  # templates:")
    path = tmp_path / "config.yaml"
    path.write_text(base[:start] + text + base[end:], encoding="utf-8")
    return path


def test_the_repo_config_has_the_five_snippets_in_the_seeds_order():
    snippets = load_config(ROOT / "config.yaml").notify.snippets
    assert list(snippets) == ["acknowledgement", "next_steps", "eta", "resolution", "logs"]
    assert snippets["acknowledgement"].sets == ("acknowledged",)
    assert snippets["next_steps"].sets == ("next_steps_sent",)
    assert snippets["eta"].sets == ("eta",)
    assert snippets["eta"].render(requester="Rita", key="SET-1", title="t", eta="Friday").startswith(
        "Hello Rita,\n\nWe expect SET-1 (\"t\") to be resolved by Friday.")


def test_a_line_whose_placeholders_are_empty_is_left_out():
    snippet = load_config(ROOT / "config.yaml").notify.snippets["acknowledgement"]
    assert not snippet.render(requester="Rita", key="SET-1", title="t", by="").rstrip().endswith("support team")


@pytest.mark.parametrize("text, line, key, message", [
    ("  snippets:\n    hello:\n      text: 'Hi {titel}'\n", 3, "notify.snippets.hello.text",
     "unknown placeholder {titel}"),
    ("  snippets:\n    hello:\n      text: 'Hi'\n      sets: [acknowleged]\n", 4, "notify.snippets.hello.sets[0]",
     "'acknowleged' is not one of acknowledged, next_steps_sent, eta"),
    ("  snippets:\n    hello:\n      body: 'Hi'\n", 3, "notify.snippets.hello.body", "unknown key"),
    ("  snippets:\n    hello: 'Hi'\n", 2, "notify.snippets.hello", "expected a mapping {text, sets}"),
    ("  snippets:\n    hello:\n      sets: [eta]\n", 3, "notify.snippets.hello", "missing required key 'text'"),
    ("  snippets:\n    'two words':\n      text: x\n", 2, "notify.snippets.two words", "a snippet name is"),
])
def test_a_bad_snippet_is_a_config_error_at_its_line(tmp_path, text, line, key, message):
    path = with_snippets(tmp_path, text)
    first = (ROOT / "config.yaml").read_text(encoding="utf-8").index("  snippets:")
    offset = (ROOT / "config.yaml").read_text(encoding="utf-8")[:first].count("\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.key == key and message in error.value.message
    assert error.value.line == offset + line
    assert str(error.value).startswith(f"{path}:{offset + line}: {key}: ")
