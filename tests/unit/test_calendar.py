"""Business-calendar arithmetic; every expected value is worked out by hand in the comment beside it."""

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.sla.calendar import BusinessCalendar, parse_working_hours
from app.config.durations import parse_duration

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc
NINE_TO_FIVE = ((9 * 60, 17 * 60),)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def england() -> BusinessCalendar:
    return BusinessCalendar(LONDON, country="GB", subdivision="ENG")


def test_working_hours_run_out_at_the_end_of_a_window(england):
    # Fri 15 May 2026 16:00 + 1h: 16:00-17:00 is the last working hour of the day.
    assert england.add_working(london(2026, 5, 15, 16), parse_duration("1 working hour")) == london(2026, 5, 15, 17)


def test_a_weekend_is_skipped(england):
    # Fri 15 May 16:00 + 2h: one hour on Friday (to 17:00), Sat/Sun off, one hour from Mon 18 May 09:00.
    assert england.add_working(london(2026, 5, 15, 16), parse_duration("2 working hours")) == london(2026, 5, 18, 10)
    # Sat 16 May 12:00 is outside working time: the clock starts Monday 09:00, +3h = 12:00.
    assert england.add_working(london(2026, 5, 16, 12), parse_duration("3 working hours")) == london(2026, 5, 18, 12)


def test_friday_before_a_bank_holiday_monday_is_due_tuesday_at_the_same_hour(england):
    # 1 working day = 8h. Fri 22 May 2026 15:00: 2h to 17:00; Sat, Sun off; Mon 25 May is the
    # Spring Bank Holiday; Tue 26 May 09:00 + the remaining 6h = 15:00.
    due = england.add_working(london(2026, 5, 22, 15), parse_duration("1 working day"))
    assert due == london(2026, 5, 26, 15)
    assert england.working_time_between(london(2026, 5, 22, 15), due) == timedelta(hours=8)


def test_us_holidays():
    us = BusinessCalendar(NEW_YORK, country="US")
    # Fri 3 Jul 2026 is Independence Day (observed: the 4th is a Saturday).
    # Thu 2 Jul 16:00 + 2h: 1h to 17:00; Fri, Sat, Sun off; Mon 6 Jul 09:00 + 1h = 10:00 EDT.
    assert us.add_working(datetime(2026, 7, 2, 16, tzinfo=NEW_YORK),
                          parse_duration("2 working hours")) == datetime(2026, 7, 6, 10, tzinfo=NEW_YORK)
    # Thanksgiving, Thu 26 Nov 2026: Wed 25 Nov 09:00 to Fri 27 Nov 17:00 holds 8h + 0 + 8h = 16h.
    assert us.working_time_between(datetime(2026, 11, 25, 9, tzinfo=NEW_YORK),
                                   datetime(2026, 11, 27, 17, tzinfo=NEW_YORK)) == timedelta(hours=16)
    # The same dates are ordinary working days in England.
    assert BusinessCalendar(LONDON, country="GB", subdivision="ENG").is_working(london(2026, 11, 26, 12))
    assert not us.is_working(datetime(2026, 11, 26, 12, tzinfo=NEW_YORK))


def test_a_split_working_day():
    split = BusinessCalendar(LONDON, hours=parse_working_hours("09:00-12:30, 13:30-17:30"))
    # A day holds 3h30 + 4h = 7h30 of working time.
    assert split.day_length == timedelta(hours=7, minutes=30)
    # Mon 1 Jun 2026 11:00 + 2h: 11:00-12:30 is 1h30, then 13:30 + 30m = 14:00.
    assert split.add_working(london(2026, 6, 1, 11), parse_duration("2 working hours")) == london(2026, 6, 1, 14)
    # Mon 11:00 + 1 working day (7h30): 1h30 before lunch + 4h after = 5h30 on Monday,
    # the remaining 2h from Tue 09:00 = Tue 11:00, the same hour on the next working day.
    assert split.add_working(london(2026, 6, 1, 11), parse_duration("1 working day")) == london(2026, 6, 2, 11)
    # 12:00 to 14:00 spans lunch: 30m + 30m.
    assert split.working_time_between(london(2026, 6, 1, 12), london(2026, 6, 1, 14)) == timedelta(hours=1)
    assert split.is_working(london(2026, 6, 1, 12, 29))
    assert not split.is_working(london(2026, 6, 1, 12, 30))   # windows end exclusive
    assert not split.is_working(london(2026, 6, 1, 13))
    assert split.is_working(london(2026, 6, 1, 13, 30))


