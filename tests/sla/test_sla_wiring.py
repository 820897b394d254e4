"""Response targets wired to the database, the service and the command line (issue 6, done-when).

The repo's config.yaml: Europe/London, Mon-Fri 09:00-17:00 (8 working hours a
day), English bank holidays, first response 1 working day, updates every 2
working days, warning at 25% left; P1: first response 1 working hour, updates
every 4 working hours. Every expected instant is worked out by hand beside it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from app.sla.labels import card_sla
from app.sla.source import statuses
from data.models import History, Notification
from data.sla_inputs import iter_open_rows, sla_rows

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def sla_at(service, ticket, when: datetime):
    service.clock.set(when)
    return statuses(service.config, [ticket.id], service.clock())[ticket.id]


def card_at(service, ticket, when: datetime) -> tuple[str, str]:
    return card_sla(sla_at(service, ticket, when))


# -- the bank-holiday weekend ---------------------------------------------------


def test_the_calendar_is_right_about_the_weekend():
    england = holidays.country_holidays("GB", subdiv="ENG", years=2026)
    assert datetime(2026, 8, 28).strftime("%A") == "Friday"
    assert england.get("2026-08-31") == "Late Summer Bank Holiday"   # a Monday


def test_friday_afternoon_before_a_bank_holiday_monday_is_due_tuesday(service, clock):
    # Created Fri 28 Aug 2026 14:30 BST. 1 working day = 8h: 2h30 on Friday (to 17:00), the
    # weekend and the Late Summer Bank Holiday (Mon 31 Aug) off, then 5h30 from Tue 09:00
    # -> due Tue 1 Sep 14:30 BST (13:30 UTC).
    clock.set(london(2026, 8, 28, 14, 30))
    ticket = service.create(title="Checkout fails", requester_email="r@example.org")
    first = sla_at(service, ticket, london(2026, 8, 28, 15)).first_response
    assert first.due == london(2026, 9, 1, 14, 30)
    assert first.due.utcoffset() == H                  # BST, and the offset survives
    assert (first.state, first.left) == ("ok", 7 * H + 30 * M)
    # No working time passes over the long weekend: Monday noon shows what Friday 17:00 showed.
    assert card_at(service, ticket, london(2026, 8, 31, 12)) == ("5h 30m left", "ok")


def test_the_card_turns_to_warning_then_breach_at_the_right_moments(service, clock):
    # Due Tue 14:30 BST; 25% of 8h = 2h, so warning from Tue 12:30; breached once 14:30 has passed.
    clock.set(london(2026, 8, 28, 14, 30))
    ticket = service.create(title="Checkout fails", requester_email="r@example.org")
    assert card_at(service, ticket, london(2026, 9, 1, 12, 29)) == ("2h 1m left", "ok")
    assert card_at(service, ticket, london(2026, 9, 1, 12, 30)) == ("2h left", "warning")
    assert card_at(service, ticket, london(2026, 9, 1, 14, 30)) == ("due now", "warning")
    assert card_at(service, ticket, london(2026, 9, 1, 14, 31)) == ("overdue 1m", "breached")
    assert card_at(service, ticket, london(2026, 9, 2, 9)) == ("overdue 2h 30m", "breached")


# -- what stops the clock ---------------------------------------------------------


def test_pending_time_is_not_counted(service, clock):
    # No requester address, so no status mail answers the ticket and the first-response clock keeps
    # running (with an address, the mail telling the requester "Pending" would be the first response).
    # Created Mon 16 Nov 09:00 GMT; Pending from 10:00 Monday to 10:00 Tuesday.
    clock.set(london(2026, 11, 16, 9))
    ticket = service.create(title="Need logs")
    clock.set(london(2026, 11, 16, 10))
    service.move(ticket.key, "on_hold", hold_reason="requester", by="alice")
    assert card_at(service, ticket, london(2026, 11, 16, 14)) == ("paused", "paused")
    assert sla_at(service, ticket, london(2026, 11, 16, 16, 59)).first_response.left == 7 * H  # 1h used Mon
    clock.set(london(2026, 11, 17, 10))
    service.move(ticket.key, "todo", by="alice")
    # Tue 12:00: 1h on Monday + 2h on Tuesday = 3h used, 5h left; 7h left at 10:00 -> due Tue 17:00.
    # Without the pause it would have been due Mon 17:00 and breached by now.
    first = sla_at(service, ticket, london(2026, 11, 17, 12)).first_response
    assert (first.state, first.left, first.due) == ("ok", 5 * H, london(2026, 11, 17, 17))
    assert Notification.select().count() == 0


def test_waiting_on_a_third_party_does_not_pause_and_its_mail_is_the_first_response(service, clock):
    clock.set(london(2026, 11, 16, 9))
    ticket = service.create(title="Vendor bug", requester_email="r@example.org")
    clock.set(london(2026, 11, 16, 10))
    service.move(ticket.key, "on_hold", hold_reason="external", by="alice")   # mails "On Hold"
    status = sla_at(service, ticket, london(2026, 11, 16, 11))
    assert status.first_response.state == "met"
    # The next update is owed 2 working days (16h) after that mail: Wed 18 Nov 10:00; 1h of it used.
    assert (status.update_every.due, status.update_every.left) == (london(2026, 11, 18, 10), 15 * H)
    assert card_sla(status) == ("15h left", "ok")


# -- targets by priority ------------------------------------------------------------


def test_targets_by_priority(service, clock):
    # P1: 1 working hour, so created Mon 09:00 it is due 10:00, warning from 09:45 (25% of 60m).
    # P3 has no override: 1 working day, due 17:00.
    clock.set(london(2026, 11, 16, 9))
    p1 = service.create(title="Site down", priority=1, requester_email="r@example.org")
    p3 = service.create(title="Typo", priority=3, requester_email="r@example.org")
    assert sla_at(service, p1, london(2026, 11, 16, 9)).first_response.due == london(2026, 11, 16, 10)
    assert card_at(service, p1, london(2026, 11, 16, 9, 44)) == ("16m left", "ok")
    assert card_at(service, p1, london(2026, 11, 16, 9, 45)) == ("15m left", "warning")
    assert card_at(service, p1, london(2026, 11, 16, 10, 1)) == ("overdue 1m", "breached")
    assert sla_at(service, p3, london(2026, 11, 16, 10, 1)).first_response.due == london(2026, 11, 16, 17)
    assert card_at(service, p3, london(2026, 11, 16, 10, 1)) == ("6h 59m left", "ok")


# -- reminders ---------------------------------------------------------------------


def reminders(service, when: datetime) -> list[tuple[str, str, str]]:
    service.clock.set(when)
    return [(r.key, r.target, r.recipient) for r in service.remind_due()]


def test_reminders_once_per_target(service, clock):
    clock.set(london(2026, 11, 16, 9))
    unassigned = service.create(title="Unassigned", priority=3, requester_email="r@example.org")
    clock.set(london(2026, 11, 16, 15))
    bobs = service.create(title="Bob's P1", priority=1, assignee="bob", requester_email="s@example.org")

    # 15:10: the P3 (due 17:00) is in warning since 15:00; the P1 (due 16:00) has 50m left, ok.
    # Unassigned, so the primary on call is reminded: SET primary hands over weekly on Mondays
    # 09:00 from 2 Nov (alice, bob, carol, dan), so from 16 Nov 09:00 it is carol.
    assert reminders(service, london(2026, 11, 16, 15, 10)) == [(unassigned.key, "first_response", "carol")]
    assert reminders(service, london(2026, 11, 16, 15, 10)) == []
    # 15:50: the P1 has 10m left (< 15m): its assignee.
    assert reminders(service, london(2026, 11, 16, 15, 50)) == [(bobs.key, "first_response", "bob")]

    # 15:55: the move to On Hold (external) mails the requester: the first response, met in time.
    clock.set(london(2026, 11, 16, 15, 55))
    service.move(bobs.key, "on_hold", hold_reason="external", by="bob")
    assert sla_at(service, bobs, london(2026, 11, 16, 15, 55)).first_response.state == "met"
    # The next update is due 4 working hours later: 1h05 on Monday, 2h55 from Tue 09:00 -> Tue 11:55;
    # warning with 1h left, from Tue 10:55. Nothing more for the breached P3: it was reminded once.
    assert reminders(service, london(2026, 11, 17, 10, 54)) == []
    assert reminders(service, london(2026, 11, 17, 10, 55)) == [(bobs.key, "update_every", "bob")]
    assert reminders(service, london(2026, 11, 17, 16)) == []

    sent = [(n.ticket.key, n.kind, n.recipient) for n in Notification.select().where(Notification.kind == "reminder")
            .order_by(Notification.id)]
    assert sent == [(unassigned.key, "reminder", "carol@example.org"), (bobs.key, "reminder", "bob@example.org"),
                    (bobs.key, "reminder", "bob@example.org")]
    keys = [json.loads(h.detail)["reminder_key"] for h in History.select().where(History.kind == "reminder")
            .order_by(History.id)]
    assert keys == ["first_response", "first_response", "update_every@2026-11-16T15:55:00+00:00"]


# -- batched reads -------------------------------------------------------------------


def test_inputs_cost_three_queries_however_many_tickets(service, clock, caplog):
    ids = [service.create(title=f"t{i}", requester_email="r@example.org").id for i in range(45)]
    service.move(service.get("SET-1").key, "on_hold", hold_reason="requester")
    caplog.set_level(logging.DEBUG, logger="peewee")

    def queries(call) -> int:
        caplog.clear()
        call()
        return sum(1 for r in caplog.records if r.name == "peewee")

    assert queries(lambda: sla_rows(ids[:5])) == 3
    assert queries(lambda: sla_rows(ids)) == 3
    rows = sla_rows(ids)
    assert [m[1:] for m in rows[ids[0]].moves] == [("todo", None), ("on_hold", "requester")]
    assert len(rows[ids[0]].messages) == 1 and rows[ids[1]].messages == ()
    # The open set, 10 at a time: 5 chunks of 3 queries and one empty look.
    chunks: list[int] = []
    assert queries(lambda: chunks.extend(len(c) for c in iter_open_rows(("closed",), chunk=10))) == 16
    assert chunks == [10, 10, 10, 10, 5]


# -- the command line ------------------------------------------------------------------


def test_show_json_list_by_sla_and_remind_from_the_command_line(run_cli):
    friday, tuesday = "2026-08-28T14:30:00+01:00", "2026-09-01T09:00:00+01:00"
    assert run_cli("ticket", "add", "Checkout fails", "--requester", "r@example.org", now=friday).returncode == 0
    assert run_cli("ticket", "add", "Slow search", "--requester", "s@example.org", now=tuesday).returncode == 0

    shown = run_cli("ticket", "show", "SET-1", "--json", now="2026-09-01T13:00:00+01:00")
    assert shown.returncode == 0, shown.stderr
    sla = json.loads(shown.stdout)["sla"]
    assert sla["next"] == "first_response"
    assert sla["first_response"] == {"due": "2026-09-01T14:30:00+01:00", "state": "warning",
                                     "working_time_left": 5400, "working_time_left_text": "1h 30m left",
                                     "late": False, "working": True}
    assert set(sla["update_every"]) == set(sla["first_response"])
    text = run_cli("ticket", "show", "SET-1", now="2026-09-01T13:00:00+01:00").stdout
    assert "first response           due Tue 2026-09-01 14:30 BST  warning  1h 30m left" in text

    # Tue 14:31: SET-1 is a minute overdue; SET-2 (created 09:00, due 17:00) has 2h29 left, ok.
    breached = run_cli("ticket", "list", "--sla", "breached", "--json", now="2026-09-01T14:31:00+01:00")
    assert breached.returncode == 0, breached.stderr
    assert [(t["key"], t["sla"]["first_response"]["state"]) for t in json.loads(breached.stdout)] == [
        ("SET-1", "breached")]
    assert run_cli("ticket", "list", "--sla", "warning", now="2026-09-01T14:31:00+01:00").stdout == ""
    # 15:00: SET-2 has 2h left, in warning; at-risk lists both, in board order.
    at_risk = run_cli("ticket", "list", "--sla", "at-risk", now="2026-09-01T15:00:00+01:00").stdout.splitlines()
    assert [line.split()[0] for line in at_risk] == ["SET-1", "SET-2"]
    assert "overdue 30m" in at_risk[0] and "2h left" in at_risk[1]

    # Unassigned: the primary on call that week (31 Aug: dan) is reminded, once per target.
    first = run_cli("remind", "--once", now="2026-09-01T15:00:00+01:00")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "SET-1: reminded dan of the first response (breached, due Tue 2026-09-01 14:30 BST)",
        "SET-2: reminded dan of the first response (warning, due Tue 2026-09-01 17:00 BST)"]
    again = run_cli("remind", "--once", now="2026-09-01T15:05:00+01:00")
    assert (again.returncode, again.stdout) == (0, "")


def test_a_bad_triageboard_now_is_a_usage_error(run_cli):
    result = run_cli("ticket", "list", now="next tuesday")
    assert result.returncode == 2 and "TRIAGEBOARD_NOW" in result.stderr
