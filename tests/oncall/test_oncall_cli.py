"""`triageboard oncall` and `oncall export` against the repo's config.yaml, worked out by hand.

The repo's rotations all hand off on Mondays at 09:00 Europe/London; shift 0
begins Mon 2026-11-02 09:00, and shift k begins k shift lengths later
(negative k before it). London is UTC+0 from 25 Oct 2026 to 28 Mar 2027 and
UTC+1 in summer.

  SET primary      1w, listed [alice, bob, carol, dan]   -> sequence[k mod 4]
  SET backup       1w, listed [bob, carol, dan, alice]   -> sequence[k mod 4]
  SET lead         2w, listed [frank, grace]             -> sequence[k mod 2]
  Support stewards 2w, alphabetical [alice, bob, dan, erin], 2 seats
                   -> sequence[(k-1) mod 4], sequence[k mod 4] (longest-serving first)
  overrides: bob covers SET primary [Mon 21 Dec 09:00, Mon 28 Dec 09:00);
             carol takes dan's stewards seat [Thu 24 Dec 00:00, Sun 27 Dec 00:00)
"""

from __future__ import annotations

import json

import pytest
from icalendar import Calendar

ORDER = ["SET primary", "SET backup", "SET lead", "Support stewards"]


def roster(run_cli, at):
    result = run_cli("oncall", "--at", at, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["at", "rotations"]
    assert list(data["rotations"]) == ORDER  # every rotation, in config order
    return data


@pytest.mark.parametrize(("at", "expected"), [
    # Mon 16 Nov 10:00 GMT: 14 days after shift 0 -> weekly k=2, two-weekly k=1.
    # primary seq[2]=carol; backup seq[2]=dan; lead seq[1]=grace;
    # stewards seq[0]=alice (since k=0), seq[1]=bob (since k=1).
    ("2026-11-16T10:00+00:00", {"at": "2026-11-16T10:00:00+00:00", "rotations": {
        "SET primary": ["carol"], "SET backup": ["dan"], "SET lead": ["grace"],
        "Support stewards": ["alice", "bob"]}}),
    # One second before that handoff: weekly k=1, two-weekly k=0.
    # primary bob; backup carol; lead frank; stewards seq[-1 mod 4]=erin (since k=-1), seq[0]=alice.
    ("2026-11-16T08:59:59+00:00", {"at": "2026-11-16T08:59:59+00:00", "rotations": {
        "SET primary": ["bob"], "SET backup": ["carol"], "SET lead": ["frank"],
        "Support stewards": ["erin", "alice"]}}),
    # Tue 22 Dec 12:00 GMT: 7 weeks after shift 0 -> weekly k=7, two-weekly k=3.
    # primary would be seq[3]=dan, but bob's override covers it; backup seq[3]=alice;
    # lead seq[1]=grace; stewards seq[2]=dan, seq[3]=erin (carol's cover starts on the 24th).
    ("2026-12-22T12:00+00:00", {"at": "2026-12-22T12:00:00+00:00", "rotations": {
        "SET primary": ["bob"], "SET backup": ["alice"], "SET lead": ["grace"],
        "Support stewards": ["dan", "erin"]}}),
    # Fri 25 Dec 12:00 GMT: same shifts; now carol holds dan's seat, in dan's place (first).
    ("2026-12-25T12:00+00:00", {"at": "2026-12-25T12:00:00+00:00", "rotations": {
        "SET primary": ["bob"], "SET backup": ["alice"], "SET lead": ["grace"],
        "Support stewards": ["carol", "erin"]}}),
    # Mon 28 Dec 09:00 GMT: bob's override ends as weekly k=8 begins, two-weekly k=4.
    # primary seq[0]=alice; backup seq[0]=bob; lead seq[0]=frank; stewards seq[3]=erin, seq[0]=alice.
    ("2026-12-28T09:00+00:00", {"at": "2026-12-28T09:00:00+00:00", "rotations": {
        "SET primary": ["alice"], "SET backup": ["bob"], "SET lead": ["frank"],
        "Support stewards": ["erin", "alice"]}}),
])
def test_json_roster_at_instants_worked_out_by_hand(run_cli, at, expected):
    assert roster(run_cli, at) == expected


def test_at_without_offset_is_the_boards_time_zone(run_cli):
    # Wed 1 Jul 2026 12:00 BST = 11:00 UTC. Shift k=-18 began Mon 29 Jun 09:00 BST, 126 days
    # (18 weeks) before shift 0: primary seq[-18 mod 4 = 2]=carol; backup seq[2]=dan;
    # two-weekly k=-9: lead seq[-9 mod 2 = 1]=grace; stewards seq[-10 mod 4 = 2]=dan, seq[-9 mod 4 = 3]=erin.
    expected = {"at": "2026-07-01T12:00:00+01:00", "rotations": {
        "SET primary": ["carol"], "SET backup": ["dan"], "SET lead": ["grace"], "Support stewards": ["dan", "erin"]}}
    assert roster(run_cli, "2026-07-01T12:00") == expected
    assert roster(run_cli, "2026-07-01T11:00Z") == expected  # the same instant, shown on the board's clock


def test_default_instant_is_now(run_cli):
    result = run_cli("oncall", "--json", now="2026-11-16T10:00")  # TRIAGEBOARD_NOW: the testing clock
    assert json.loads(result.stdout) == roster(run_cli, "2026-11-16T10:00")


@pytest.mark.parametrize("bad", ["next tuesday", "2026-13-01T09:00", "2026-11-16T25:00"])
def test_bad_at_is_exit_2_with_one_line(run_cli, bad):
    result = run_cli("oncall", "--at", bad, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("triageboard: --at: expected an ISO 8601 date and time")


def test_table_shows_who_is_on_duty_next_handoff_and_overrides(run_cli):
    result = run_cli("oncall", "--at", "2026-12-25T12:00")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "On call at Fri 2026-12-25 12:00 (Europe/London)"
    assert lines[1].split() == ["ROTATION", "ON", "DUTY", "NEXT", "HANDOFF", "INCOMING"]
    rows = {line.split("  ")[0]: " ".join(line.split()) for line in lines[2:]}
    assert list(rows) == ORDER
    assert rows["SET primary"] == ("SET primary bob (covering dan until Mon 2026-12-28 09:00) "
                                   "Mon 2026-12-28 09:00 alice")
    assert rows["SET lead"] == "SET lead grace Mon 2026-12-28 09:00 frank"
    # Carol's cover ends first: dan comes back to his seat on Sunday at midnight.
    assert rows["Support stewards"] == ("Support stewards carol (covering dan until Sun 2026-12-27 00:00), "
                                        "erin Sun 2026-12-27 00:00 dan")


def events(path):
    calendar = Calendar.from_ical(path.read_bytes())
    return [c for c in calendar.walk("VEVENT")]


def test_export_ics_parses_back_with_stable_uids(run_cli, tmp_path):
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    for target in (first, second):
        result = run_cli("oncall", "export", "--ics", str(target), "--from", "2026-11-02", "--to", "2026-11-30")
        assert result.returncode == 0, result.stderr
    # [Mon 2 Nov 00:00, Mon 30 Nov 00:00) overlaps these shifts (the one ending 2 Nov 09:00 included):
    # primary and backup: weeks starting 26 Oct, 2, 9, 16, 23 Nov -> 5 + 5;
    # lead: fortnights starting 19 Oct, 2 Nov, 16 Nov -> 3; stewards: the same 3 fortnights x 2 seats -> 6.
    found = events(first)
    assert len(found) == 19
    summaries = [str(e["SUMMARY"]) for e in found]
    assert summaries.count("SET lead: frank") == 1 and summaries.count("SET lead: grace") == 2
    assert {s for s in summaries if s.startswith("SET primary")} == {
        "SET primary: dan", "SET primary: alice", "SET primary: bob", "SET primary: carol"}
    assert sorted(summaries) == sorted(str(e["SUMMARY"]) for e in events(second))
    assert sorted(str(e["UID"]) for e in found) == sorted(str(e["UID"]) for e in events(second))
    assert len({str(e["UID"]) for e in found}) == 19
    start = next(e for e in found if str(e["SUMMARY"]) == "SET primary: alice").decoded("DTSTART")
    assert (start.isoformat(), str(start.tzinfo)) == ("2026-11-02T09:00:00+00:00", "Europe/London")


def test_export_marks_overrides_and_filters_by_member(run_cli, tmp_path):
    target = tmp_path / "bob.ics"
    result = run_cli("oncall", "export", "--ics", str(target), "--from", "2026-12-21", "--to", "2026-12-28",
                     "--member", "bob")
    assert result.returncode == 0, result.stderr
    # [21 Dec, 28 Dec) overlaps weekly k=6 (ends 21 Dec 09:00) and k=7, two-weekly k=3.
    # primary k=6 carol, k=7 dan -> covered by bob's override; backup k=6 dan, k=7 alice;
    # lead grace; stewards dan, erin. So bob has exactly one stretch: the override.
    assert [str(e["SUMMARY"]) for e in events(target)] == ["SET primary: bob (covering dan)"]


def test_export_default_range_is_eight_weeks_from_today(run_cli, tmp_path):
    target = tmp_path / "roster.ics"
    result = run_cli("oncall", "export", "--ics", str(target), "--member", "frank", now="2026-11-16T10:00")
    assert result.returncode == 0, result.stderr
    assert "from 2026-11-16 to 2027-01-11" in result.stderr
    # [Mon 16 Nov 00:00, Mon 11 Jan 00:00): frank leads the even fortnights k=0 (2-16 Nov 09:00,
    # overlapping the first nine hours), k=2 (from 30 Nov), k=4 (from 28 Dec); k=6 starts 11 Jan 09:00.
    starts = [e.decoded("DTSTART").date().isoformat() for e in events(target)]
    assert starts == ["2026-11-02", "2026-11-30", "2026-12-28"]


def test_export_refuses_unknown_member_and_bad_dates(run_cli, tmp_path):
    target = tmp_path / "x.ics"
    assert run_cli("oncall", "export", "--ics", str(target), "--member", "zed").returncode == 1
    bad = run_cli("oncall", "export", "--ics", str(target), "--from", "soon")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert not target.exists()