def test_hours_stay_wall_clock_across_the_march_change(england):
    # Clocks go forward on Sun 29 Mar 2026. Fri 27 Mar 16:00 GMT (16:00 UTC) + 2h: 1h on Friday,
    # then Mon 30 Mar 09:00 BST + 1h = 10:00 BST = 09:00 UTC.
    due = england.add_working(london(2026, 3, 27, 16), parse_duration("2 working hours"))
    assert due == datetime(2026, 3, 30, 9, tzinfo=UTC)
    assert due.astimezone(LONDON).hour == 10
    # Fri 27 Mar 09:00 GMT to Mon 30 Mar 17:00 BST: two full days, 16h.
    assert england.working_time_between(london(2026, 3, 27, 9), london(2026, 3, 30, 17)) == timedelta(hours=16)


def test_hours_stay_wall_clock_across_the_october_change(england):
    # Clocks go back on Sun 25 Oct 2026. Fri 23 Oct 16:00 BST (15:00 UTC) + 1 working day (8h):
    # 1h on Friday, Mon 26 Oct 09:00 GMT + 7h = 16:00 GMT = 16:00 UTC: the same wall-clock hour,
    # 3 days and 1 hour of elapsed time later.
    start = london(2026, 10, 23, 16)
    due = england.add_working(start, parse_duration("1 working day"))
    assert due == datetime(2026, 10, 26, 16, tzinfo=UTC)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=3, hours=1)


def test_round_the_clock_days_have_23_and_25_hours():
    always = BusinessCalendar(LONDON, working_days=frozenset(range(7)), hours=parse_working_hours("00:00-24:00"))
    # Sat 28 Mar 00:00 to Mon 30 Mar 00:00: 24h on Saturday + 23h on the short Sunday.
    assert always.working_time_between(london(2026, 3, 28), london(2026, 3, 30)) == timedelta(hours=47)
    # Within the short Sunday, midnight to noon local is 11h of elapsed (working) time.
    assert always.working_time_between(london(2026, 3, 29), london(2026, 3, 29, 12)) == timedelta(hours=11)
    # Sat 24 Oct 00:00 to Mon 26 Oct 00:00: 24h + 25h on the long Sunday.
    assert always.working_time_between(london(2026, 10, 24), london(2026, 10, 26)) == timedelta(hours=49)


def test_a_window_in_the_skipped_hour_starts_at_the_jump():
    night = BusinessCalendar(LONDON, working_days=frozenset(range(7)), hours=parse_working_hours("01:30-02:30"))
    # On 29 Mar 2026 the clock jumps from 01:00 GMT to 02:00 BST (01:00 UTC); 01:30 does not exist,
    # so the window runs from the jump (01:00 UTC) to 02:30 BST (01:30 UTC): 30 minutes.
    assert night.windows(date(2026, 3, 29)) == ((datetime(2026, 3, 29, 1, tzinfo=UTC),
                                                datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),)
    # On 25 Oct 2026 01:30 occurs twice; the first (BST, 00:30 UTC) counts, to 02:30 GMT (02:30 UTC): 2h.
    assert night.windows(date(2026, 10, 25)) == ((datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                                                 datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),)


