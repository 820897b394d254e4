"""Rotation arithmetic against the brief's "Rotation semantics, exactly".

Every expected value below is worked out by hand from the semantics (the
working is in the comments), never copied from the code's output.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.config.settings import load_config
from app.config.durations import Duration
from app.oncall.rotation import (Override, Rotation, covering, next_handoffs, on_duty, seat_holders, shift_index,
                          shift_start, shifts, wall_clock)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc
REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


def rotation(members=("alice", "bob", "carol", "dan"), *, shift=Duration(1, "weeks"), weekday=0,
             at=time(9), start=date(2026, 11, 2), tz="Europe/London", seats=1, order="listed",
             name="R") -> Rotation:
    return Rotation(name=name, members=tuple(members), shift=shift, handoff_weekday=weekday, handoff_time=at,
                    start=start, timezone=tz, seats=seats, order=order)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


# --- shift 0 and the start date -------------------------------------------------------------

def test_shift_zero_is_the_handoff_on_the_start_date_when_it_is_the_handoff_weekday():
    # 2026-11-02 is a Monday; the Monday 09:00 handoff that day is "at or after" the date.
    assert shift_start(rotation(), 0) == london(2026, 11, 2, 9)


def test_shift_zero_is_the_first_handoff_after_a_mid_week_start():
    # Wednesday 2026-11-04: the next Monday is 2026-11-09.
    r = rotation(start=date(2026, 11, 4))
    assert shift_start(r, 0) == london(2026, 11, 9, 9)
    assert on_duty(r, [], london(2026, 11, 9, 9)) == ["alice"]


def test_one_seat_cycles_through_the_listed_members():
    r = rotation()
    # shift k holds sequence[k mod 4]: alice, bob, carol, dan, alice …
    expected = ["alice", "bob", "carol", "dan", "alice"]
    for k, member in enumerate(expected):
        assert on_duty(r, [], london(2026, 11, 2, 9) + timedelta(weeks=k, hours=1)) == [member]


def test_handoff_is_exactly_at_the_handoff_time():
    r = rotation()
    assert on_duty(r, [], london(2026, 11, 9, 8, 59, 59)) == ["alice"]
    assert on_duty(r, [], london(2026, 11, 9, 9)) == ["bob"]


def test_alphabetical_order_sorts_by_handle():
    r = rotation(("erin", "alice", "dan", "bob"), order="alphabetical")
    assert [on_duty(r, [], london(2026, 11, 2, 10) + timedelta(weeks=k))[0] for k in range(4)] == \
        ["alice", "bob", "dan", "erin"]


def test_day_shifts():
    # 3-day shifts from Monday 2026-11-02 09:00: Thursday 05 09:00 bob, Sunday 08 09:00 carol.
    r = rotation(shift=Duration(3, "days"))
    assert shift_start(r, 1) == london(2026, 11, 5, 9)
    assert on_duty(r, [], london(2026, 11, 8, 8)) == ["bob"]
    assert on_duty(r, [], london(2026, 11, 8, 9)) == ["carol"]


# --- negative shifts ------------------------------------------------------------------------

def test_before_start_the_rotation_has_always_been_running():
    r = rotation()
    # 2026-10-30 (Friday) lies in shift -1, from Monday 2026-10-26 09:00 (GMT: clocks went back
    # on 10-25): sequence[-1 mod 4] = dan. Shift -2 (from 10-19 09:00 BST) is carol.
    assert shift_index(r, london(2026, 10, 30, 12)) == -1
    assert shift_start(r, -1) == utc(2026, 10, 26, 9)
    assert shift_start(r, -2) == utc(2026, 10, 19, 8)
    assert on_duty(r, [], london(2026, 10, 30, 12)) == ["dan"]
    assert on_duty(r, [], london(2026, 10, 20, 12)) == ["carol"]
    assert on_duty(r, [], london(2026, 11, 2, 8, 59)) == ["dan"]
    # Five weeks back: shift -5, sequence[-5 mod 4 = 3] = dan again.
    assert on_duty(r, [], london(2026, 9, 30, 12)) == ["dan"]


def test_shift_index_agrees_with_shift_start_far_from_the_start():
    r = rotation()
    for k in (-60, -53, -1, 0, 1, 26, 52, 53):
        begin = shift_start(r, k)
        assert shift_index(r, begin) == k
        assert shift_index(r, begin - timedelta(seconds=1)) == k - 1


# --- daylight saving ------------------------------------------------------------------------

def test_london_monday_handoff_is_0900_local_on_both_sides_of_the_spring_change():
    # Clocks go forward on Sunday 2027-03-28. Monday 03-22 09:00 GMT = 09:00Z;
    # Monday 03-29 09:00 BST = 08:00Z. That week lasts 167 hours.
    r = rotation()
    k = shift_index(r, london(2027, 3, 23, 12))
    assert shift_start(r, k) == utc(2027, 3, 22, 9)
    assert shift_start(r, k + 1) == utc(2027, 3, 29, 8)
    assert shift_start(r, k + 1).astimezone(LONDON).time() == time(9)
    assert on_duty(r, [], utc(2027, 3, 29, 8, 30)) == on_duty(r, [], london(2027, 3, 29, 10))


def test_london_autumn_change():
    # Clocks go back on Sunday 2026-10-25: Monday 10-19 09:00 BST = 08:00Z, 10-26 09:00 GMT = 09:00Z.
    r = rotation()
    assert shift_start(r, -2) == utc(2026, 10, 19, 8)
    assert shift_start(r, -1) == utc(2026, 10, 26, 9)
    # 08:30Z on 10-26 is 08:30 GMT: still before the handoff, so still carol (shift -2).
    assert on_duty(r, [], utc(2026, 10, 26, 8, 30)) == ["carol"]


def test_london_skipped_handoff_happens_when_the_clock_jumps():
    # Daily 01:30 handoff. On 2027-03-28 the clock jumps from 01:00 GMT to 02:00 BST,
    # so 01:30 never shows: the handoff happens at the jump, 01:00Z.
    r = rotation(shift=Duration(1, "days"), weekday=6, at=time(1, 30), start=date(2027, 3, 1))
    k = shift_index(r, london(2027, 3, 27, 12))
    assert shift_start(r, k) == utc(2027, 3, 27, 1, 30)   # 01:30 GMT
    assert shift_start(r, k + 1) == utc(2027, 3, 28, 1)    # the jump
    assert shift_start(r, k + 2) == utc(2027, 3, 29, 0, 30)  # 01:30 BST
    assert wall_clock(date(2027, 3, 28), time(1, 30), LONDON) == utc(2027, 3, 28, 1)


def test_london_repeated_handoff_happens_at_its_first_occurrence():
    # On 2027-10-31 01:00–02:00 happens twice; 01:30 BST (00:30Z) comes first.
    r = rotation(shift=Duration(1, "days"), weekday=6, at=time(1, 30), start=date(2027, 10, 1))
    k = shift_index(r, utc(2027, 10, 31, 0, 30))
    assert shift_start(r, k) == utc(2027, 10, 31, 0, 30)
    before = on_duty(r, [], utc(2027, 10, 31, 0, 29))
    after = on_duty(r, [], utc(2027, 10, 31, 0, 30))
    assert before != after
    # The second 01:15 (GMT, 01:15Z) is after the handoff although its wall clock reads earlier.
    second = datetime(2027, 10, 31, 1, 15, tzinfo=LONDON, fold=1)
    assert second.astimezone(UTC) == utc(2027, 10, 31, 1, 15)
    assert on_duty(r, [], second) == after


def test_new_york_spring_forward():
    # Sunday 2027-03-14: 02:00 EST jumps to 03:00 EDT (07:00Z).
    weekly = dict(weekday=6, tz="America/New_York", start=date(2027, 1, 3))
    skipped = rotation(at=time(2, 30), **weekly)
    k = shift_index(skipped, datetime(2027, 3, 10, tzinfo=NEW_YORK))
    assert shift_start(skipped, k) == utc(2027, 3, 7, 7, 30)       # 02:30 EST
    assert shift_start(skipped, k + 1) == utc(2027, 3, 14, 7)      # the jump, 03:00 EDT
    assert shift_start(skipped, k + 2) == utc(2027, 3, 21, 6, 30)  # 02:30 EDT
    # 01:30 exists on that Sunday (before the jump): 01:30 EST = 06:30Z.
    early = rotation(at=time(1, 30), **weekly)
    assert shift_start(early, shift_index(early, utc(2027, 3, 14, 12))) == utc(2027, 3, 14, 6, 30)
    assert on_duty(early, [], utc(2027, 3, 14, 6, 29)) != on_duty(early, [], utc(2027, 3, 14, 6, 30))


def test_new_york_fall_back():
    # Sunday 2027-11-07: 02:00 EDT falls back to 01:00 EST; the first 01:30 is EDT = 05:30Z.
    r = rotation(weekday=6, at=time(1, 30), tz="America/New_York", start=date(2027, 1, 3))
    k = shift_index(r, utc(2027, 11, 7, 5, 30))
    assert shift_start(r, k) == utc(2027, 11, 7, 5, 30)
    assert shift_start(r, k - 1) == utc(2027, 10, 31, 5, 30)  # 01:30 EDT
    assert shift_start(r, k + 1) == utc(2027, 11, 14, 6, 30)  # 01:30 EST
    # The second 01:30 (06:30Z) is inside shift k, not a second handoff.
    assert shift_index(r, utc(2027, 11, 7, 6, 30)) == k


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        on_duty(rotation(), [], datetime(2026, 11, 2, 9))


# --- seats ----------------------------------------------------------------------------------

def stewards(**kw) -> Rotation:
    # 2i2c: two seats, four-week tenure, one seat changing every two weeks, alphabetical.
    return rotation(("erin", "alice", "dan", "bob"), shift=Duration(2, "weeks"), seats=2,
                    order="alphabetical", **kw)


def test_two_seats_stagger_and_list_the_longest_serving_first():
    r = stewards()
    # sequence = alice, bob, dan, erin; shift k holds sequence[k-1], sequence[k].
    # k=0: erin (joined in shift -1), alice; k=1: alice, bob; k=2: bob, dan; k=3: dan, erin.
    expected = [["erin", "alice"], ["alice", "bob"], ["bob", "dan"], ["dan", "erin"], ["erin", "alice"]]
    for k, members in enumerate(expected):
        assert on_duty(r, [], london(2026, 11, 2, 12) + timedelta(weeks=2 * k)) == members


def test_two_seats_each_member_serves_four_weeks_and_one_seat_changes_per_handoff():
    r = stewards()
    for k in range(-8, 8):
        before, after = set(seat_holders(r, k - 1)), set(seat_holders(r, k))
        assert len(after - before) == 1 and len(before - after) == 1
        # Whoever joins at shift k serves shifts k and k+1: four weeks.
        (joined,) = after - before
        assert joined in seat_holders(r, k + 1) and joined not in seat_holders(r, k + 2)
        assert seat_holders(r, k)[-1] == joined


def test_three_seats():
    r = rotation(("a", "b", "c", "d", "e"), seats=3)
    # shift 0 holds sequence[-2], sequence[-1], sequence[0] = d, e, a; shift 1: e, a, b.
    assert on_duty(r, [], london(2026, 11, 2, 10)) == ["d", "e", "a"]
    assert on_duty(r, [], london(2026, 11, 9, 10)) == ["e", "a", "b"]
    # shift -1: c, d, e
    assert on_duty(r, [], london(2026, 11, 1, 10)) == ["c", "d", "e"]
    handoff, = next_handoffs(r, [], london(2026, 11, 3), 1)
    assert (handoff.at, handoff.incoming, handoff.outgoing) == (london(2026, 11, 9, 9), ("b",), ("d",))


def test_every_member_on_duty_never_hands_off():
    r = rotation(("a", "b"), seats=2)
    assert set(on_duty(r, [], london(2027, 1, 1))) == {"a", "b"}
    assert next_handoffs(r, [], london(2027, 1, 1), 3) == []


# --- overrides ------------------------------------------------------------------------------

def test_override_replaces_one_seat_for_its_window_only():
    r = stewards()
    # shift 3 (2026-12-14 09:00 – 12-28 09:00) holds dan, erin; carol covers dan 12-24 to 12-27.
    cover = Override("R", "carol", "dan", london(2026, 12, 24), london(2026, 12, 27))
    assert on_duty(r, [cover], london(2026, 12, 23, 23, 59)) == ["dan", "erin"]
    assert on_duty(r, [cover], london(2026, 12, 24)) == ["carol", "erin"]
    assert on_duty(r, [cover], london(2026, 12, 26, 23, 59)) == ["carol", "erin"]
    assert on_duty(r, [cover], london(2026, 12, 27)) == ["dan", "erin"]
    assert covering(r, [cover], london(2026, 12, 25)) == [cover]
    assert covering(r, [cover], london(2026, 12, 27)) == []


def test_override_of_someone_off_duty_changes_nothing():
    r = stewards()
    cover = Override("R", "carol", "alice", london(2026, 12, 24), london(2026, 12, 27))
    assert on_duty(r, [cover], london(2026, 12, 25)) == ["dan", "erin"]


def test_override_of_another_rotation_is_ignored():
    r = rotation()
    other = Override("other", "erin", None, london(2026, 11, 3), london(2026, 11, 4))
    assert on_duty(r, [other], london(2026, 11, 3, 12)) == ["alice"]


def test_single_seat_override_without_replaces():
    r = rotation()
    swap = Override("R", "erin", None, london(2026, 11, 3), london(2026, 11, 4))
    assert on_duty(r, [swap], london(2026, 11, 3, 12)) == ["erin"]
    assert on_duty(r, [swap], london(2026, 11, 4, 12)) == ["alice"]


def test_next_handoffs_include_override_edges_and_skip_masked_boundaries():
    r = rotation()
    # bob covers the whole of shifts 1 and 2 (his own, then carol's): the boundary at
    # 11-16 09:00 changes nobody and is no handoff.
    o = Override("R", "bob", None, london(2026, 11, 9, 9), london(2026, 11, 23, 9))
    got = next_handoffs(r, [o], london(2026, 11, 3), 3)
    assert [(h.at, h.incoming, h.outgoing) for h in got] == [
        (london(2026, 11, 9, 9), ("bob",), ("alice",)),
        (london(2026, 11, 23, 9), ("dan",), ("bob",)),
        (london(2026, 11, 30, 9), ("alice",), ("dan",)),
    ]


def test_shifts_split_around_an_override():
    r = stewards()
    cover = Override("R", "carol", "dan", london(2026, 12, 24), london(2026, 12, 27))
    pieces = shifts(r, london(2026, 12, 15), london(2026, 12, 28), [cover])
    # Only shift 3 overlaps the range: erin whole; dan split around carol.
    by_member = sorted((p.member, p.start, p.end) for p in pieces)
    assert by_member == [
        ("carol", london(2026, 12, 24), london(2026, 12, 27)),
        ("dan", london(2026, 12, 14, 9), london(2026, 12, 24)),
        ("dan", london(2026, 12, 27), london(2026, 12, 28, 9)),
        ("erin", london(2026, 12, 14, 9), london(2026, 12, 28, 9)),
    ]
    carol, = [p for p in pieces if p.member == "carol"]
    assert carol.override == cover and carol.replaces == "dan"
    # A range that ends before the cover starts leaves out the pieces after it, but keeps
    # dan's first piece whole (unclipped).
    early = shifts(r, london(2026, 12, 15), london(2026, 12, 16), [cover])
    assert sorted((p.member, p.start, p.end) for p in early) == [by_member[1], by_member[3]]


def test_shifts_agree_with_on_duty():
    r = stewards()
    cover = Override("R", "carol", "dan", london(2026, 12, 24), london(2026, 12, 27))
    start, end = london(2026, 10, 1), london(2027, 4, 30)
    pieces = shifts(r, start, end, [cover])
    for p in pieces:
        middle = p.start + (p.end - p.start) / 2
        assert p.member in on_duty(r, [cover], middle)
        assert shift_index(r, p.start) == p.index
    # Each shift's seats are covered exactly once over its whole length.
    for k in {p.index for p in pieces}:
        total = sum(((p.end - p.start) for p in pieces if p.index == k), timedelta())
        assert total == 2 * (shift_start(r, k + 1) - shift_start(r, k))


# --- the repo's config.yaml -----------------------------------------------------------------

def test_repo_config_rotations_by_hand():
    oncall = load_config(REPO_CONFIG).oncall
    rot = {r.name: r for r in oncall.rotations}

    def duty(name: str, instant: datetime) -> list[str]:
        return on_duty(rot[name], oncall.overrides, instant)

    # Every rotation: shift 0 at Monday 2026-11-02 09:00 London (GMT).
    # Primary [alice, bob, carol, dan] weekly; backup [bob, carol, dan, alice] weekly;
    # lead [frank, grace] fortnightly; stewards alphabetical [alice, bob, dan, erin],
    # two seats, fortnightly: shift k holds seq[k-1], seq[k].
    t = london(2026, 11, 2, 9)
    assert duty("SET primary", t) == ["alice"]
    assert duty("SET backup", t) == ["bob"]
    assert duty("SET lead", t) == ["frank"]
    assert duty("Support stewards", t) == ["erin", "alice"]

    # Friday 2026-11-20 12:00 is 18 days in: weekly k=2, fortnightly k=1.
    t = london(2026, 11, 20, 12)
    assert duty("SET primary", t) == ["carol"]
    assert duty("SET backup", t) == ["dan"]
    assert duty("SET lead", t) == ["grace"]
    assert duty("Support stewards", t) == ["alice", "bob"]

    # Christmas Day 12:00 is 53 days in: weekly k=7 (from 12-21), fortnightly k=3 (from 12-14).
    # Primary would be dan (7 mod 4 = 3) but bob's override covers 12-21 09:00 – 12-28 09:00.
    # Stewards k=3 hold dan, erin; carol covers dan 12-24 00:00 – 12-27 00:00.
    t = london(2026, 12, 25, 12)
    assert duty("SET primary", t) == ["bob"]
    assert duty("SET backup", t) == ["alice"]
    assert duty("SET lead", t) == ["grace"]
    assert duty("Support stewards", t) == ["carol", "erin"]

    # Monday 2027-04-05 is 154 days = 22 weeks in, after the clocks went forward, so its
    # 09:00 BST handoff is 08:00Z. At 08:30 BST it is still shift 21 (bob); at 08:30Z,
    # which is 09:30 BST, it is shift 22 (carol). Stewards: k=11 holds seq[10 mod 4], seq[11 mod 4].
    assert duty("SET primary", datetime(2027, 4, 5, 8, 30, tzinfo=timezone(timedelta(hours=1)))) == ["bob"]
    assert duty("SET primary", utc(2027, 4, 5, 8, 30)) == ["carol"]
    assert duty("Support stewards", utc(2027, 4, 5, 8, 30)) == ["dan", "erin"]
    assert duty("SET lead", utc(2027, 4, 5, 8, 30)) == ["grace"]


def test_repo_config_next_handoffs_by_hand():
    oncall = load_config(REPO_CONFIG).oncall
    rot = {r.name: r for r in oncall.rotations}
    # From Sunday 2026-12-20: stewards change when carol's cover starts and ends, then at
    # the 12-28 handoff (k=4 holds erin, alice: dan leaves, alice joins).
    got = next_handoffs(rot["Support stewards"], oncall.overrides, london(2026, 12, 20), 3)
    assert [(h.at, h.incoming, h.outgoing, h.on_duty) for h in got] == [
        (london(2026, 12, 24), ("carol",), ("dan",), ("carol", "erin")),
        (london(2026, 12, 27), ("dan",), ("carol",), ("dan", "erin")),
        (london(2026, 12, 28, 9), ("alice",), ("dan",), ("erin", "alice")),
    ]
    # Primary: carol (k=6) hands to bob covering dan on 12-21, bob to alice on 12-28.
    got = next_handoffs(rot["SET primary"], oncall.overrides, london(2026, 12, 20), 2)
    assert [(h.at, h.incoming, h.outgoing) for h in got] == [
        (london(2026, 12, 21, 9), ("bob",), ("carol",)),
        (london(2026, 12, 28, 9), ("alice",), ("bob",)),
    ]
