"""Bulk import's due instants (`fresh_due_columns`, `WorkingTimeIndex`) against the one-ticket rules.

An import stores each fresh ticket's (sla_warn_at, sla_due_at) from a batch
path; `row_due` is what `ticket show`, `sla check` and every later write
compute for the same ticket. Random tickets over calendars with clock changes
inside and at the edges of the working hours, split hours, holidays, wall-clock
and working targets, mixed kinds, a priority without its own targets and the
final column must get exactly the same instants, to the microsecond.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from app.config.durations import parse_duration
from app.sla.calendar import BusinessCalendar, WorkingTimeIndex, from_us, parse_working_hours, to_us
from app.sla.due import fresh_due_columns, matches
from app.sla.labels import FILTERS
from app.sla.settings import SlaPolicy, Targets
from app.sla.source import row_due, ticket_times
from app.sla.targets import evaluate
from data.sla_inputs import SlaRow

US = dt.timedelta(microseconds=1)


def _targets(first: str, update: str) -> Targets:
    return Targets(first_response=parse_duration(first), update_every=parse_duration(update))


def _policy(zone: str, hours: str, country: str | None, subdivision: str | None, defaults: Targets,
            priorities: dict[int, Targets], warn_at: float, days=range(5)) -> SlaPolicy:
    calendar = BusinessCalendar(ZoneInfo(zone), working_days=frozenset(days), hours=parse_working_hours(hours),
                                country=country, subdivision=subdivision,
                                extra_dates=frozenset({dt.date(2026, 12, 29), dt.date(2027, 3, 30)}))
    return SlaPolicy(calendar=calendar, targets=defaults, warn_at=warn_at, priorities=priorities)


POLICIES = {
    # The repo's: London, one working day and two; P1 in working hours.
    "london": lambda: _policy("Europe/London", "09:00-17:00", "GB", "ENG", _targets("1 working day", "2 working days"),
                              {1: _targets("1 working hour", "4 working hours")}, 0.25),
    # Split hours in New York; wall-clock and working targets mixed, update_every shorter for P2 and P3.
    "new_york_mixed": lambda: _policy(
        "America/New_York", "09:00-12:30, 13:30-17:30", "US", None, _targets("4h", "1 working day"),
        {1: _targets("1 working hour", "2h"), 2: _targets("2 working hours", "30m"), 3: _targets("4h", "2h")},
        1 / 3, days=range(6)),
    # Hours across the clock changes (London changes at 01:00 UTC, New York at 02:00 local).
    "night_london": lambda: _policy("Europe/London", "00:00-02:30, 22:00-24:00", None, None,
                                    _targets("3 working hours", "1 working day"),
                                    {2: _targets("1 working day", "90m"), 4: _targets("45m", "1d")}, 0.0,
                                    days=(0, 2, 4, 5, 6)),
    "night_new_york": lambda: _policy("America/New_York", "01:00-03:30, 12:00-13:00", "US", "NY",
                                      _targets("2 working days", "1 working hour"),
                                      {3: _targets("7 working hours", "7 working hours")}, 0.1),
}

DST = {"Europe/London": ("2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"),
       "America/New_York": ("2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07")}
HOLIDAYS = ("2026-12-25", "2026-12-26", "2026-12-28", "2026-12-29", "2027-01-01", "2026-07-03", "2026-11-26",
            "2027-03-30", "2026-05-25")


def _instant(rng: random.Random, policy: SlaPolicy) -> dt.datetime:
    """A naive-UTC instant, often where the calendar's edges are."""
    calendar = policy.calendar
    pick = rng.random()
    if pick < 0.3:
        return dt.datetime(2026, 1, 1) + dt.timedelta(microseconds=rng.randrange(2 * 365 * 24 * 3600 * 10 ** 6))
    if pick < 0.55:
        day = dt.date.fromisoformat(rng.choice(DST[calendar.tz.key]))
    elif pick < 0.75:
        day = dt.date.fromisoformat(rng.choice(HOLIDAYS))
    else:
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(730))
    day += dt.timedelta(days=rng.choice((-1, 0, 0, 0, 1)))
    start, end = rng.choice(calendar.hours)
    minutes = rng.choice((start, end, rng.randint(0, 24 * 60 - 1), 0, start + 1))
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    base = local.replace(tzinfo=calendar.tz).astimezone(dt.timezone.utc).replace(tzinfo=None)
    return base + rng.choice((dt.timedelta(0), dt.timedelta(0), US, -US, dt.timedelta(seconds=rng.randint(-5, 5)),
                              dt.timedelta(microseconds=rng.randrange(10 ** 6))))


