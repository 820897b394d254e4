"""The follow-the-sun example of issue #17 through `triageboard oncall --at … --json`, and bad shapes.

London 07:00-19:00 and New York 07:00-19:00, each on its own zone's clock, a daily
handoff at 07:00 from Mon 1 Mar 2027 (day k = date - 1 Mar: even k alice / carol,
odd k bob / dan). New York changes on 14 Mar and 7 Nov 2027, London on 28 Mar and
31 Oct 2027, so the instants below fall on each side of all four changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"
TEXT = REPO_CONFIG.read_text(encoding="utf-8")
HEAD = TEXT.split("\nrotations:")[0] + "\n"
TAIL = "\nsla:" + TEXT.split("\nsla:", 1)[1]

SUN = """\
rotations:
  - name: EU primary
    members: [alice, bob]
    shift: 1d
    handoff: "07:00"
    start: 2027-03-01
    timezone: Europe/London
    active_hours: "07:00-19:00"
  - name: US primary
    members: [carol, dan]
    shift: 1d
    handoff: "07:00"
    start: 2027-03-01
    timezone: America/New_York
    active_hours: "07:00-19:00"
  - name: Night desk
    members: [erin, frank]
    shift: 12h
    handoff: "08:00"
    start: 2027-03-01
escalation:
  - {rotation: [EU primary, US primary], after: 0m}
"""


def write(tmp_path: Path, rotations: str = SUN) -> Path:
    path = tmp_path / "sun.yaml"
    path.write_text(HEAD + rotations + TAIL, encoding="utf-8")
    return path


@pytest.mark.parametrize(("at", "eu", "us"), [
    ("2027-03-10T06:59Z", [], []),                 # London 06:59 GMT, New York 01:59 EST
    ("2027-03-10T12:00Z", ["bob"], ["dan"]),        # k=9; New York 07:00 EST
    ("2027-03-10T20:00Z", [], ["dan"]),
    ("2027-03-15T11:30Z", ["alice"], ["carol"]),    # k=14; New York now EDT: 07:30
    ("2027-03-20T06:30Z", [], []),                  # London still GMT
    ("2027-03-29T06:30Z", ["alice"], []),           # k=28; London BST: 07:30
    ("2027-03-29T18:30Z", [], ["carol"]),           # London 19:30, New York 14:30
    ("2027-11-01T07:30Z", ["bob"], []),             # k=245; London GMT again, New York 03:30 EDT
    ("2027-11-08T11:30Z", ["alice"], []),           # k=252; New York EST again: 06:30
    ("2027-11-08T23:30Z", [], ["carol"]),
])
def test_follow_the_sun_roster_across_both_zones_changes(run_cli, tmp_path, at, eu, us):
    result = run_cli("oncall", "--at", at, "--json", config=write(tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["at", "rotations"]
    assert data["rotations"]["EU primary"] == eu
    assert data["rotations"]["US primary"] == us


def test_hour_shift_and_empty_rotation_in_the_table(run_cli, tmp_path):
    # Night desk: 12h from 08:00 London -> 08:00 and 20:00; 10 Mar 21:00 GMT is k=19 -> frank.
    result = run_cli("oncall", "--at", "2027-03-10T21:00Z", config=write(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    assert "frank" in lines["Night desk"]
    assert "nobody" in lines["EU primary"]
    # Next change: the window opens Thu 11 Mar 07:00 GMT in shift k=10, alice's.
    assert "Thu 2027-03-11 07:00" in lines["EU primary"]
    assert lines["EU primary"].rstrip().endswith("alice")


@pytest.mark.parametrize(("old", "new", "needle", "key", "words"), [
    ("shift: 12h", "shift: 5h", "shift: 5h", "rotations[2].shift", "divide a day"),
    ('handoff: "08:00"', "handoff: monday 08:00", "handoff: monday 08:00", "rotations[2].handoff", "weekday"),
    ("timezone: America/New_York", "timezone: America/Gotham", "America/Gotham", "rotations[1].timezone",
     "unknown time zone"),
    ('active_hours: "07:00-19:00"\n  - name: Night', 'active_hours: "07:00-07:00"\n  - name: Night',
     "07:00-07:00", "rotations[1].active_hours", "empty"),
    ('active_hours: "07:00-19:00"\n  - name: US', 'active_hours: "7 to 7"\n  - name: US',
     "7 to 7", "rotations[0].active_hours", "07:00-19:00"),
    ("[EU primary, US primary]", "[EU primary, APAC primary]", "APAC primary", "escalation[0].rotation[1]",
     "unknown rotation"),
])
def test_bad_shapes_exit_2_naming_file_line_and_key(run_cli, tmp_path, old, new, needle, key, words):
    assert old in SUN
    path = write(tmp_path, SUN.replace(old, new, 1))
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)
    result = run_cli("oncall", "--json", config=path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"triageboard: {path}:{line}: {key}:") \
        or f"{path}:{line}: {key}:" in result.stderr, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
