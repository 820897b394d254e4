"""config.yaml errors name the file, the line and the key."""

import textwrap

import pytest

from app.config.settings import load_config
from app.config.yamlnodes import ConfigError

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


GOOD_TAIL = """
team:
  - {handle: alice, name: Alice, email: alice@example.org}
workflow:
  columns:
    - {key: todo, title: To Do, support_status: Open}
    - {key: done, title: Done, support_status: Released}
  transitions:
    todo: [done]
"""


def test_repo_config_loads_as_it_is():
    config = load_config(ROOT / "config.yaml")
    assert config.board.key == "SET"
    assert [c.title for c in config.workflow.columns] == ["To Do", "Ready", "In Progress", "On Hold",
                                                          "Resolved", "Closed"]
    assert config.workflow.column("in_progress").wip_limit == 5


def test_minimal_config_loads(tmp_path):
    config = load_config(write(tmp_path, "board: {key: OPS}\n" + GOOD_TAIL))
    assert config.board.timezone == "UTC"
    assert config.workflow.initial == "todo"


@pytest.mark.parametrize("text, line, key, words", [
    ("board: {key: OPS}\nboard2: 1\n" + GOOD_TAIL, 2, "board2", "unknown key"),
    ("board: {key: ops}\n" + GOOD_TAIL, 1, "board.key", "ticket key prefix"),
    ("board:\n  key: OPS\n  timezone: Mars/Base\n" + GOOD_TAIL, 3, "board.timezone", "unknown time zone"),
    ("board: {key: OPS}\n" + GOOD_TAIL.replace("todo: [done]", "todo: [dne]"), 10, "workflow.transitions.todo",
     "unknown column 'dne'"),
    ("board: {key: OPS}\n" + GOOD_TAIL.replace("email: alice@example.org", "email: nope"), 4,
     "team[0].email", "not an e-mail"),
    ("board: {key: OPS}\n" + GOOD_TAIL.replace("support_status: Open}", "support_status: Open, wip_limit: 0}"), 7,
     "workflow.columns[0].wip_limit", "at least 1"),
])
def test_errors_name_file_line_and_key(tmp_path, text, line, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {key}:"), message
    assert words in message


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "board: {key: OPS\n" + GOOD_TAIL)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:")
    assert "not valid YAML" in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.yaml")


# -- the parse cache (app.config.parse_cache) ------------------------------------------

def load_in_a_new_process(path, cache) -> str:
    """Load `path` in a fresh interpreter: 'KEY yaml' or 'KEY -' (whether PyYAML was imported), or the error."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom app.config.settings import load_config\nfrom app.config.yamlnodes import ConfigError\n"
            f"try:\n    c = load_config({str(path)!r})\nexcept ConfigError as e:\n    print(e)\n"
            "else:\n    print(c.board.key, 'yaml' if 'yaml' in sys.modules else '-')")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.strip()


def test_an_unchanged_config_is_not_parsed_again(tmp_path):
    path = write(tmp_path, "board: {key: ABC, timezone: UTC}\n" + GOOD_TAIL)
    assert load_in_a_new_process(path, tmp_path / "cache") == "ABC yaml"
    assert load_in_a_new_process(path, tmp_path / "cache") == "ABC -"


def test_a_changed_config_is_parsed_again_even_at_the_same_size_and_time(tmp_path):
    import os

    path = write(tmp_path, "board: {key: ABC, timezone: UTC}\n" + GOOD_TAIL)
    stat = path.stat()
    assert load_in_a_new_process(path, tmp_path / "cache") == "ABC yaml"
    path.write_text(path.read_text().replace("ABC", "XYZ"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert load_in_a_new_process(path, tmp_path / "cache") == "XYZ yaml"


def test_an_error_is_reported_every_time_and_a_broken_cache_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    path = write(tmp_path, "board: {key: ABC, timezone: UTC}\n" + GOOD_TAIL)
    load_in_a_new_process(path, cache)
    path.write_text(path.read_text().replace("timezone: UTC", "timezone: Mars/Olympus"))
    for _ in range(2):
        assert load_in_a_new_process(path, cache).startswith(f"{path}:1: board.timezone:")
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    path.write_text(path.read_text().replace("Mars/Olympus", "UTC"))
    assert load_in_a_new_process(path, cache) == "ABC yaml"


def test_a_planted_pickle_in_the_cache_never_runs(tmp_path):
    """The cache is data (msgpack), not pickle: a pickle planted where an entry lives is a miss, not code."""
    import os
    import pickle

    from app.config import parse_cache

    cache = tmp_path / "cache"
    path = write(tmp_path, "board: {key: ABC, timezone: UTC}\n" + GOOD_TAIL)
    assert load_in_a_new_process(path, cache) == "ABC yaml"
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    os.environ["TRIAGEBOARD_CACHE"], saved = str(cache), os.environ.get("TRIAGEBOARD_CACHE")
    try:
        entry = parse_cache._entry(path)
    finally:
        os.environ["TRIAGEBOARD_CACHE"] = saved or ""
    for planted in (entry, entry.with_suffix(".pickle")):
        planted.write_bytes(pickle.dumps((1, "x", Payload())))
    assert load_in_a_new_process(path, cache) == "ABC yaml"
    assert not marker.exists()


def test_a_cache_directory_others_can_write_is_not_used(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    cache.chmod(0o777)
    path = write(tmp_path, "board: {key: ABC, timezone: UTC}\n" + GOOD_TAIL)
    assert load_in_a_new_process(path, cache) == "ABC yaml"
    assert list(cache.iterdir()) == []  # nothing written into it
    cache.chmod(0o700)
    assert load_in_a_new_process(path, cache) == "ABC yaml"
    assert load_in_a_new_process(path, cache) == "ABC -"
    cache.chmod(0o777)
    assert load_in_a_new_process(path, cache) == "ABC yaml"  # an entry in it is no longer trusted


def test_the_cache_keeps_lines_dates_and_big_numbers(tmp_path):
    from datetime import date

    from app.config import parse_cache
    from app.config.yaml_loader import parse_yaml

    text = "a:\n  - 1\n  - {x: 2026-01-02, y: 2026-01-02T03:04:05Z, big: 99999999999999999999, on: 1.5}\n"
    data = parse_yaml(tmp_path / "c.yaml", text)
    again = parse_cache._decode(parse_cache._encode(data))
    assert again == data and again["a"][1]["x"] == date(2026, 1, 2)
    assert again["a"].item_lines == data["a"].item_lines == [2, 3]
    assert again["a"][1].key_lines == data["a"][1].key_lines