def _ticket(rng: random.Random, policy: SlaPolicy, states: tuple[str, ...]):
    created = _instant(rng, policy)
    answered = rng.random()
    if answered < 0.45:
        first_response = None
    elif answered < 0.55:
        first_response = created
    elif answered < 0.6:
        first_response = created - dt.timedelta(minutes=rng.randint(1, 600))  # an import's odd history
    elif answered < 0.8:
        first_response = created + dt.timedelta(microseconds=rng.randrange(3 * 24 * 3600 * 10 ** 6))
    else:
        first_response = _instant(rng, policy)
    return created, rng.choice(states), rng.choice((None, 1, 2, 3, 4)), first_response


def _now(rng: random.Random, created: dt.datetime) -> dt.datetime:
    return created + rng.choice((dt.timedelta(0), -dt.timedelta(days=rng.randint(1, 30)),
                                 dt.timedelta(microseconds=rng.randrange(10 ** 12)),
                                 dt.timedelta(days=rng.randint(300, 900)), dt.timedelta(minutes=rng.randint(1, 300))))


def _expected(config, ticket, now):
    created, state, priority, first_response = ticket
    row = SlaRow(id=1, key="SET-1", title="t", assignee=None, state=state, created=created, priority=priority,
                 first_response=first_response, moves=((created, state, None),))
    return row_due(config, row, now)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_batch_stores_what_each_ticket_would(config, name):
    rng = random.Random(name)
    policy = POLICIES[name]()
    configured = dataclasses.replace(config, sla=policy)
    states = (*config.workflow.keys, config.workflow.final)
    tickets = [_ticket(rng, policy, states) for _ in range(1500)]
    now = _now(rng, tickets[0][0])
    assert fresh_due_columns(policy, config.workflow, tickets, now) == [_expected(configured, t, now) for t in tickets]
    # Small batches, each with its own `now` (before, at and long after creation): a fresh index each time.
    for _ in range(150):
        batch = [_ticket(rng, policy, states) for _ in range(rng.randint(1, 4))]
        now = _now(rng, batch[0][0])
        assert fresh_due_columns(policy, config.workflow, batch, now) == [_expected(configured, t, now) for t in batch]


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_the_stored_pair_says_what_the_card_does_until_the_next_write(config, name):
    # Mixed clocks both ways round, night hours over the clock changes: the filters on the stored pair
    # against the card's state, from creation to well past both targets' due instants.
    rng = random.Random(f"card {name}")
    policy = POLICIES[name]()
    configured = dataclasses.replace(config, sla=policy)
    open_states = tuple(k for k in config.workflow.keys if k != config.workflow.final)
    tickets = [_ticket(rng, policy, open_states) for _ in range(300)]
    for ticket, (warn, due) in zip(tickets, fresh_due_columns(policy, config.workflow, tickets)):
        created, state, priority, first_response = ticket
        row = SlaRow(id=1, key="SET-1", title="t", assignee=None, state=state, created=created, priority=priority,
                     first_response=first_response, moves=((created, state, None),))
        times = ticket_times(config.workflow, row)
        start = max(created, first_response or created)
        dues = [t.due.astimezone(dt.timezone.utc).replace(tzinfo=None)
                for t in evaluate(policy, times, start.replace(tzinfo=dt.timezone.utc)).targets]
        last = max(start, *dues) + dt.timedelta(days=3)
        instants = [start + (last - start) * rng.random() for _ in range(8)]
        instants += [edge + step for edge in (warn, due, *dues) for step in (-US, dt.timedelta(0), US)]
        for at in (t for t in instants if t >= start):
            shown = evaluate(policy, times, at.replace(tzinfo=dt.timezone.utc)).next.state
            for which, states in FILTERS.items():
                assert matches(which, warn, due, at) == (shown in states), (ticket, which, at, shown)
        assert (warn, due) == row_due(configured, row)


