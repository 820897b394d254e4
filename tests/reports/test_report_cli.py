"""`triageboard report` on an imported history: every figure worked out by hand (see report_history.py)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from report_history import write_import

from app.cli.report import choose_period


@pytest.fixture
def imported(tmp_path, triageboard):
    result = triageboard("import", str(write_import(tmp_path / "history.json")))
    assert result.returncode == 0, result.stderr
    return triageboard


def test_json_figures_match_the_hand_computation(imported):
    result = imported("report", "--cycle", "0", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert (report["from"], report["to"], report["cycle"]) == ("2026-11-02", "2026-11-16", 0)
    # Closed in the period and still closed at its end: SET-1, SET-2, SET-3, SET-8 (SET-7 was reopened).
    assert report["throughput"] == 4
    # Lead times 2, 25, 72, 168 h: median (25 + 72) / 2 = 48.5; 85th: ceil(0.85 x 4) = 4th = 168.
    assert report["lead_time"] == {"median_hours": 48.5, "p85_hours": 168.0, "count": 4}
    # Cycle times 24, 48, 144 h (SET-3 never reached In Progress): median 48; ceil(0.85 x 3) = 3rd = 144.
    assert report["cycle_time"] == {"median_hours": 48.0, "p85_hours": 144.0, "count": 3}
    # Tickets in Ready, In Progress, On Hold or Resolved at the end of each day:
    #  2 Nov: SET-1 ready, SET-4, SET-7 ready                         = 3
    #  3-4 Nov: SET-1, SET-2, SET-4, SET-7                            = 4
    #  5 Nov: SET-1 closed at 09:00; SET-2, SET-4, SET-7 resolved     = 3
    #  6-8 Nov: SET-7 closed; SET-2, SET-4                            = 2
    #  9 Nov: SET-2 resolved, SET-4, SET-7 reopened, SET-8 resolved   = 4
    #  10-11 Nov: SET-2 and SET-8 closed; SET-4, SET-7                = 2
    #  12-15 Nov: SET-5 in Ready too                                  = 3
    assert list(report["wip_by_day"].values()) == [3, 4, 4, 3, 2, 2, 2, 4, 2, 2, 3, 3, 3, 3]
    assert list(report["wip_by_day"])[0] == "2026-11-02" and list(report["wip_by_day"])[-1] == "2026-11-15"
    # Work types: bug, question and incident are support; the feature is project; SET-5 says adhoc itself.
    by_type = report["by_work_type"]
    assert by_type["support"]["throughput"] == 3            # SET-1, SET-3, SET-8
    assert by_type["support"]["lead_time"]["median_hours"] == 25.0   # 2, 25, 72
    assert by_type["support"]["wip"] == 2                   # SET-4, SET-7
    assert by_type["project"]["throughput"] == 1 and by_type["project"]["lead_time"]["median_hours"] == 168.0
    assert (by_type["adhoc"]["throughput"], by_type["adhoc"]["wip"]) == (0, 1)
    by_who = report["by_assignee"]
    assert {name: split["throughput"] for name, split in by_who.items()} == {
        "alice": 2, "bob": 2, "carol": 0, "dan": 0, "(unassigned)": 0}
    assert {name: split["wip"] for name, split in by_who.items()} == {
        "alice": 0, "bob": 0, "carol": 1, "dan": 1, "(unassigned)": 1}
    # Only SET-4 has sat in its column past five working days.
    assert report["stale"] == ["SET-4"]
    # The Closed band counts SET-6, closed in October, on every day.
    assert report["cfd"]["2026-11-02"]["closed"] == 1
    assert report["cfd"]["2026-11-15"]["closed"] == 1 + 4


def test_text_names_the_cycle(imported):
    result = imported("report", "--cycle", "0")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Cycle 0: Mon 02 Nov 2026 to Sun 15 Nov 2026")
    assert "Throughput    4 closed" in out
    assert "median 48.5 h" in out and "85th percentile 168.0 h" in out
    assert "Stale (1)" in out and "SET-4" in out


def test_from_to_is_the_same_report_as_the_cycle(imported):
    by_dates = json.loads(imported("report", "--from", "2026-11-02", "--to", "2026-11-16", "--json").stdout)
    by_cycle = json.loads(imported("report", "--cycle", "0", "--json").stdout)
    assert by_dates == by_cycle


def test_csv_rows(imported, tmp_path):
    target = tmp_path / "rows.csv"
    result = imported("report", "--cycle", "0", "--csv", str(target))
    assert result.returncode == 0, result.stderr
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
        f.seek(0)
        header = next(csv.reader(f))
    assert header == ["key", "title", "kind", "work_type", "assignee", "created", "first_in_progress", "closed",
                      "lead_hours", "cycle_hours", "column", "days_in_column"]
    # Closed tickets by close instant, then open work oldest in its column first.
    assert [r["key"] for r in rows] == ["SET-1", "SET-3", "SET-8", "SET-2", "SET-4", "SET-7", "SET-5"]
    one = rows[0]
    assert one["title"] == "Ticket 1" and one["kind"] == "bug" and one["work_type"] == "support"
    assert one["created"] == "2026-11-02T09:00:00+00:00" and one["first_in_progress"] == "2026-11-03T09:00:00+00:00"
    assert (one["closed"], one["lead_hours"], one["cycle_hours"]) == ("2026-11-05T09:00:00+00:00", "72.00", "48.00")
    assert one["column"] == "Closed"
    # 5 Nov 09:00 -> 16 Nov 00:00 = 10 days 15 hours
    assert float(one["days_in_column"]) == pytest.approx(10.625, abs=0.01)
    three = rows[1]
    assert three["first_in_progress"] == "" and three["cycle_hours"] == ""
    four = next(r for r in rows if r["key"] == "SET-4")
    assert (four["column"], four["closed"], four["assignee"]) == ("In Progress", "", "carol")
    assert float(four["days_in_column"]) == pytest.approx(18.625, abs=0.01)  # 28 Oct 09:00 -> 16 Nov 00:00
    five = next(r for r in rows if r["key"] == "SET-5")
    assert (five["work_type"], five["assignee"], five["column"]) == ("adhoc", "", "Ready")


@pytest.mark.parametrize("args, message", [
    (("--from", "2026-11-31", "--to", "2026-12-01"), "--from: '2026-11-31' is not a date"),
    (("--from", "2026-11-02", "--to", "next week"), "--to: 'next week' is not a date"),
    (("--from", "2026-11-02"), "--from and --to go together"),
    (("--from", "2026-11-16", "--to", "2026-11-02"), "must be after --from"),
    (("--cycle", "1", "--from", "2026-11-02", "--to", "2026-11-16"), "use one of"),
    (("--cycle", "1", "--previous"), "use one of"),
])
def test_bad_arguments_exit_2_with_one_line(triageboard, args, message):
    result = triageboard("report", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_default_is_the_current_cycle(triageboard):
    result = triageboard("report", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    today = dt.datetime.now(dt.timezone.utc).date()
    assert dt.date.fromisoformat(report["from"]) <= today + dt.timedelta(days=1)
    assert dt.date.fromisoformat(report["to"]) >= today
    assert (dt.date.fromisoformat(report["to"]) - dt.date.fromisoformat(report["from"])).days == 14


def test_cycle_numbers_absolute_and_relative(report_config):
    now = dt.datetime(2026, 11, 20, 12, 0)  # in cycle 1: 16 Nov .. 29 Nov
    def start(**kw):
        options = dict(cycle=None, previous=False, start=None, end=None) | kw
        return choose_period(report_config, now, **options).start
    assert start() == dt.date(2026, 11, 16)
    assert start(previous=True) == start(cycle=-1) == dt.date(2026, 11, 2)
    assert start(cycle=-2) == dt.date(2026, 10, 19)
    assert start(cycle=3) == dt.date(2026, 12, 14)
