"""Response targets under a controlled clock; every expected value is worked out by hand beside it.

The calendar is England's (GB/ENG bank holidays), Mon-Fri 09:00-17:00, so one
working day is 8 hours; the margin is 25%, so a warning starts when 2 of
those 8 hours are left.
"""

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.sla.calendar import BusinessCalendar
from app.config.settings import load_config
from app.config.durations import parse_duration
from app.sla.targets import ClockPeriods, Move, TicketTimes, clock_periods, evaluate, from_db, reminders_due
from app.sla.settings import SlaPolicy, Targets

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[2]
H = timedelta(hours=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture(scope="module")
def workflow():
    return load_config(ROOT / "config.yaml").workflow


@pytest.fixture
def policy() -> SlaPolicy:
    p1 = Targets(parse_duration("1 working hour"), parse_duration("4 working hours"))
    return SlaPolicy(calendar=BusinessCalendar(LONDON, country="GB", subdivision="ENG"), priorities={1: p1})


def test_friday_afternoon_before_a_bank_holiday_is_due_on_tuesday(policy):
    # Created Fri 22 May 2026 15:00. 1 working day = 8h: 2h on Friday, the weekend and the Spring
    # Bank Holiday (Mon 25 May) off, 6h on Tuesday from 09:00 -> Tue 26 May 15:00.
    ticket = TicketTimes(created=at(2026, 5, 22, 15), priority=3)
    status = evaluate(policy, ticket, now=at(2026, 5, 22, 15, 30))
    assert status.first_response.due == at(2026, 5, 26, 15)
    assert status.first_response.state == "ok"
    # At 15:30 half an hour of the 8h is used.
    assert status.first_response.left == 7 * H + 30 * timedelta(minutes=1)
    # Over the long weekend no working time passes: Monday noon still shows 6h left (2h used Friday).
    monday = evaluate(policy, ticket, now=at(2026, 5, 25, 12)).first_response
    assert (monday.state, monday.left) == ("ok", 6 * H)


def test_warning_then_breach_at_the_right_moments(policy):
    # Created Mon 1 Jun 2026 09:00, due Mon 17:00 (8h). 25% of 8h = 2h, so warning from 15:00.
    ticket = TicketTimes(created=at(2026, 6, 1, 9), priority=3)
    states = {hour_minute: evaluate(policy, ticket, now=at(2026, 6, 1, *hour_minute)).first_response.state
              for hour_minute in [(14, 59), (15, 0), (16, 59), (17, 0), (17, 1)]}
    assert states == {(14, 59): "ok", (15, 0): "warning", (16, 59): "warning",
                      (17, 0): "warning",   # exactly due: the time is used up, not yet missed
                      (17, 1): "breached"}
    # Next morning at 10:00 it is 1h of working time overdue (17:00-09:00 is not working time).
    late = evaluate(policy, ticket, now=at(2026, 6, 2, 10)).first_response
    assert (late.state, late.left, late.due) == ("breached", -H, at(2026, 6, 1, 17))


def test_a_response_meets_the_target(policy):
    on_time = TicketTimes(created=at(2026, 6, 1, 9), first_response=at(2026, 6, 1, 16))
    status = evaluate(policy, on_time, now=at(2026, 6, 3, 12)).first_response
    # Met at 16:00, before the 17:00 due; 1h was left then.
    assert (status.state, status.late, status.left) == ("met", False, H)
    late = TicketTimes(created=at(2026, 6, 1, 9), first_response=at(2026, 6, 2, 10))
    status = evaluate(policy, late, now=at(2026, 6, 3, 12)).first_response
    # Met Tue 10:00, one working hour after the Mon 17:00 due.
    assert (status.state, status.late, status.left) == ("met", True, -H)


def test_pending_time_is_not_counted(policy, workflow):
    # Created Mon 1 Jun 09:00; waits on the requester from 11:00 (2h used) until Wed 3 Jun 10:00.
    # The remaining 6h run from Wed 10:00 -> due Wed 16:00.
    moves = [Move(at(2026, 6, 1, 9, 30), "in_progress"),
             Move(at(2026, 6, 1, 11), "on_hold", "requester"),
             Move(at(2026, 6, 3, 10), "in_progress")]
    ticket = TicketTimes(created=at(2026, 6, 1, 9), periods=clock_periods(workflow, moves))
    paused = evaluate(policy, ticket, now=at(2026, 6, 2, 12)).first_response
    # Tuesday noon: paused with 6h left; if the clock restarted now, 6h from Tue 12:00 = Tue 17:00 + 1h
    # = Wed 10:00.
    assert (paused.state, paused.left, paused.due) == ("paused", 6 * H, at(2026, 6, 3, 10))
    resumed = evaluate(policy, ticket, now=at(2026, 6, 3, 10)).first_response
    assert (resumed.state, resumed.left, resumed.due) == ("ok", 6 * H, at(2026, 6, 3, 16))
    # Wed 14:00: 4h of the remaining 6h used -> 2h left = 25%: warning.
    assert evaluate(policy, ticket, now=at(2026, 6, 3, 14)).first_response.state == "warning"


def test_waiting_on_a_third_party_does_not_pause(policy, workflow):
    # The same moves with hold reason "external" (On Hold, not Pending): due Mon 17:00 as if never held.
    moves = [Move(at(2026, 6, 1, 11), "on_hold", "external"), Move(at(2026, 6, 3, 10), "in_progress")]
    ticket = TicketTimes(created=at(2026, 6, 1, 9), periods=clock_periods(workflow, moves))
    status = evaluate(policy, ticket, now=at(2026, 6, 2, 12)).first_response
    assert (status.state, status.due) == ("breached", at(2026, 6, 1, 17))


def test_pending_after_the_due_instant_stays_breached(policy, workflow):
    # Due Mon 17:00; the ticket goes Pending at Mon 18:00, after the target was missed.
    moves = [Move(at(2026, 6, 1, 18), "on_hold", "requester")]
    ticket = TicketTimes(created=at(2026, 6, 1, 9), periods=clock_periods(workflow, moves))
    status = evaluate(policy, ticket, now=at(2026, 6, 2, 12)).first_response
    assert (status.state, status.due) == ("breached", at(2026, 6, 1, 17))


def test_the_clock_stops_when_closed_and_restarts_on_reopen(policy, workflow):
    # Closed Mon 1 Jun 12:00 (3h used, no response): nothing is owed afterwards.
    closed = [Move(at(2026, 6, 1, 12), "closed")]
    ticket = TicketTimes(created=at(2026, 6, 1, 9), periods=clock_periods(workflow, closed))
    status = evaluate(policy, ticket, now=at(2026, 6, 5, 12))
    assert status.first_response.state == "met"
    assert status.first_response.left == 5 * H   # frozen at closing
    # Reopened Wed 3 Jun 09:00: the 5h left run on -> due Wed 14:00.
    reopened = closed + [Move(at(2026, 6, 3, 9), "in_progress")]
    ticket = TicketTimes(created=at(2026, 6, 1, 9), periods=clock_periods(workflow, reopened))
    status = evaluate(policy, ticket, now=at(2026, 6, 3, 10)).first_response
    assert (status.state, status.due, status.left) == ("ok", at(2026, 6, 3, 14), 4 * H)
    # Closed after the due instant without a response: the breach is final.
    late = TicketTimes(created=at(2026, 6, 1, 9), periods=clock_periods(workflow, [Move(at(2026, 6, 2, 10), "closed")]))
    assert evaluate(policy, late, now=at(2026, 6, 5, 12)).first_response.state == "breached"


def test_updates_are_due_every_two_working_days_after_the_latest_message(policy):
    # First response Mon 1 Jun 10:00, another message Tue 2 Jun 11:00. 2 working days = 16h from
    # Tue 11:00: Tue 6h (to 17:00), Wed 8h (14), Thu 09:00 + 2h -> Thu 4 Jun 11:00.
    ticket = TicketTimes(created=at(2026, 6, 1, 9), first_response=at(2026, 6, 1, 10),
                         messages=(at(2026, 6, 1, 10), at(2026, 6, 2, 11)))
    update = evaluate(policy, ticket, now=at(2026, 6, 2, 12)).update_every
    assert (update.state, update.due, update.since) == ("ok", at(2026, 6, 4, 11), at(2026, 6, 2, 11))
    # Warning with 4h (25% of 16h) left: 12h after Tue 11:00 = Tue 6h + Wed 6h = Wed 15:00.
    assert evaluate(policy, ticket, now=at(2026, 6, 3, 14, 59)).update_every.state == "ok"
    assert evaluate(policy, ticket, now=at(2026, 6, 3, 15)).update_every.state == "warning"
    assert evaluate(policy, ticket, now=at(2026, 6, 4, 11, 1)).update_every.state == "breached"
    # Messages after `now` are ignored: on Mon 12:00 the clock runs from the first response
    # (Mon 10:00): 16h -> Mon 7h, Tue 8h, Wed 09:00 + 1h = Wed 10:00.
    assert evaluate(policy, ticket, now=at(2026, 6, 1, 12)).update_every.due == at(2026, 6, 3, 10)


def test_targets_by_priority(policy):
    # P1: 1 working hour. Created Mon 1 Jun 16:30 -> 30m on Monday, Tue 09:00 + 30m = Tue 09:30.
    p1 = TicketTimes(created=at(2026, 6, 1, 16, 30), priority=1)
    status = evaluate(policy, p1, now=at(2026, 6, 1, 16, 40))
    assert status.first_response.due == at(2026, 6, 2, 9, 30)
    # 25% of 1h = 15m: at 16:40, 50m are left (ok); at Tue 09:15, 15m are left (warning).
    assert status.first_response.state == "ok"
    assert evaluate(policy, p1, now=at(2026, 6, 2, 9, 15)).first_response.state == "warning"
    # P1 update_every is 4 working hours: from a message at Tue 10:00 -> Tue 14:00.
    answered = TicketTimes(created=at(2026, 6, 1, 16, 30), priority=1, first_response=at(2026, 6, 2, 10))
    assert evaluate(policy, answered, now=at(2026, 6, 2, 11)).update_every.due == at(2026, 6, 2, 14)
    # P3 (no override) keeps 1 working day: Mon 16:30 + 8h = 30m + Tue 7h30 = Tue 16:30.
    p3 = TicketTimes(created=at(2026, 6, 1, 16, 30), priority=3)
    assert evaluate(policy, p3, now=at(2026, 6, 1, 16, 40)).first_response.due == at(2026, 6, 2, 16, 30)


def test_a_wall_clock_target_counts_every_hour():
    # P1 answered within 4h round the clock: created Sat 6 Jun 10:00 -> due Sat 14:00.
    policy = SlaPolicy(calendar=BusinessCalendar(LONDON),
                       priorities={1: Targets(parse_duration("4h"), parse_duration("8h"))})
    status = evaluate(policy, TicketTimes(created=at(2026, 6, 6, 10), priority=1), now=at(2026, 6, 6, 13))
    # At 13:00, 1h of 4h left = 25%: warning.
    assert (status.first_response.due, status.first_response.left, status.first_response.state) == \
        (at(2026, 6, 6, 14), H, "warning")


def test_reminders_once_per_target(policy):
    ticket = TicketTimes(created=at(2026, 6, 1, 9))
    ok = evaluate(policy, ticket, now=at(2026, 6, 1, 12))
    assert reminders_due(ok, sent=set()) == ()
    warning = evaluate(policy, ticket, now=at(2026, 6, 1, 15, 30))
    assert [t.name for t in reminders_due(warning, sent=set())] == ["first_response"]
    assert reminders_due(warning, sent={"first_response"}) == ()
    # Still no update_every reminder before the first response, even though its clock runs.
    # After a response at Mon 16:00, update_every runs from there: 16h -> 1h Mon, Tue 8h, Wed 7h ->
    # due Wed 16:00; warning with 4h left -> Wed 12:00. Its key names its cycle.
    answered = TicketTimes(created=at(2026, 6, 1, 9), first_response=at(2026, 6, 1, 16))
    status = evaluate(policy, answered, now=at(2026, 6, 3, 12))
    due = reminders_due(status, sent={"first_response"})
    assert [t.name for t in due] == ["update_every"]
    assert due[0].reminder_key == "update_every@2026-06-01T15:00:00+00:00"   # 16:00 BST
    assert reminders_due(status, sent={"first_response", due[0].reminder_key}) == ()


def test_a_wall_clock_update_over_the_weekend_is_reminded_before_the_first_response():
    # First response in 1 working day, updates every 2 days of wall clock; created Fri 4 Dec 17:30.
    # The first response is due Mon 17:00 (warning from 15:00), the update Sun 17:30 (warning with 12h
    # left, from Sun 05:30): the card shows the update from then, and its assignee is reminded of it.
    policy = SlaPolicy(calendar=BusinessCalendar(LONDON, country="GB", subdivision="ENG"),
                       targets=Targets(parse_duration("1 working day"), parse_duration("2d")))
    ticket = TicketTimes(created=at(2026, 12, 4, 17, 30))
    assert reminders_due(evaluate(policy, ticket, now=at(2026, 12, 6, 5, 29)), sent=set()) == ()
    sunday = evaluate(policy, ticket, now=at(2026, 12, 6, 5, 30))
    assert (sunday.next.name, sunday.next.state, sunday.first_response.state) == ("update_every", "warning", "ok")
    due = reminders_due(sunday, sent=set())
    assert [t.name for t in due] == ["update_every"]
    monday = evaluate(policy, ticket, now=at(2026, 12, 7, 15))
    assert [t.name for t in reminders_due(monday, sent={due[0].reminder_key})] == ["first_response"]


def test_the_card_shows_the_next_target(policy):
    before = evaluate(policy, TicketTimes(created=at(2026, 6, 1, 9)), now=at(2026, 6, 1, 10))
    assert before.next.name == "first_response"
    after = evaluate(policy, TicketTimes(created=at(2026, 6, 1, 9), first_response=at(2026, 6, 1, 10)),
                     now=at(2026, 6, 1, 11))
    assert after.next.name == "update_every"
    assert after.to_json()["first_response"]["state"] == "met"


def test_database_instants_are_naive_utc(policy):
    created = from_db(datetime(2026, 6, 1, 8))   # 08:00 UTC = 09:00 BST
    assert created == at(2026, 6, 1, 9)
    status = evaluate(policy, TicketTimes(created=created), now=at(2026, 6, 1, 9))
    assert status.first_response.due == at(2026, 6, 1, 17)


def test_clock_periods_from_history(workflow):
    moves = [Move(at(2026, 6, 1, 11), "on_hold", "requester"), Move(at(2026, 6, 2, 9), "in_progress"),
             Move(at(2026, 6, 2, 12), "resolved"), Move(at(2026, 6, 2, 13), "closed")]
    assert clock_periods(workflow, moves) == ClockPeriods(
        pending=((at(2026, 6, 1, 11), at(2026, 6, 2, 9)),), closed=((at(2026, 6, 2, 13), None),))


def test_a_requester_reply_ends_the_pending_pause_without_a_move(policy, workflow):
    """Issue 19.9: the ticket stayed Pending (In Progress full), but the requester answered: the clock runs."""
    moves = [Move(at(2026, 6, 1, 9, 30), "in_progress"), Move(at(2026, 6, 1, 11), "on_hold", "requester")]
    periods = clock_periods(workflow, moves, replies=[at(2026, 6, 2, 10)])
    assert periods.pending == ((at(2026, 6, 1, 11), at(2026, 6, 2, 10)),)
    status = evaluate(policy, TicketTimes(created=at(2026, 6, 1, 9), periods=periods), now=at(2026, 6, 2, 12))
    assert status.first_response.state != "paused"
    assert clock_periods(workflow, moves).pending == ((at(2026, 6, 1, 11), None),)  # no reply: still paused
