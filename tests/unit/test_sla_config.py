"""The `sla:` section: defaults, the issue's example, and errors that name file, line and key."""

from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from app.config.settings import load_config
from app.config.durations import Duration
from app.config.yamlnodes import ConfigError

ROOT = Path(__file__).resolve().parents[2]

BASE = dedent("""\
    board: {key: SET, timezone: Europe/London}
    team:
      - {handle: alice, email: alice@example.org}
    workflow:
      columns:
        - {key: todo, title: To Do, support_status: Open}
        - {key: closed, title: Closed, support_status: Released}
      transitions:
        todo: [closed]
    """)
BASE_LINES = BASE.count("\n")


def load(tmp_path: Path, sla: str = ""):
    path = tmp_path / "config.yaml"
    path.write_text(BASE + dedent(sla))
    return load_config(path)


def test_defaults_when_the_section_is_absent(tmp_path):
    policy = load(tmp_path).sla
    assert policy.calendar.working_days == frozenset({0, 1, 2, 3, 4})
    assert policy.calendar.hours == ((9 * 60, 17 * 60),)
    assert policy.calendar.country is None and policy.calendar.extra_dates == frozenset()
    assert str(policy.calendar.tz) == "Europe/London"
    assert policy.targets.first_response == Duration(1, "days", working=True)
    assert policy.targets.update_every == Duration(2, "days", working=True)
    assert policy.warn_at == 0.25
    assert policy.priorities == {}


def test_the_issue_example(tmp_path):
    policy = load(tmp_path, """\
        sla:
          working_days: [mon, tue, wed, thu, fri]
          working_hours: "09:00-12:30, 13:30-17:30"
          holidays: {country: GB, subdivision: ENG, dates: [2026-12-29]}
          first_response: 1 working day
          update_every: 2 working days
          warn_at: 20%
          priorities: {P1: {first_response: 1 working hour, update_every: 4 working hours}, P2: {first_response: 4 working hours}}
        """).sla
    assert policy.calendar.hours == ((9 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30))
    assert policy.calendar.day_length == timedelta(hours=7, minutes=30)   # 3h30 + 4h
    assert (policy.calendar.country, policy.calendar.subdivision) == ("GB", "ENG")
    assert policy.calendar.extra_dates == frozenset({date(2026, 12, 29)})
    assert policy.warn_at == 0.20
    assert policy.targets_for(1).first_response == Duration(1, "hours", working=True)
    assert policy.targets_for(1).update_every == Duration(4, "hours", working=True)
    # P2 overrides only the first response; its update_every falls back to the section's.
    assert policy.targets_for(2).first_response == Duration(4, "hours", working=True)
    assert policy.targets_for(2).update_every == Duration(2, "days", working=True)
    assert policy.targets_for(4) == policy.targets
    assert policy.targets_for(None) == policy.targets


def test_the_repository_config_loads_with_its_sla_section():
    policy = load_config(ROOT / "config.yaml").sla
    assert (policy.calendar.country, policy.calendar.subdivision) == ("GB", "ENG")
    assert 1 in policy.priorities


@pytest.mark.parametrize("sla, line, key, message", [
    ("sla:\n  holidays: {country: XX}\n", 2, "sla.holidays.country", "not a country code"),
    ("sla:\n  holidays:\n    country: GB\n    subdivision: XYZ\n", 4, "sla.holidays.subdivision", "ENG"),
    ("sla:\n  working_hours: 9 to 5\n", 2, "sla.working_hours", "HH:MM-HH:MM"),
    ("sla:\n  working_hours: \"09:00-13:00, 12:00-17:00\"\n", 2, "sla.working_hours", "overlap"),
    ("sla:\n  working_hours: \"17:00-09:00\"\n", 2, "sla.working_hours", "ends before it starts"),
    ("sla:\n  warn_at: 125%\n", 2, "sla.warn_at", "0% to under 100%"),
    ("sla:\n  warn_at: 0.25\n", 2, "sla.warn_at", "percentage"),
    ("sla:\n  priorities:\n    P5: {first_response: 1 working hour}\n", 3, "sla.priorities.P5", "unknown priority"),
    ("sla:\n  priorities:\n    P1: {first_reponse: 1 working hour}\n", 3, "sla.priorities.P1.first_reponse",
     "unknown key"),
    ("sla:\n  first_response: soon\n", 2, "sla.first_response", "expected a duration"),
    ("sla:\n  update_every: 0m\n", 2, "sla.update_every", "longer than zero"),
    ("sla:\n  working_days:\n    - mon\n    - funday\n", 4, "sla.working_days[1]", "day name"),
    ("sla:\n  working_days: [mon, mon]\n", 2, "sla.working_days[1]", "twice"),
    ("sla:\n  holidays:\n    country: GB\n    dates:\n      - 2026-12-29\n      - next tuesday\n", 6,
     "sla.holidays.dates[1]", "expected a date"),
    ("sla:\n  warn_on: 25%\n", 2, "sla.warn_on", "unknown key"),
])
def test_errors_name_file_line_and_key(tmp_path, sla, line, key, message):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, sla)
    error = caught.value
    assert error.path == str(tmp_path / "config.yaml")
    assert (error.line, error.key) == (BASE_LINES + line, key)
    assert message in error.message


@pytest.mark.parametrize("sla, line, key, message", [
    ("sla:\n  holidays: {country: XX}\n", 2, "sla.holidays.country", "not a country code"),
    ("sla:\n  holidays:\n    country: GB\n    subdivision: XYZ\n", 4, "sla.holidays.subdivision", "ENG"),
])
def test_the_board_may_defer_the_holiday_region_check_but_not_lose_it(tmp_path, sla, line, key, message):
    """The board loads with `defer_checks` (the holidays library is a fifth of a second of imports)
    and runs the check right after its first paint: the same error, file, line and key."""
    (tmp_path / "config.yaml").write_text(BASE + sla)
    config = load_config(tmp_path / "config.yaml", defer_checks=True)  # no error yet
    with pytest.raises(ConfigError) as caught:
        config.run_deferred_checks()
    assert (caught.value.line, caught.value.key) == (BASE_LINES + line, key)
    assert message in caught.value.message


def test_a_good_region_leaves_nothing_to_check_later(tmp_path):
    (tmp_path / "config.yaml").write_text(BASE + "sla:\n  holidays: {country: GB, subdivision: ENG}\n")
    load_config(tmp_path / "config.yaml", defer_checks=True).run_deferred_checks()
    assert load_config(tmp_path / "config.yaml").deferred_checks == ()
