"""Flow metrics against hand computations.

Every expected figure below is worked out in the comment beside it from the
history written at the top of the test; none was copied from the code's output.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.reports.cycles import Period, ReportSettings, current_cycle, cycle_number, cycle_period
from app.config.durations import Duration
from app.reports.metrics import UNASSIGNED, Move, TicketFacts, compute_report, nearest_rank, summarize
from app.board.workflow import Column, Workflow

WORKFLOW = Workflow(
    columns=(Column("todo", "To Do", "Open"), Column("ready", "Ready", "Open"),
             Column("in_progress", "In Progress", "In Progress"),
             Column("on_hold", "On Hold", {"requester": "Pending", "external": "On Hold"}),
             Column("resolved", "Resolved", "Development Complete"), Column("closed", "Closed", "Released")),
    transitions={},
)
SETTINGS = ReportSettings(cycle=Duration(2, "weeks"), start=dt.date(2026, 11, 2))
PERIOD = Period(dt.date(2026, 11, 2), dt.date(2026, 11, 16), "UTC")  # cycle 0: Mon 2 Nov .. Sun 15 Nov


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute)


def ticket(key: str, created: dt.datetime, *moves: tuple[dt.datetime, str], **fields) -> TicketFacts:
    return TicketFacts(key=key, created=created, moves=tuple(Move(when, state) for when, state in moves), **fields)


def cycle_history() -> list[TicketFacts]:
    """The board behind most tests; the period is 2 Nov 00:00 .. 16 Nov 00:00 UTC."""
    return [
        # A: the happy path, closed in the period.
        ticket("A", at(10, 30, 9), (at(11, 2, 10), "ready"), (at(11, 3, 9), "in_progress"),
               (at(11, 5, 9), "resolved"), (at(11, 6, 9), "closed"), kind="bug", assignee="alice"),
        # B: solved by support straight from To Do, never In Progress.
        ticket("B", at(11, 3, 12), (at(11, 3, 18), "closed"), kind="question", assignee="bob"),
        # C: closed, reopened and closed again, all in the period; explicitly ad-hoc.
        ticket("C", at(11, 1), (at(11, 1, 6), "ready"), (at(11, 4), "in_progress"), (at(11, 6), "resolved"),
               (at(11, 7), "closed"), (at(11, 9), "in_progress"), (at(11, 10), "resolved"),
               (at(11, 12), "closed"), kind="incident", work_type="adhoc", assignee="alice"),
        # D: closed before the period, reopened in it and still in progress at its end.
        ticket("D", at(10, 20), (at(10, 21), "ready"), (at(10, 22), "in_progress"), (at(10, 25), "resolved"),
               (at(10, 26), "closed"), (at(11, 10), "in_progress"), kind="bug", assignee="bob"),
        # E: sat in Ready since 2 October: stale.
        ticket("E", at(10, 1), (at(10, 2), "ready"), kind="escalation", assignee="carol"),
        # F: closed before the period and untouched: only the Closed band.
        ticket("F", at(10, 1), (at(10, 5), "closed"), kind="bug", assignee="alice"),
        # G: a new feature request in To Do, unassigned.
        ticket("G", at(11, 14, 12), kind="feature"),
        # H: closed in the period and reopened after it (the later move must not matter).
        ticket("H", at(11, 8), (at(11, 8, 6), "ready"), (at(11, 9), "in_progress"), (at(11, 13), "resolved"),
               (at(11, 15), "closed"), (at(11, 17), "in_progress"), kind="feature"),
    ]


@pytest.fixture
def report():
    return compute_report(cycle_history(), PERIOD, WORKFLOW, SETTINGS, closed_elsewhere=10)


def test_throughput_counts_tickets_closed_at_the_end_of_the_period(report):
    # A closed 6 Nov; B 3 Nov; C closed 7 Nov, reopened, closed 12 Nov (once); H closed 15 Nov.
    # D was closed before and reopened in the period: not closed at its end. F closed in October.
    assert report.throughput == 4
    assert [(t.key, t.closed) for t in report.closed] == [
        ("B", at(11, 3, 18)), ("A", at(11, 6, 9)), ("C", at(11, 12)), ("H", at(11, 15))]


def test_lead_time(report):
    # A: 30 Oct 09:00 -> 6 Nov 09:00 = 7 d = 168 h.   B: 3 Nov 12:00 -> 18:00 = 6 h.
    # C: 1 Nov 00:00 -> 12 Nov 00:00 (its last close) = 11 d = 264 h.   H: 8 Nov -> 15 Nov = 168 h.
    # Sorted 6, 168, 168, 264: median (168 + 168) / 2 = 168; p85 rank ceil(0.85 x 4) = 4 -> 264.
    assert report.lead_time.count == 4
    assert report.lead_time.median_hours == pytest.approx(168)
    assert report.lead_time.p85_hours == pytest.approx(264)
    # Mean (6 + 168 + 168 + 264) / 4 = 151.5.
    assert report.lead_time.mean_hours == pytest.approx(151.5)


def test_cycle_time_starts_at_the_first_entry_into_in_progress(report):
    # A: 3 Nov 09:00 -> 6 Nov 09:00 = 72 h.   C: 4 Nov -> 12 Nov = 8 d = 192 h (rework included).
    # H: 9 Nov -> 15 Nov = 144 h.   B never reached In Progress: no cycle time.
    # Sorted 72, 144, 192: median 144; p85 rank ceil(0.85 x 3) = 3 -> 192.
    assert report.cycle_time.count == 3
    assert report.cycle_time.median_hours == pytest.approx(144)
    assert report.cycle_time.p85_hours == pytest.approx(192)
    by_key = {t.key: t.cycle_hours for t in report.closed}
    assert by_key == {"A": pytest.approx(72), "B": None, "C": pytest.approx(192), "H": pytest.approx(144)}


def test_wip_per_day_counts_the_columns_between_the_first_and_the_final(report):
    # End of each day = midnight before the next; a move made exactly at midnight counts the next day.
    # Nov 2-5: A (ready, in progress, resolved), C (ready / in progress), E           = 3
    # Nov 6:   C resolved, E (A closed 6 Nov 09:00)                                   = 2
    # Nov 7:   E (C closed 7 Nov 00:00)                                               = 1
    # Nov 8:   E, H (ready since 06:00)                                               = 2
    # Nov 9:   C (reopened 9 Nov), E, H                                               = 3
    # Nov 10-11: C resolved, D (reopened 10 Nov 00:00), E, H                          = 4
    # Nov 12-14: D, E, H (C closed 12 Nov 00:00)                                      = 3
    # Nov 15:  D, E (H closed 15 Nov 00:00)                                           = 2
    # G sits in To Do, which is not WIP; B and F are closed.
    assert report.wip_columns == ("ready", "in_progress", "on_hold", "resolved")
    assert [count for _, count in report.wip_by_day] == [3, 3, 3, 3, 2, 1, 2, 3, 4, 4, 3, 3, 3, 2]
    assert report.wip_by_day[0][0] == dt.date(2026, 11, 2)
    assert report.wip_by_day[-1][0] == dt.date(2026, 11, 15)


def test_cumulative_flow(report):
    cfd = dict(report.cfd)
    # End of 9 Nov: To Do none (G not yet created); Ready E; In Progress C, H;
    # Closed A, B, D, F and the 10 counted elsewhere = 14. 1 + 2 + 14 = 17 tickets.
    assert cfd[dt.date(2026, 11, 9)] == {"todo": 0, "ready": 1, "in_progress": 2, "on_hold": 0,
                                          "resolved": 0, "closed": 14}
    # End of 15 Nov: To Do G; Ready E; In Progress D; Closed A, B, C, F, H + 10 = 15.
    assert cfd[dt.date(2026, 11, 15)] == {"todo": 1, "ready": 1, "in_progress": 1, "on_hold": 0,
                                           "resolved": 0, "closed": 15}
    # End of 2 Nov: A ready, C ready, E ready; D and F closed + 10; B, G, H not created.
    assert cfd[dt.date(2026, 11, 2)] == {"todo": 0, "ready": 3, "in_progress": 0, "on_hold": 0,
                                          "resolved": 0, "closed": 12}


def test_ageing_and_stale_at_the_end_of_the_period(report):
    # Open at 16 Nov 00:00: E in Ready since 2 Oct 00:00 (45 days, never started);
    # D in Progress since 10 Nov 00:00 (6 days), first In Progress 22 Oct (25 days);
    # G in To Do since 14 Nov 12:00 (1.5 days). H was still closed then.
    rows = [(t.key, t.state, t.days_in_column, t.days_since_started, t.stale) for t in report.ageing]
    assert rows == [("E", "ready", pytest.approx(45), None, True),
                    ("D", "in_progress", pytest.approx(6), pytest.approx(25), False),
                    ("G", "todo", pytest.approx(1.5), None, False)]
    # stale_after 7 days: only E (45 > 7); D's 6 days are not enough.
    assert report.stale == ("E",)


def test_time_in_each_column_over_tickets_closed_in_the_period(report):
    # To Do: A 30 Oct 09:00 -> 2 Nov 10:00 = 73 h; B 6 h; C 6 h; H 6 h.
    #   Sorted 6, 6, 6, 73: median 6, mean 91 / 4 = 22.75, p85 rank 4 -> 73.
    # Ready: A 2 Nov 10:00 -> 3 Nov 09:00 = 23 h; C 1 Nov 06:00 -> 4 Nov 00:00 = 66 h; H 18 h.
    #   Median 23, mean 107 / 3.
    # In Progress: A 48 h; C 48 + 24 = 72 h (both visits); H 4 d = 96 h. Median 72, mean 72.
    # Resolved: A 24 h; C 24 + 48 = 72 h; H 48 h. Median 48. On Hold: nobody.
    columns = report.time_in_column
    assert (columns["todo"].count, columns["todo"].median_hours, columns["todo"].mean_hours,
            columns["todo"].p85_hours) == (4, 6, pytest.approx(22.75), 73)
    assert (columns["ready"].count, columns["ready"].median_hours) == (3, 23)
    assert columns["ready"].mean_hours == pytest.approx(107 / 3)
    assert (columns["in_progress"].count, columns["in_progress"].median_hours,
            columns["in_progress"].mean_hours) == (3, 72, 72)
    assert (columns["resolved"].count, columns["resolved"].median_hours) == (3, 48)
    assert columns["on_hold"].count == 0 and columns["on_hold"].median_hours is None
    assert "closed" not in columns


def test_split_by_work_type(report):
    # support: A (bug), B (question) closed; D (bug, in progress) and E (escalation, ready) open.
    #   Lead 168 and 6: median 87, p85 rank ceil(1.7) = 2 -> 168. Cycle: A's 72 only.
    # project: H (feature) closed, lead 168, cycle 144; G (feature) open in To Do: not WIP.
    # adhoc: C (its own field says so, though an incident) closed, lead 264, cycle 192.
    split = report.by_work_type
    assert list(split) == ["support", "project", "adhoc"]
    support = split["support"]
    assert (support.throughput, support.wip, support.open) == (2, 2, 2)
    assert (support.lead_time.median_hours, support.lead_time.p85_hours) == (87, 168)
    assert (support.cycle_time.count, support.cycle_time.median_hours) == (1, 72)
    project = split["project"]
    assert (project.throughput, project.lead_time.median_hours, project.cycle_time.median_hours,
            project.wip, project.open) == (1, 168, 144, 0, 1)
    adhoc = split["adhoc"]
    assert (adhoc.throughput, adhoc.lead_time.median_hours, adhoc.wip, adhoc.open) == (1, 264, 0, 0)


def test_split_by_assignee(report):
    # alice: A and C closed (lead 168, 264: median 216); F closed before the period does not count.
    # bob: B closed (6 h); D open in progress.   carol: E open in Ready.
    # unassigned: H closed; G open in To Do. Unassigned comes last.
    split = report.by_assignee
    assert list(split) == ["alice", "bob", "carol", UNASSIGNED]
    assert (split["alice"].throughput, split["alice"].lead_time.median_hours, split["alice"].open) == (2, 216, 0)
    assert (split["bob"].throughput, split["bob"].lead_time.median_hours, split["bob"].wip) == (1, 6, 1)
    assert (split["carol"].throughput, split["carol"].wip, split["carol"].open) == (0, 1, 1)
    assert (split[UNASSIGNED].throughput, split[UNASSIGNED].wip, split[UNASSIGNED].open) == (1, 0, 1)


def test_configured_work_type_default():
    # With bugs counted as project work, A (a bug, no work type of its own) moves from support to project.
    settings = ReportSettings(start=dt.date(2026, 11, 2), work_types={**SETTINGS.work_types, "bug": "project"})
    report = compute_report(cycle_history(), PERIOD, WORKFLOW, settings)
    assert report.by_work_type["project"].throughput == 2  # A and H
    assert report.by_work_type["support"].throughput == 1  # B


def test_a_period_not_yet_over_stops_at_now():
    # now = 9 Nov 12:00: days 2..9 only, 9 Nov measured at 12:00: C and H in progress since 00:00, E ready = 3.
    now = at(11, 9, 12)
    report = compute_report(cycle_history(), PERIOD, WORKFLOW, SETTINGS, now=now)
    assert report.as_of == now
    assert [count for _, count in report.wip_by_day] == [3, 3, 3, 3, 2, 1, 2, 3]
    # Ageing at 9 Nov 12:00: E ready since 2 Oct = 38.5 days; C in progress since 9 Nov 00:00 (0.5 day),
    # first started 4 Nov (5.5 days); H in progress since 9 Nov 00:00, started then (0.5 day).
    # D was closed then (reopened 10 Nov); G did not exist.
    rows = [(t.key, t.days_in_column, t.days_since_started) for t in report.ageing]
    assert rows == [("E", pytest.approx(38.5), None), ("C", pytest.approx(0.5), pytest.approx(5.5)),
                    ("H", pytest.approx(0.5), pytest.approx(0.5))]


def test_days_end_at_local_midnight_across_a_clock_change():
    # Europe/London leaves summer time on Sunday 25 Oct 2026: local midnight of the 25th is
    # 24 Oct 23:00 UTC, of the 26th is 26 Oct 00:00 UTC. Cycle -1 is 19 Oct .. 2 Nov local,
    # starting 18 Oct 23:00 UTC.
    period = cycle_period(SETTINGS, -1, "Europe/London")
    assert (period.start, period.end) == (dt.date(2026, 10, 19), dt.date(2026, 11, 2))
    assert period.start_utc == at(10, 18, 23)
    assert period.midnight(dt.date(2026, 10, 25)) == at(10, 24, 23)
    assert period.midnight(dt.date(2026, 10, 26)) == at(10, 26, 0)
    tickets = [
        # Created 18 Oct 23:30 UTC = 19 Oct 00:30 BST: inside the period; closed 24 Oct 23:30 UTC,
        # which is 25 Oct 00:30 BST, so still open at the end of 24 Oct and closed at the end of 25 Oct.
        ticket("P", at(10, 18, 23, 30), (at(10, 19, 9), "in_progress"), (at(10, 24, 23, 30), "closed")),
        # Closed 18 Oct 22:30 UTC = 18 Oct 23:30 BST: before the period.
        ticket("Q", at(10, 18, 20), (at(10, 18, 22, 30), "closed")),
    ]
    report = compute_report(tickets, period, WORKFLOW, SETTINGS)
    assert [t.key for t in report.closed] == ["P"]
    # P: 18 Oct 23:30 -> 24 Oct 23:30 = 6 d = 144 h (UTC instants, so no hour gained or lost).
    assert report.lead_time.median_hours == pytest.approx(144)
    wip = dict(report.wip_by_day)
    assert wip[dt.date(2026, 10, 24)] == 1 and wip[dt.date(2026, 10, 25)] == 0
    assert dict(report.cfd)[dt.date(2026, 10, 19)]["closed"] == 1  # Q


def test_created_in_another_column_and_moves_without_effect():
    # An import created in Ready on 3 Nov 00:00 and closed 4 Nov 00:00: lead 24 h; no In Progress.
    # A repeated move into the column it is already in changes nothing.
    facts = ticket("R", at(11, 3), (at(11, 3, 12), "ready"), (at(11, 4), "closed"), created_state="ready")
    report = compute_report([facts], PERIOD, WORKFLOW, SETTINGS)
    assert report.lead_time.median_hours == 24
    assert report.time_in_column["ready"].median_hours == 24
    assert report.cycle_time.count == 0 and report.cycle_time.median_hours is None


def test_empty_period():
    report = compute_report([], PERIOD, WORKFLOW, SETTINGS, closed_elsewhere=3)
    assert report.throughput == 0
    assert report.lead_time.as_json() == {"median_hours": None, "p85_hours": None, "count": 0}
    assert [c["closed"] for _, c in report.cfd] == [3] * 14


def test_json_keys(report):
    data = report.as_json()
    assert data["from"] == "2026-11-02" and data["to"] == "2026-11-16"
    assert data["throughput"] == 4
    assert data["lead_time"] == {"median_hours": 168, "p85_hours": 264, "count": 4}
    assert data["cycle_time"] == {"median_hours": 144, "p85_hours": 192, "count": 3}
    assert data["wip_by_day"]["2026-11-10"] == 4
    assert data["stale"] == ["E"]
    assert data["by_work_type"]["adhoc"]["throughput"] == 1
    assert data["by_assignee"][UNASSIGNED]["open"] == 1


def test_nearest_rank_percentile_and_median():
    # 1..20: rank ceil(0.85 x 20) = 17 -> 17.
    assert nearest_rank(list(range(1, 21)), 85) == 17
    # 15, 20, 35, 40, 50: rank ceil(4.25) = 5 -> 50; median 35.
    stat = summarize([50, 15, 40, 20, 35])
    assert (stat.p85_hours, stat.median_hours, stat.count) == (50, 35, 5)
    # One value: it is every percentile.
    assert nearest_rank([7.0], 85) == 7.0
    assert nearest_rank([], 85) is None


def test_cycles_are_numbered_from_the_start_date():
    # start 2 Nov 2026, 2 weeks: cycle 0 = 2..16 Nov, 1 = 16..30 Nov, -1 = 19 Oct..2 Nov.
    assert (cycle_period(SETTINGS, 0).start, cycle_period(SETTINGS, 0).end) == (dt.date(2026, 11, 2),
                                                                                 dt.date(2026, 11, 16))
    assert cycle_period(SETTINGS, 1).start == dt.date(2026, 11, 16)
    assert cycle_period(SETTINGS, -1).start == dt.date(2026, 10, 19)
    # 15 Nov 23:30 UTC is still 15 Nov in London (GMT) but 16 Nov 00:30 in Berlin.
    assert cycle_number(SETTINGS, at(11, 15, 23, 30), "Europe/London") == 0
    assert cycle_number(SETTINGS, at(11, 15, 23, 30), "Europe/Berlin") == 1
    assert cycle_number(SETTINGS, at(11, 1, 12), "UTC") == -1
    assert current_cycle(SETTINGS, at(11, 20), "UTC") == Period(dt.date(2026, 11, 16), dt.date(2026, 11, 30))
    # An aware instant is read as the instant it is.
    aware = dt.datetime(2026, 11, 16, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 15 Nov 23:30 UTC
    assert cycle_number(SETTINGS, aware, "UTC") == 0


def test_stale_rule():
    entered = at(11, 2, 9)
    assert ReportSettings().stale_rule()(entered) == at(11, 9, 9)  # default 7 days
    assert ReportSettings(stale_after=Duration(2, "days")).stale_rule()(entered) == at(11, 4, 9)
    working = ReportSettings(stale_after=Duration(5, "days", working=True))
    with pytest.raises(ValueError, match="business calendar"):
        working.stale_rule()
    # With a calendar (here a stand-in that skips the weekend of 7-8 Nov) the rule is the calendar's;
    # the calendar works in aware instants, the rule in naive UTC.
    seen = []

    def add_working(start, duration):
        seen.append((start, str(duration)))
        return (start + dt.timedelta(days=duration.amount + 2)).astimezone(dt.timezone(dt.timedelta(hours=1)))

    assert working.stale_rule(add_working)(entered) == at(11, 9, 9)
    assert seen == [(entered.replace(tzinfo=dt.timezone.utc), "5 working days")]
    # No stale_after and a calendar: 5 working days.
    ReportSettings().stale_rule(add_working)(entered)
    assert seen[-1][1] == "5 working days"