def test_a_year_end_with_bank_holidays_and_a_listed_date():
    calendar = BusinessCalendar(LONDON, country="GB", subdivision="ENG", extra_dates=frozenset({date(2026, 12, 29)}))
    # Wed 23 Dec 2026 15:00 + 4 working days (32h):
    #   Wed 23: 2h (2)   Thu 24: 8h (10)   Fri 25 Christmas, Sat, Sun off   Mon 28 Boxing Day (observed)
    #   Tue 29: listed date   Wed 30: 8h (18)   Thu 31: 8h (26)   Fri 1 Jan 2027 New Year's Day, Sat, Sun
    #   Mon 4 Jan 2027: 09:00 + the remaining 6h = 15:00.
    start = london(2026, 12, 23, 15)
    assert calendar.add_working(start, parse_duration("4 working days")) == london(2027, 1, 4, 15)
    assert calendar.working_time_between(start, london(2027, 1, 4, 15)) == timedelta(hours=32)
    assert not calendar.is_working(london(2026, 12, 29, 10))
    assert not calendar.is_working(london(2027, 1, 1, 10))


def test_working_time_between_is_signed_and_ignores_time_off(england):
    # Fri 15 May 16:00 to Mon 18 May 10:00: 1h + 1h.
    assert england.working_time_between(london(2026, 5, 15, 16), london(2026, 5, 18, 10)) == timedelta(hours=2)
    assert england.working_time_between(london(2026, 5, 18, 10), london(2026, 5, 15, 16)) == -timedelta(hours=2)
    # Entirely inside a weekend: nothing.
    assert england.working_time_between(london(2026, 5, 16, 8), london(2026, 5, 17, 20)) == timedelta(0)


def test_wall_clock_durations_are_elapsed_time(england):
    # Sat 16 May 10:00 + 2h (wall-clock) is Sat 12:00, weekend or not.
    assert england.add_working(london(2026, 5, 16, 10), parse_duration("2h")) == london(2026, 5, 16, 12)


def test_naive_instants_are_refused(england):
    with pytest.raises(ValueError, match="aware"):
        england.is_working(datetime(2026, 5, 18, 10))


def test_a_long_span_is_computed_day_by_day_not_minute_by_minute(england):
    # 2026 starts on a Thursday: 52 weeks + 1 day = 261 weekdays, less the 8 bank holidays that fall
    # on weekdays (1 Jan, 3 Apr, 6 Apr, 4 May, 25 May, 31 Aug, 25 Dec, 28 Dec) = 253 working days.
    import time
    begun = time.perf_counter()
    due = england.add_working_time(london(2026, 1, 1, 9), 253 * england.day_length)
    assert time.perf_counter() - begun < 0.5
    # 1 Jan is a holiday, so 253 full days from 2 Jan 09:00 use every working day of 2026 (ending
    # Thu 31 Dec 17:00).
    assert due == london(2026, 12, 31, 17)


@pytest.mark.parametrize("text, message", [
    ("9-5", "HH:MM-HH:MM"),
    ("17:00-09:00", "ends before it starts"),
    ("09:00-12:00, 11:00-17:00", "overlap"),
    ("09:00-25:00", "not a valid time range"),
])
def test_bad_working_hours(text, message):
    with pytest.raises(ValueError, match=message):
        parse_working_hours(text)


def test_touching_ranges_merge():
    assert parse_working_hours("13:00-17:00, 09:00-13:00") == ((9 * 60, 17 * 60),)


def test_working_time_between_by_running_totals_matches_a_walk_over_every_day():
    # Split hours, English holidays, both clock changes of 2026 and a year end, asked in a scattered order.
    calendar = BusinessCalendar(ZoneInfo("Europe/London"), hours=parse_working_hours("09:00-12:30, 13:30-17:30"),
                                country="GB", subdivision="ENG", extra_dates=frozenset({date(2026, 12, 29)}))

    def walk(a: datetime, b: datetime) -> timedelta:
        total, day = timedelta(0), a.astimezone(calendar.tz).date()
        while day <= b.astimezone(calendar.tz).date():
            for start, end in calendar.windows(day):
                total += max(timedelta(0), min(end, b) - max(start, a))
            day += timedelta(days=1)
        return total

    rng = random.Random(6)
    origin = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for _ in range(300):
        a = origin + timedelta(minutes=rng.randrange(0, 400 * 24 * 60))
        b = a + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        assert calendar.working_time_between(a, b) == walk(a, b)
        assert calendar.working_time_between(b, a) == -walk(a, b)