def test_mixed_clocks_store_the_earlier_instants_of_both_targets(config):
    # New York P1: first response in 1 working hour, updates every 2 hours of wall clock. Created Friday
    # 17:30 local (the day's end; Saturday is a working day), unanswered. At once the first response has
    # less left, but the evening uses the wall clock and not the working one: the update warns at 18:50
    # and is breached after 19:30, long before the first response (Saturday 09:40 and 10:00).
    policy = POLICIES["new_york_mixed"]()
    configured = dataclasses.replace(config, sla=policy)
    created = dt.datetime(2026, 12, 4, 22, 30)
    ticket = (created, "todo", 1, None)
    stored = (dt.datetime(2026, 12, 4, 23, 50), dt.datetime(2026, 12, 5, 0, 30))
    for now in (created, created + dt.timedelta(minutes=60), created + dt.timedelta(minutes=90)):
        assert fresh_due_columns(policy, config.workflow, [ticket], now) == [stored]
        assert _expected(configured, ticket, now) == stored
    row = SlaRow(id=1, key="SET-1", title="t", assignee=None, state="todo", created=created, priority=1,
                 first_response=None, moves=((created, "todo", None),))
    times = ticket_times(config.workflow, row)
    at = lambda minutes: (created + dt.timedelta(minutes=minutes)).replace(tzinfo=dt.timezone.utc)  # noqa: E731
    assert evaluate(policy, times, at(30)).next.name == "first_response"  # 60m left against 90m
    assert [evaluate(policy, times, at(m)).next.state for m in (79, 80, 120, 121)] == \
        ["ok", "warning", "warning", "breached"]
    assert evaluate(policy, times, at(121)).next.name == "update_every"


def test_without_a_policy_or_in_the_final_column_nothing_is_due(config):
    created = dt.datetime(2026, 12, 14, 9, 0)
    tickets = [(created, "todo", 2, None), (created, config.workflow.final, 1, None)]
    assert fresh_due_columns(None, config.workflow, tickets, created) == [(None, None), (None, None)]
    assert fresh_due_columns(config.sla, config.workflow, tickets, created)[1] == (None, None)


def test_dates_decades_apart_go_ticket_by_ticket(config):
    # Laying out every working window between them would cost more than the walk.
    tickets = [(dt.datetime(1990, 6, 1, 10, 0), "todo", None, None), (dt.datetime(2030, 6, 3, 10, 0), "todo", 1, None),
               (dt.datetime(2026, 6, 1, 10, 0), "todo", 2, dt.datetime(2090, 1, 1))]  # a typo answers in 2090
    now = dt.datetime(2026, 12, 14, 9, 0)
    assert fresh_due_columns(config.sla, config.workflow, tickets, now) == [_expected(config, t, now) for t in tickets]


def test_the_index_is_the_calendars_arithmetic():
    rng = random.Random(16)
    policy = POLICIES["night_london"]()
    calendar = policy.calendar
    index = WorkingTimeIndex(calendar, dt.date(2026, 3, 20), dt.date(2026, 3, 25))  # grows past its end
    for _ in range(2000):
        a = _instant(rng, policy)
        if a.date() < dt.date(2026, 3, 22):
            continue
        b = a + dt.timedelta(microseconds=rng.randrange(10 ** 11))
        aware_a, aware_b = a.replace(tzinfo=dt.timezone.utc), b.replace(tzinfo=dt.timezone.utc)
        assert index.between(to_us(a), to_us(b)) == calendar.working_time_between(aware_a, aware_b) // US
        amount = rng.choice((0, 1, rng.randrange(10 ** 11), index.between(to_us(a), to_us(b))))
        expected = calendar.add_working_time(aware_a, dt.timedelta(microseconds=amount))
        assert from_us(index.advance(to_us(a), amount)) == expected.astimezone(dt.timezone.utc).replace(tzinfo=None)
    with pytest.raises(ValueError):
        index.working_before(to_us(dt.datetime(2026, 3, 1)))


def test_the_warning_instant_in_the_hour_the_clock_goes_back(config):
    # New York P3 updates every 2 hours of wall clock. Answered at 00:00 EDT on 1 November: due at 01:00 EST
    # (06:00 UTC), warned a third before, at 01:20 EDT (05:20 UTC) — on the wall clock, after 01:00.
    policy = POLICIES["new_york_mixed"]()
    created = dt.datetime(2026, 11, 1, 3, 40)
    answered = dt.datetime(2026, 11, 1, 4, 0)
    row = SlaRow(id=1, key="SET-1", title="t", assignee=None, state="todo", created=created, priority=3,
                 first_response=answered, moves=((created, "todo", None),))
    configured = dataclasses.replace(config, sla=policy)
    stored = (dt.datetime(2026, 11, 1, 5, 20), dt.datetime(2026, 11, 1, 6, 0))
    assert row_due(configured, row, answered) == stored
    assert fresh_due_columns(policy, config.workflow, [(created, "todo", 3, answered)], answered) == [stored]
    at = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.timezone.utc)
    assert evaluate(policy, ticket_times(config.workflow, row), at).next.state == "warning"
