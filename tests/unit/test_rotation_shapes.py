"""Issue #17's rotation shapes as plain functions: hour shifts, a handoff without a weekday,
per-rotation zones and active hours, and an escalation step naming several rotations.

Every expected value is worked out by hand in the comments. London is UTC+0 until
Sun 28 Mar 2027 01:00 UTC, then UTC+1; it returns to UTC+0 on Sun 25 Oct 2026 and
Sun 31 Oct 2027 at 01:00 UTC. New York is UTC-5, and UTC-4 from Sun 14 Mar 2027
07:00 UTC to Sun 7 Nov 2027 06:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from app.config.durations import Duration
from app.oncall.escalation import EscalationStep, due_steps
from app.oncall.rotation import (Override, Rotation, active_at, next_handoffs, on_duty, shift_index, shift_start,
                                 shifts)
from app.oncall.settings import OnCall

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rotation(*, shift=Duration(12, "hours"), at=time(7), weekday=None, start=date(2026, 11, 2),
             tz="Europe/London", members=("a", "b", "c"), active=None, name="R") -> Rotation:
    return Rotation(name=name, members=members, shift=shift, handoff_weekday=weekday, handoff_time=at,
                    start=start, timezone=tz, active_hours=active)


# --- hour shifts ------------------------------------------------------------------------------

def test_twelve_hour_shifts_hand_off_at_the_time_and_twelve_hours_later():
    # Handoffs 07:00 and 19:00 London (GMT in November). Shift 0 = Mon 2 Nov 07:00 (the first
    # handoff at or after 00:00 of the start date); shift 1 = 19:00; shift -1 = Sun 1 Nov 19:00.
    r = rotation()
    assert shift_start(r, 0) == utc(2026, 11, 2, 7)
    assert shift_start(r, 1) == utc(2026, 11, 2, 19)
    assert shift_start(r, -1) == utc(2026, 11, 1, 19)
    assert on_duty(r, (), utc(2026, 11, 2, 3)) == ["c"]   # k=-1 -> seq[-1 mod 3]
    assert on_duty(r, (), utc(2026, 11, 2, 7)) == ["a"]   # k=0
    assert on_duty(r, (), utc(2026, 11, 2, 18, 59)) == ["a"]
    assert on_duty(r, (), utc(2026, 11, 3, 8)) == ["c"]   # k=2


def test_shift_zero_is_the_earliest_handoff_of_the_start_day_not_the_written_time():
    # 8h from 09:30: handoffs 01:30, 09:30, 17:30 every day. Shift 0 = 2 Nov 01:30 (a), 1 = 09:30 (b),
    # 2 = 17:30 (c), 3 = 3 Nov 01:30 (a).
    r = rotation(shift=Duration(8, "hours"), at=time(9, 30))
    assert [shift_start(r, k) for k in range(4)] == [
        utc(2026, 11, 2, 1, 30), utc(2026, 11, 2, 9, 30), utc(2026, 11, 2, 17, 30), utc(2026, 11, 3, 1, 30)]
    assert on_duty(r, (), utc(2026, 11, 2, 10)) == ["b"]
    assert on_duty(r, (), utc(2026, 11, 3, 2)) == ["a"]
    assert shift_index(r, utc(2026, 11, 2, 1, 29)) == -1


def test_hour_handoffs_keep_the_wall_clock_across_both_london_changes():
    # 12h from 07:00: after 28 Mar 2027 the 07:00 handoff is 06:00 UTC; after 31 Oct back to 07:00 UTC.
    # Shift numbers count handoffs: 2 Nov 2026 -> 29 Mar 2027 is 147 days, so 29 Mar 07:00 is k=294.
    r = rotation()
    assert shift_start(r, 294) == utc(2027, 3, 29, 6)
    assert shift_start(r, 295) == utc(2027, 3, 29, 18)
    assert shift_index(r, utc(2027, 3, 29, 5, 59)) == 293
    # The night of the change is an hour short: 27 Mar 19:00 GMT to 28 Mar 07:00 BST is 11 hours.
    assert shift_start(r, 292) - shift_start(r, 291) == utc(2027, 3, 28, 6) - utc(2027, 3, 27, 19)


def test_a_skipped_hour_handoff_happens_at_the_jump_and_its_shift_is_empty():
    # 1h shifts from 00:00, start 28 Mar 2027 (a..d cycling). 01:00 London is skipped: that handoff
    # happens at the jump, 01:00 UTC, the same instant as the 02:00 BST one. Shift 1 (01:00, b) is empty.
    r = rotation(shift=Duration(1, "hours"), at=time(0), start=date(2027, 3, 28), members=("a", "b", "c", "d"))
    assert shift_start(r, 1) == shift_start(r, 2) == utc(2027, 3, 28, 1)
    assert on_duty(r, (), utc(2027, 3, 28, 0, 59)) == ["a"]
    assert on_duty(r, (), utc(2027, 3, 28, 1)) == ["c"]   # k=2: b never holds the empty shift
    pieces = shifts(r, utc(2027, 3, 28, 0), utc(2027, 3, 28, 3))
    assert [(p.member, p.start.hour, p.end.hour) for p in pieces] == [("a", 0, 1), ("c", 1, 2), ("d", 2, 3)]


def test_a_repeated_hour_handoff_happens_at_its_first_occurrence():
    # 1h shifts from 00:00, start 25 Oct 2026: 01:00 occurs twice (00:00 and 01:00 UTC); its handoff
    # is the first. The 02:00 GMT handoff is 02:00 UTC, so shift 1 (b) lasts two hours.
    r = rotation(shift=Duration(1, "hours"), at=time(0), start=date(2026, 10, 25), members=("a", "b", "c", "d"))
    assert shift_start(r, 0) == utc(2026, 10, 24, 23)    # 00:00 BST
    assert shift_start(r, 1) == utc(2026, 10, 25, 0)
    assert shift_start(r, 2) == utc(2026, 10, 25, 2)
    assert on_duty(r, (), utc(2026, 10, 25, 1, 30)) == ["b"]


def test_a_day_shift_without_a_weekday_hands_off_daily_from_the_start_date():
    # Start Wed 4 Nov; 1d at 09:00: shift 0 is Wed 4 Nov 09:00, not the Monday after.
    r = rotation(shift=Duration(1, "days"), at=time(9), start=date(2026, 11, 4))
    assert shift_start(r, 0) == utc(2026, 11, 4, 9)
    assert on_duty(r, (), utc(2026, 11, 6, 10)) == ["c"]   # k=2


def test_an_hour_shift_with_a_weekday_or_a_shift_not_dividing_a_day_is_refused():
    with pytest.raises(ValueError):
        rotation(weekday=0)
    with pytest.raises(ValueError):
        rotation(shift=Duration(5, "hours"))


# --- zones and active hours ---------------------------------------------------------------------

def test_a_rotation_reads_its_handoffs_in_its_own_zone():
    # 1d at 07:00 New York (EST in November): shift 0 = 2 Nov 12:00 UTC.
    r = rotation(shift=Duration(1, "days"), tz="America/New_York")
    assert shift_start(r, 0) == utc(2026, 11, 2, 12)
    assert on_duty(r, (), utc(2026, 11, 2, 11, 59)) == ["c"]


def test_outside_active_hours_nobody_holds_the_rotation_even_an_override():
    r = rotation(shift=Duration(1, "weeks"), weekday=0, active=(time(7), time(19)))
    cover = Override("R", "z", None, utc(2026, 11, 2, 0), utc(2026, 11, 9, 0))
    assert on_duty(r, (), utc(2026, 11, 3, 6, 59)) == []
    assert on_duty(r, (), utc(2026, 11, 3, 7)) == ["a"]
    assert on_duty(r, (), utc(2026, 11, 3, 19)) == []
    assert on_duty(r, [cover], utc(2026, 11, 3, 20)) == []
    assert on_duty(r, [cover], utc(2026, 11, 3, 12)) == ["z"]


def test_active_hours_may_wrap_past_midnight():
    # 22:00-06:00 London (GMT): active from 22:00 one night to 06:00 the next morning.
    r = rotation(shift=Duration(1, "days"), active=(time(22), time(6)))
    assert active_at(r, utc(2026, 11, 2, 22))
    assert active_at(r, utc(2026, 11, 3, 5, 59))
    assert not active_at(r, utc(2026, 11, 3, 6))
    assert not active_at(r, utc(2026, 11, 3, 12))
    # 1d at 07:00: shift 0 (a) runs to 3 Nov 07:00, so the night's window is a's, then b's the next night.
    assert on_duty(r, (), utc(2026, 11, 3, 2)) == ["a"]
    assert on_duty(r, (), utc(2026, 11, 3, 23)) == ["b"]


def test_calendar_pieces_are_clipped_to_the_active_hours_and_handoffs_include_their_edges():
    # A week shift active 07:00-19:00: seven pieces, one per day, each 07:00-19:00 UTC in November.
    r = rotation(shift=Duration(1, "weeks"), weekday=0, at=time(9), active=(time(7), time(19)))
    pieces = [p for p in shifts(r, utc(2026, 11, 2, 9), utc(2026, 11, 9, 9)) if p.index == 0]
    assert [(p.start, p.end) for p in pieces] == [
        (utc(2026, 11, 2, 9), utc(2026, 11, 2, 19))] + [
        (utc(2026, 11, d, 7), utc(2026, 11, d, 19)) for d in range(3, 9)] + [
        (utc(2026, 11, 9, 7), utc(2026, 11, 9, 9))]
    upcoming = next_handoffs(r, (), utc(2026, 11, 2, 12), 3)
    assert [(h.at, h.incoming, h.outgoing) for h in upcoming] == [
        (utc(2026, 11, 2, 19), (), ("a",)), (utc(2026, 11, 3, 7), ("a",), ()), (utc(2026, 11, 3, 19), (), ("a",))]


# --- follow the sun -----------------------------------------------------------------------------

EU = rotation(name="EU primary", shift=Duration(1, "days"), start=date(2027, 3, 1), members=("alice", "bob"),
              active=(time(7), time(19)))
US = rotation(name="US primary", shift=Duration(1, "days"), start=date(2027, 3, 1), members=("carol", "dan"),
              tz="America/New_York", active=(time(7), time(19)))
SUN = OnCall(rotations=(EU, US), escalation=(
    EscalationStep(index=0, rotation="EU primary + US primary", after=Duration(0, "minutes"),
                   rotations=("EU primary", "US primary")),))


@pytest.mark.parametrize(("at", "paged"), [
    # Both 1d at 07:00 from Mon 1 Mar 2027; day k = date - 1 Mar; even k: alice / carol, odd: bob / dan.
    # Wed 10 Mar (k=9), London GMT, New York EST: EU 07-19 UTC, US 12-24 UTC.
    (utc(2027, 3, 10, 6, 59), ()),
    (utc(2027, 3, 10, 7), ("bob",)),
    (utc(2027, 3, 10, 12), ("bob", "dan")),
    (utc(2027, 3, 10, 20), ("dan",)),
    # Sun 14 Mar (k=13): New York springs forward at 07:00 UTC; 07:00 EDT is 11:00 UTC.
    (utc(2027, 3, 14, 11, 30), ("bob", "dan")),
    # Mon 15 Mar (k=14), New York EDT: US 11-23 UTC, so 11:30 UTC pages carol (a week earlier it was 06:30 there).
    (utc(2027, 3, 15, 11, 30), ("alice", "carol")),
    (utc(2027, 3, 15, 23, 30), ()),
    (utc(2027, 3, 20, 6, 30), ()),          # London still GMT: 06:30 there
    # Mon 29 Mar (k=28), London BST: EU 06-18 UTC.
    (utc(2027, 3, 29, 6, 30), ("alice",)),
    (utc(2027, 3, 29, 18, 30), ("carol",)),
    # Mon 1 Nov (k=245): London back on GMT, New York still EDT.
    (utc(2027, 11, 1, 7, 30), ("bob",)),
    (utc(2027, 11, 1, 11, 30), ("bob", "dan")),
    # Mon 8 Nov (k=252): New York back on EST: 11:30 UTC is 06:30 there.
    (utc(2027, 11, 8, 11, 30), ("alice",)),
    (utc(2027, 11, 8, 12, 30), ("alice", "carol")),
    (utc(2027, 11, 8, 23, 30), ("carol",)),
])
def test_follow_the_sun_step_pages_whoever_is_on_duty_in_either_zone(at, paged):
    due = due_steps(SUN, at, None, set(), at)
    assert [d.paged for d in due] == [paged]
