"""The roster as iCalendar, parsed back with the icalendar library and matched."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.config.settings import load_config
from app.oncall.ics import export_ics, roster_shifts

LONDON = ZoneInfo("Europe/London")
REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"
STAMP = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def oncall():
    return load_config(REPO_CONFIG).oncall


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def events(calendar: Calendar) -> list:
    return list(calendar.walk("VEVENT"))


def as_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def test_round_trip_matches_the_roster(oncall):
    data = export_ics(oncall, date(2026, 12, 1), date(2027, 1, 15), stamp=STAMP)
    calendar = parse(data)
    pieces = roster_shifts(oncall, date(2026, 12, 1), date(2027, 1, 15))
    got = sorted((str(e["SUMMARY"]), as_utc(e.start), as_utc(e.end)) for e in events(calendar))
    want = sorted((f"{p.rotation}: {p.member}" + (f" (covering {p.replaces})" if p.replaces else ""),
                   as_utc(p.start), as_utc(p.end)) for p in pieces)
    assert got == want
    assert len({str(e["UID"]) for e in events(calendar)}) == len(pieces)


def test_summary_names_rotation_and_member_and_override(oncall):
    calendar = parse(export_ics(oncall, date(2026, 12, 20), date(2027, 1, 1), member="bob", stamp=STAMP))
    summaries = [str(e["SUMMARY"]) for e in events(calendar)]
    # bob covers dan's primary week (2026-12-21 – 12-28) and is backup from 12-28 (k=8: 8 mod 4 = 0).
    assert summaries == ["SET primary: bob (covering dan)", "SET backup: bob"]
    cover, backup = events(calendar)
    assert cover.start == datetime(2026, 12, 21, 9, tzinfo=LONDON)
    assert cover.end == datetime(2026, 12, 28, 9, tzinfo=LONDON)
    assert backup.start == datetime(2026, 12, 28, 9, tzinfo=LONDON)


def test_times_are_in_the_board_zone_with_its_vtimezone(oncall):
    data = export_ics(oncall, date(2027, 3, 20), date(2027, 4, 5), member="alice", stamp=STAMP)
    assert b"DTSTART;TZID=Europe/London:" in data
    calendar = parse(data)
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/London"]
    assert calendar.get_missing_tzids() == set()
    # Every handoff reads 09:00 Monday on the wall, on both sides of 2027-03-28.
    for event in events(calendar):
        local = event.start.astimezone(LONDON)
        assert (local.weekday(), local.time()) == (0, time(9))
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert event["DTEND"].params["TZID"] == "Europe/London"


def test_uids_are_stable_across_exports(oncall):
    first = parse(export_ics(oncall, date(2026, 12, 1), date(2027, 1, 1), stamp=STAMP))
    later = parse(export_ics(oncall, date(2026, 11, 1), date(2027, 2, 1), stamp=STAMP + timedelta(days=9)))
    by_uid = {str(e["UID"]): (str(e["SUMMARY"]), as_utc(e.start), as_utc(e.end)) for e in events(later)}
    for event in events(first):
        assert by_uid[str(event["UID"])] == (str(event["SUMMARY"]), as_utc(event.start), as_utc(event.end))


def test_filters_by_member_and_date_range(oncall):
    start, end = date(2027, 1, 4), date(2027, 2, 1)
    calendar = parse(export_ics(oncall, start, end, member="frank", stamp=STAMP))
    found = events(calendar)
    assert found and all(str(e["SUMMARY"]) == "SET lead: frank" for e in found)
    lo, hi = datetime(2027, 1, 4, tzinfo=LONDON), datetime(2027, 2, 1, tzinfo=LONDON)
    assert all(e.start < hi and e.end > lo for e in found)
    # The lead alternates fortnightly from 2026-11-02 (frank first): frank holds 12-28 – 01-11
    # and 01-25 – 02-08; both overlap January 4–31.
    assert [e.start for e in found] == [datetime(2026, 12, 28, 9, tzinfo=LONDON),
                                        datetime(2027, 1, 25, 9, tzinfo=LONDON)]


def test_empty_export_is_still_a_calendar(oncall):
    calendar = parse(export_ics(oncall, date(2027, 1, 1), date(2027, 2, 1), member="nobody", stamp=STAMP))
    assert events(calendar) == []
