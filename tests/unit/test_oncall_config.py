"""Configuration errors in rotations, overrides and escalation name file, line and key."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from app.config.settings import load_config
from app.config.durations import Duration
from app.config.yamlnodes import ConfigError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"
BASE = REPO_CONFIG.read_text(encoding="utf-8").split("\nrotations:")[0] + "\n"

ROTATIONS = """\
rotations:
  - name: primary
    members: [alice, bob, carol, dan]
    shift: 1w
    handoff: monday 09:00
    start: 2026-11-02
  - name: stewards
    members: [erin, alice, dan, bob]
    order: alphabetical
    seats: 2
    shift: 2w
    handoff: monday 09:00
    start: 2026-11-02
"""


def write(tmp_path: Path, rotations: str, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + rotations + dedent(extra), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing `needle` (how a user would find it)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def where(path: Path, needle: str, key: str) -> str:
    return f"{path}:{line_of(path, needle)}: {key}:"


# --- what parses -----------------------------------------------------------------------------

def test_repo_config_parses_every_part():
    oncall = load_config(REPO_CONFIG).oncall
    assert [r.name for r in oncall.rotations] == ["SET primary", "SET backup", "SET lead", "Support stewards"]
    stewards = oncall.rotation("Support stewards")
    assert stewards.seats == 2 and stewards.sequence == ("alice", "bob", "dan", "erin")
    assert stewards.shift == Duration(2, "weeks")
    assert (stewards.handoff_weekday, stewards.handoff_time) == (0, time(9))
    assert [(s.rotation, s.after) for s in oncall.escalation] == [
        ("SET primary", Duration(0, "minutes")), ("SET backup", Duration(15, "minutes")),
        ("SET lead", Duration(30, "minutes"))]


def test_override_times_without_offset_are_board_time(tmp_path):
    path = write(tmp_path, ROTATIONS, """\
        overrides:
          - {rotation: primary, member: erin, from: 2027-07-01T09:00, to: "2027-07-02T09:00:00+02:00"}
        """)
    override, = load_config(path).oncall.overrides
    # Board time is Europe/London, BST in July: 09:00 local is 08:00Z; the explicit +02:00 is 07:00Z.
    assert override.start == datetime(2027, 7, 1, 8, tzinfo=timezone.utc)
    assert override.end == datetime(2027, 7, 2, 7, tzinfo=timezone.utc)
    assert override.start == datetime(2027, 7, 1, 9, tzinfo=ZoneInfo("Europe/London"))


def test_working_time_escalation_delay_is_accepted(tmp_path):
    path = write(tmp_path, ROTATIONS, """\
        escalation:
          - {rotation: primary, after: 0m}
          - {rotation: stewards, after: 2 working hours}
        """)
    steps = load_config(path).oncall.escalation
    assert steps[1].after == Duration(2, "hours", working=True)


def test_no_oncall_sections_is_fine(tmp_path):
    oncall = load_config(write(tmp_path, "")).oncall
    assert oncall.rotations == () and oncall.overrides == () and oncall.escalation == ()


# --- rotation errors ---------------------------------------------------------------------------

def test_unknown_member(tmp_path):
    path = write(tmp_path, ROTATIONS.replace("[alice, bob, carol, dan]", "[alice, bob, zoe, dan]"))
    message = refused(path)
    assert message.startswith(where(path, "zoe", "rotations[0].members[2]"))
    assert "zoe" in message


def test_duplicate_rotation_name(tmp_path):
    path = write(tmp_path, ROTATIONS.replace("name: stewards", "name: primary"))
    message = refused(path)
    # The second definition is the error, and the message points back at the first.
    first, second = [n for n, line in enumerate(path.read_text().splitlines(), 1) if "name: primary" in line]
    assert message.startswith(f"{path}:{second}: rotations[1].name:")
    assert f"line {first}" in message


@pytest.mark.parametrize("shift", ["1 fortnight", "5h", "24h", "0w", "1 working day", "90m"])
def test_bad_shift_duration(tmp_path, shift):
    path = write(tmp_path, ROTATIONS.replace("shift: 1w", f"shift: {shift}"))
    assert refused(path).startswith(where(path, f"shift: {shift}", "rotations[0].shift"))


@pytest.mark.parametrize("handoff", ["monday", "someday 09:00", "monday 25:00", "09:00 monday"])
def test_bad_handoff(tmp_path, handoff):
    text = ROTATIONS.replace("handoff: monday 09:00\n    start: 2026-11-02\n  - name: stewards",
                             f"handoff: {handoff}\n    start: 2026-11-02\n  - name: stewards")
    path = write(tmp_path, text)
    message = refused(path)
    assert message.startswith(where(path, f"handoff: {handoff}", "rotations[0].handoff"))
    assert "monday 09:00" in message  # says what is expected


@pytest.mark.parametrize("start", ["2026-13-01", "next monday", "2026-11-02T09:00:00"])
def test_bad_start_date(tmp_path, start):
    path = write(tmp_path, ROTATIONS.replace("start: 2026-11-02\n  - name", f"start: {start}\n  - name"))
    assert refused(path).startswith(where(path, f"start: {start}", "rotations[0].start"))


@pytest.mark.parametrize("seats", [0, 5])
def test_seats_out_of_range(tmp_path, seats):
    path = write(tmp_path, ROTATIONS.replace("seats: 2", f"seats: {seats}"))
    assert refused(path).startswith(where(path, f"seats: {seats}", "rotations[1].seats"))


def test_unknown_rotation_key(tmp_path):
    path = write(tmp_path, ROTATIONS.replace("order: alphabetical", "ordr: alphabetical"))
    assert refused(path).startswith(where(path, "ordr:", "rotations[1].ordr"))


def test_rotations_must_be_a_list(tmp_path):
    path = write(tmp_path, "rotations:\n  name: primary\n")
    assert "rotations" in refused(path) and "list" in refused(path)


# --- override errors ---------------------------------------------------------------------------

def overrides(tmp_path, *items: str) -> Path:
    return write(tmp_path, ROTATIONS, "overrides:\n" + "".join(f"  - {item}\n" for item in items))


def test_override_overlapping_the_same_seat(tmp_path):
    path = overrides(tmp_path,
                     "{rotation: stewards, member: carol, replaces: dan, from: 2026-12-24T00:00, to: 2026-12-27T00:00}",
                     "{rotation: stewards, member: frank, replaces: erin, from: 2026-12-24T00:00, to: 2026-12-27T00:00}",
                     "{rotation: stewards, member: grace, replaces: dan, from: 2026-12-26T00:00, to: 2026-12-28T00:00}")
    message = refused(path)
    assert message.startswith(where(path, "member: grace", "overrides[2].from"))
    assert f"line {line_of(path, 'member: carol')}" in message


def test_single_seat_overrides_overlap_whoever_they_name(tmp_path):
    path = overrides(tmp_path,
                     "{rotation: primary, member: erin, from: 2026-12-21T09:00, to: 2026-12-23T09:00}",
                     "{rotation: primary, member: frank, from: 2026-12-22T09:00, to: 2026-12-24T09:00}")
    assert refused(path).startswith(where(path, "member: frank", "overrides[1].from"))


def test_back_to_back_overrides_do_not_overlap(tmp_path):
    path = overrides(tmp_path,
                     "{rotation: primary, member: erin, from: 2026-12-21T09:00, to: 2026-12-23T09:00}",
                     "{rotation: primary, member: frank, from: 2026-12-23T09:00, to: 2026-12-24T09:00}")
    assert len(load_config(path).oncall.overrides) == 2


def test_replaces_missing_where_there_are_several_seats(tmp_path):
    path = overrides(tmp_path, "{rotation: stewards, member: carol, from: 2026-12-24T00:00, to: 2026-12-27T00:00}")
    message = refused(path)
    assert message.startswith(where(path, "member: carol", "overrides[0]"))
    assert "replaces" in message


def test_replaces_someone_not_in_the_rotation(tmp_path):
    path = overrides(tmp_path, "{rotation: stewards, member: carol, replaces: grace, from: 2026-12-24T00:00, "
                               "to: 2026-12-27T00:00}")
    assert refused(path).startswith(where(path, "replaces: grace", "overrides[0].replaces"))


def test_override_member_not_in_team(tmp_path):
    path = overrides(tmp_path, "{rotation: primary, member: zoe, from: 2026-12-24T00:00, to: 2026-12-27T00:00}")
    assert refused(path).startswith(where(path, "member: zoe", "overrides[0].member"))


def test_override_of_unknown_rotation(tmp_path):
    path = overrides(tmp_path, "{rotation: tertiary, member: erin, from: 2026-12-24T00:00, to: 2026-12-27T00:00}")
    assert refused(path).startswith(where(path, "rotation: tertiary", "overrides[0].rotation"))


@pytest.mark.parametrize("end", ["2026-12-24T00:00", "2026-12-23T00:00"])
def test_override_must_end_after_it_starts(tmp_path, end):
    path = overrides(tmp_path, f"{{rotation: primary, member: erin, from: 2026-12-24T00:00, to: {end}}}")
    assert refused(path).startswith(where(path, "member: erin", "overrides[0].to"))


def test_override_bad_instant(tmp_path):
    path = overrides(tmp_path, "{rotation: primary, member: erin, from: christmas, to: 2026-12-27T00:00}")
    assert refused(path).startswith(where(path, "from: christmas", "overrides[0].from"))


# --- escalation errors -------------------------------------------------------------------------

def test_escalation_naming_an_unknown_rotation(tmp_path):
    path = write(tmp_path, ROTATIONS, """\
        escalation:
          - {rotation: primary, after: 0m}
          - {rotation: backup, after: 15m}
        """)
    assert refused(path).startswith(where(path, "rotation: backup", "escalation[1].rotation"))


def test_escalation_bad_delay(tmp_path):
    path = write(tmp_path, ROTATIONS, """\
        escalation:
          - {rotation: primary, after: soon}
        """)
    assert refused(path).startswith(where(path, "after: soon", "escalation[0].after"))
