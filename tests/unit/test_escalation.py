"""Escalation timelines with a controlled clock: primary, then backup, then lead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from app.config.settings import load_config
from app.config.durations import Duration
from app.oncall.escalation import EscalationStep, due_steps, next_due_at, step_due_at

LONDON = ZoneInfo("Europe/London")
REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="module")
def oncall():
    # Steps: SET primary after 0m, SET backup after 15m, SET lead after 30m.
    return load_config(REPO_CONFIG).oncall


def paged(steps):
    return [(d.step.rotation, d.paged) for d in steps]


def run_clock(oncall, start, acked_at, ticks):
    """Drive the clock like `escalate` would: remember what was sent, tick by tick."""
    sent: set[int] = set()
    log = []
    for minutes in ticks:
        now = start + timedelta(minutes=minutes)
        for due in due_steps(oncall, start, acked_at, sent, now):
            sent.add(due.step.index)
            log.append((minutes, due.step.rotation, due.paged))
    return log


def test_unacknowledged_page_goes_primary_backup_lead(oncall):
    # Friday 2026-11-20 10:00: weekly k=2 → primary carol, backup dan; lead k=1 → grace.
    start = datetime(2026, 11, 20, 10, tzinfo=LONDON)
    log = run_clock(oncall, start, None, range(0, 61))
    assert log == [
        (0, "SET primary", ("carol",)),
        (15, "SET backup", ("dan",)),
        (30, "SET lead", ("grace",)),
    ]


def test_acknowledgement_stops_the_chain(oncall):
    start = datetime(2026, 11, 20, 10, tzinfo=LONDON)
    log = run_clock(oncall, start, start + timedelta(minutes=20), range(0, 61))
    assert [rotation for _, rotation, _ in log] == ["SET primary", "SET backup"]


def test_acknowledged_before_a_late_run_sends_nothing_more(oncall):
    # The clock was not running; it wakes at +40 after an ack at +5.
    start = datetime(2026, 11, 20, 10, tzinfo=LONDON)
    assert due_steps(oncall, start, start + timedelta(minutes=5), {0}, start + timedelta(minutes=40)) == []


def test_a_late_run_sends_every_due_step_once(oncall):
    start = datetime(2026, 11, 20, 10, tzinfo=LONDON)
    now = start + timedelta(minutes=31)
    first = due_steps(oncall, start, None, set(), now)
    assert [d.step.index for d in first] == [0, 1, 2]
    assert [d.due_at for d in first] == [start, start + timedelta(minutes=15), start + timedelta(minutes=30)]
    # Idempotent: a second run with those recorded sends nothing.
    assert due_steps(oncall, start, None, {d.step.index for d in first}, now) == []


def test_each_step_pages_whoever_holds_the_rotation_when_it_falls_due(oncall):
    # Monday 2026-11-23 08:50, ten minutes before the weekly handoff (k=2 → k=3).
    # Step 0 at 08:50: primary k=2, carol. Step 1 at 09:05: backup k=3, sequence[3] = alice.
    # Step 2 at 09:20: lead k=1 (2026-11-16 – 11-30), grace.
    start = datetime(2026, 11, 23, 8, 50, tzinfo=LONDON)
    got = due_steps(oncall, start, None, set(), start + timedelta(hours=1))
    assert paged(got) == [("SET primary", ("carol",)), ("SET backup", ("alice",)), ("SET lead", ("grace",))]


def test_overrides_apply_to_pages(oncall):
    # 2026-12-22 is in bob's cover of the primary rotation (dan's week).
    start = datetime(2026, 12, 22, 3, tzinfo=LONDON)
    assert paged(due_steps(oncall, start, None, set(), start)) == [("SET primary", ("bob",))]


def test_next_due_at(oncall):
    start = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    assert next_due_at(oncall, start, None, {0}) == start + timedelta(minutes=15)
    assert next_due_at(oncall, start, None, {0, 1, 2}) is None
    assert next_due_at(oncall, start, start, set()) is None


def test_working_time_needs_a_calendar(oncall):
    step = EscalationStep(index=1, rotation="SET backup", after=Duration(1, "hours", working=True))
    start = datetime(2026, 11, 20, 17, 30, tzinfo=LONDON)
    with pytest.raises(ValueError, match="business calendar"):
        step_due_at(step, start)

    # A stand-in calendar: working time resumes at 09:00 next morning.
    def add_working(instant, duration):
        assert duration == step.after
        return datetime(2026, 11, 23, 10, tzinfo=LONDON)

    working = msgspec.structs.replace(oncall, escalation=(oncall.escalation[0], step))
    evening = due_steps(working, start, None, {0}, datetime(2026, 11, 20, 20, tzinfo=LONDON),
                        add_working=add_working)
    assert evening == []
    monday = due_steps(working, start, None, {0}, datetime(2026, 11, 23, 10, tzinfo=LONDON),
                       add_working=add_working)
    # Monday 2026-11-23 10:00 is weekly k=3: backup sequence[3] = alice.
    assert paged(monday) == [("SET backup", ("alice",))]
