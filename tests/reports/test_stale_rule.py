"""is_stale and stale_cutoff: the board's mark and its filter agree with the report's rule."""

from __future__ import annotations

import datetime as dt

from app.board.stale import is_stale, stale_cutoff, stale_rule


def test_five_working_days_skip_the_weekend(report_config):
    rule = stale_rule(report_config)
    entered = dt.datetime(2026, 11, 12, 10, 0)  # Thu 10:00 London (GMT)
    # Thu 7 h + Fri 8 + Mon 8 + Tue 8 + Wed 8 = 39 h; the 40th working hour ends Thu 19 Nov 10:00.
    assert not is_stale(entered, dt.datetime(2026, 11, 19, 10, 0), rule)
    assert is_stale(entered, dt.datetime(2026, 11, 19, 10, 1), rule)


def test_cutoff_is_the_boundary_of_the_rule(report_config):
    rule = stale_rule(report_config)
    now = dt.datetime(2026, 11, 23, 9, 30)  # Mon 09:30: half an hour of working time today
    cutoff = stale_cutoff(now, rule)
    # Back 40 working hours from Mon 09:30: Mon 0.5 h, Fri..Tue 4 x 8 h = 32.5 h, then 7.5 h of Mon 16 Nov: 09:30.
    assert abs(cutoff - dt.datetime(2026, 11, 16, 9, 30)) <= dt.timedelta(seconds=1)
    for entered in (cutoff - dt.timedelta(minutes=5), cutoff + dt.timedelta(minutes=5)):
        assert is_stale(entered, now, rule) == (entered < cutoff)


def test_seven_calendar_days_without_a_calendar(report_config):
    rule = report_config.report.__class__().stale_rule()
    now = dt.datetime(2026, 11, 23, 12, 0)
    assert abs(stale_cutoff(now, rule) - dt.datetime(2026, 11, 16, 12, 0)) <= dt.timedelta(seconds=1)
