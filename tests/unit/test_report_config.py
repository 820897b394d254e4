"""The `report:` section: defaults, values, and errors that name file, line and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.reports.cycles import DEFAULT_WORK_TYPES, ReportSettings
from app.config.durations import Duration
from app.config.yamlnodes import ConfigError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"

BASE = """\
board: {key: SET, timezone: Europe/London}
team:
  - {handle: alice, name: Alice, email: alice@example.org}
workflow:
  columns:
    - {key: todo, title: To Do, support_status: Open}
    - {key: doing, title: In Progress, support_status: In Progress}
    - {key: done, title: Done, support_status: Released}
  transitions:
    todo: [doing]
    doing: [done]
"""


def write(tmp_path: Path, report: str, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + extra + report, encoding="utf-8")
    return path


def error_for(tmp_path: Path, report: str, extra: str = "") -> ConfigError:
    path = write(tmp_path, report, extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(text)


def test_defaults_when_the_section_is_absent(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert config.report == ReportSettings()
    assert config.report.cycle_days == 14
    assert config.report.stale_after is None
    assert dict(config.report.work_types) == dict(DEFAULT_WORK_TYPES)
    assert config.report.work_type("feature") == "project"
    assert config.report.work_type("incident") == "support"
    assert config.report.work_type("feature", "adhoc") == "adhoc"


def test_values(tmp_path):
    config = load_config(write(tmp_path, "report:\n  cycle: 10d\n  start: 2026-11-02\n  stale_after: 3d\n"
                                         "  work_types: {bug: adhoc}\n"))
    assert config.report.cycle == Duration(10, "days")
    assert config.report.start == dt.date(2026, 11, 2)
    assert config.report.stale_after == Duration(3, "days")
    assert config.report.work_types["bug"] == "adhoc"
    assert config.report.work_types["feature"] == "project"  # the others keep their defaults


def test_an_empty_section_takes_the_defaults(tmp_path):
    assert load_config(write(tmp_path, "report:\n")).report == ReportSettings()


def test_the_repository_config_loads():
    config = load_config(REPO_CONFIG)
    assert config.report.start == dt.date(2026, 11, 2)
    assert config.report.cycle_days == 14


@pytest.mark.parametrize("report, key, message", [
    ("report:\n  cycles: 2w\n", "report.cycles", "unknown key"),
    ("report:\n  cycle: 2 weeks please\n", "report.cycle", "expected a duration"),
    ("report:\n  cycle: 12h\n", "report.cycle", "expected a duration (Nd, Nw)"),
    ("report:\n  cycle: 0d\n", "report.cycle", "at least one day"),
    ("report:\n  cycle: 14\n", "report.cycle", "needs a unit"),
    ("report:\n  cycle: 2 working days\n", "report.cycle", "expected a duration"),
    ("report:\n  start: next monday\n", "report.start", "expected a date"),
    ("report:\n  start: 2026-11-02T09:00:00\n", "report.start", "expected a date such as"),
    ("report:\n  stale_after: soon\n", "report.stale_after", "expected a duration"),
    ("report:\n  stale_after: 0d\n", "report.stale_after", "longer than zero"),
    ("report:\n  work_types: {chore: adhoc}\n", "report.work_types.chore", "unknown kind"),
    ("report:\n  work_types: {bug: maintenance}\n", "report.work_types.bug", "expected one of support, project"),
    ("report:\n  work_types: [bug]\n", "report.work_types", "expected a mapping"),
    ("report: 2w\n", "report", "expected a mapping"),
])
def test_errors_name_file_line_and_key(tmp_path, report, key, message):
    error = error_for(tmp_path, report)
    assert error.path == str(tmp_path / "config.yaml")
    assert message in error.message
    if key:
        assert error.key == key
        last = key.rsplit(".", 1)[-1]
        assert error.line == line_of(tmp_path / "config.yaml", last)
    assert str(error).startswith(f"{tmp_path / 'config.yaml'}:")


def test_a_string_start_date_is_accepted(tmp_path):
    config = load_config(write(tmp_path, 'report:\n  start: "2026-11-02"\n'))
    assert config.report.start == dt.date(2026, 11, 2)


def test_working_days_count_on_the_sla_calendar(tmp_path):
    # The calendar is Mon-Fri 09:00-17:00 in Europe/London (the sla defaults).
    config = load_config(write(tmp_path, "report:\n  stale_after: 2 working days\n"))
    assert config.report.stale_after == Duration(2, "days", working=True)
    rule = config.report.stale_rule(config.sla.calendar.add_working)
    # Entered Friday 6 Nov 2026 15:00 UTC (15:00 GMT): 2 working days later is Tuesday 10 Nov 15:00.
    assert rule(dt.datetime(2026, 11, 6, 15)) == dt.datetime(2026, 11, 10, 15)


def test_default_stale_after_is_five_working_days_on_the_calendar(tmp_path):
    config = load_config(write(tmp_path, ""))
    rule = config.report.stale_rule(config.sla.calendar.add_working)
    # Monday 2 Nov 2026 10:00 GMT + 5 working days = Monday 9 Nov 10:00.
    assert rule(dt.datetime(2026, 11, 2, 10)) == dt.datetime(2026, 11, 9, 10)
