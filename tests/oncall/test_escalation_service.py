"""Escalation through the service: pages, acknowledgement, idempotence, with a controlled clock.

The repo's config pages SET primary at 0m, SET backup at 15m and SET lead at
30m. Every rotation hands off on Mondays at 09:00 Europe/London (= UTC in
November), shift 0 beginning Mon 2026-11-02; so on Mon 2026-11-16:
  before 09:00  primary k=1 bob,   backup k=1 carol, lead (2w) k=0 frank
  from 09:00    primary k=2 carol, backup k=2 dan,   lead (2w) k=1 grace
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess

import pytest

from app.oncall.rotation import on_duty
from app.service import Conflict, Refused
from data.models import History, Notification, Ticket

UTC = dt.timezone.utc


def p1(service, title="Checkout is down"):
    return service.create(title=title, priority=1, by="alice", requester_email="req@example.org")


def expected(config, rotation, naive_utc):
    """Who the rotation says is on duty at that moment: the page must go to them."""
    oncall = config.oncall
    return tuple(on_duty(oncall.rotation(rotation), oncall.overrides, naive_utc.replace(tzinfo=UTC)))


def pages_of(ticket):
    rows = History.select().where((History.ticket == ticket) & (History.kind == "page")).order_by(History.id)
    return [json.loads(row.detail) for row in rows]


def test_unacknowledged_p1_goes_to_primary_backup_then_lead_across_a_handoff(service, clock, config):
    clock.set(2026, 11, 16, 8, 50)  # ten minutes before the Monday handoff
    ticket = p1(service)

    first = service.escalate_due()
    assert [(p.key, p.step, p.rotation, p.paged) for p in first] == [(ticket.key, 0, "SET primary", ("bob",))]
    assert first[0].paged == expected(config, "SET primary", clock.now)
    assert service.escalate_due() == []  # same instant again: nothing new

    clock.set(2026, 11, 16, 9, 4, 59)
    assert service.escalate_due() == []
    clock.set(2026, 11, 16, 9, 5)  # after the handoff: this week's backup, not last week's (carol)
    second = service.escalate_due()
    assert [(p.step, p.rotation, p.paged) for p in second] == [(1, "SET backup", ("dan",))]
    assert second[0].paged == expected(config, "SET backup", clock.now)

    clock.set(2026, 11, 16, 9, 20)
    third = service.escalate_due()
    assert [(p.step, p.rotation, p.paged) for p in third] == [(2, "SET lead", ("grace",))]
    assert third[0].paged == expected(config, "SET lead", clock.now)
    assert service.escalate_due() == []
    assert service.next_escalation_at() is None

    assert pages_of(ticket) == [
        {"step": 0, "rotation": "SET primary", "paged": ["bob"], "due_at": "2026-11-16T08:50:00"},
        {"step": 1, "rotation": "SET backup", "paged": ["dan"], "due_at": "2026-11-16T09:05:00"},
        {"step": 2, "rotation": "SET lead", "paged": ["grace"], "due_at": "2026-11-16T09:20:00"},
    ]
    mails = list(Notification.select().where(Notification.kind == "page").order_by(Notification.id))
    assert [m.recipient for m in mails] == ["bob@example.org", "dan@example.org", "grace@example.org"]
    assert all(m.subject == f"[{ticket.key}] PAGE P1: Checkout is down" for m in mails)
    assert f"triageboard ack {ticket.key} --by grace" in mails[2].body
    assert service.paged_now(Ticket.get_by_id(ticket.id)) == ("grace",)


def test_acknowledgement_at_20m_stops_the_lead_page(service, clock):
    ticket = p1(service)  # 10:00: primary carol, backup dan
    assert [p.paged for p in service.escalate_due()] == [("carol",)]
    assert service.next_escalation_at() == dt.datetime(2026, 11, 16, 10, 15)
    clock.set(2026, 11, 16, 10, 15)
    assert [p.paged for p in service.escalate_due()] == [("dan",)]
    assert service.next_escalation_at() == dt.datetime(2026, 11, 16, 10, 30)

    clock.set(2026, 11, 16, 10, 20)
    acked = service.acknowledge(ticket.key, by="dan")
    assert (acked.ack_at, acked.ack_by, acked.needs_ack) == (dt.datetime(2026, 11, 16, 10, 20), "dan", True)

    clock.set(2026, 11, 16, 10, 30)
    assert service.escalate_due() == []
    clock.set(2026, 11, 16, 12, 0)
    assert service.escalate_due() == []
    assert [d["rotation"] for d in pages_of(ticket)] == ["SET primary", "SET backup"]
    assert Notification.select().where(Notification.kind == "page").count() == 2
    assert service.next_escalation_at() is None
    assert service.paged_now(Ticket.get_by_id(ticket.id)) == ()

    ack = History.get((History.ticket == ticket) & (History.kind == "ack"))
    assert (ack.by, ack.at, json.loads(ack.detail)) == ("dan", dt.datetime(2026, 11, 16, 10, 20), {"paged": ["dan"]})


def test_a_clock_that_was_not_running_sends_every_due_step_to_who_was_on_duty_then(service, clock):
    clock.set(2026, 11, 16, 8, 50)
    p1(service)
    clock.set(2026, 11, 16, 9, 30)
    pages = service.escalate_due()
    assert [(p.rotation, p.paged, p.due_at, p.at) for p in pages] == [
        ("SET primary", ("bob",), dt.datetime(2026, 11, 16, 8, 50), clock.now),
        ("SET backup", ("dan",), dt.datetime(2026, 11, 16, 9, 5), clock.now),
        ("SET lead", ("grace",), dt.datetime(2026, 11, 16, 9, 20), clock.now),
    ]


def test_acknowledging_twice_or_without_a_page_is_refused(service, clock):
    ticket = p1(service)
    service.escalate_due()
    clock.set(2026, 11, 16, 10, 5)
    service.acknowledge(ticket.key, by="carol")
    with pytest.raises(Refused, match=r"already acknowledged by carol at 2026-11-16 10:05 GMT"):
        service.acknowledge(ticket.key, by="dan")
    calm = service.create(title="A question", priority=3)
    with pytest.raises(Refused, match="does not need acknowledging"):
        service.acknowledge(calm.key, by="dan")
    with pytest.raises(Refused, match="unknown team member 'zed'"):
        service.acknowledge(ticket.key, by="zed")
    assert History.select().where(History.kind == "ack").count() == 1


def test_pages_and_acknowledgements_are_version_guarded(service, clock):
    ticket = p1(service)
    stale = ticket.version
    service.escalate_due()  # a page changes the card: who is paged is on it
    with pytest.raises(Conflict, match=r"was changed \(page\)"):
        service.move(ticket.key, "on_hold", hold_reason="external", expected_version=stale)
    with pytest.raises(Conflict):
        service.acknowledge(ticket.key, by="carol", expected_version=stale)
    fresh = service.get(ticket.key)
    service.acknowledge(ticket.key, by="carol", expected_version=fresh.version)


def test_paged_now_for_many_cards_in_one_call(service, clock):
    a, b = p1(service, "a"), p1(service, "b")
    calm = service.create(title="c", priority=2)
    service.escalate_due()
    clock.set(2026, 11, 16, 10, 1)
    service.acknowledge(b.key, by="carol")
    tickets = list(Ticket.select())
    assert service.paged_now_for(tickets) == {a.key: ("carol",)}
    assert calm.key not in service.paged_now_for(tickets)


# -- the command line ----------------------------------------------------

def test_escalate_once_and_ack_from_the_command_line(service, run_cli):
    ticket = p1(service)  # page started Mon 2026-11-16 10:00 GMT

    run = run_cli("escalate", "--once", now="2026-11-16T10:16")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"{ticket.key}: paged carol (step 1, SET primary, due 2026-11-16 10:00 GMT)",
        f"{ticket.key}: paged dan (step 2, SET backup, due 2026-11-16 10:15 GMT)",
    ]
    again = run_cli("escalate", "--once", now="2026-11-16T10:16")
    assert (again.returncode, again.stdout) == (0, "")

    acked = run_cli("ack", ticket.key.lower(), "--by", "dan", now="2026-11-16T10:20")
    assert (acked.returncode, acked.stdout) == (0, f"{ticket.key} acknowledged by dan\n"), acked.stderr
    twice = run_cli("ack", ticket.key, "--by", "carol", now="2026-11-16T10:21")
    assert twice.returncode == 1
    assert twice.stderr == f"triageboard: {ticket.key} was already acknowledged by dan at 2026-11-16 10:20 GMT\n"

    late = run_cli("escalate", "--once", now="2026-11-16T10:45")
    assert (late.returncode, late.stdout) == (0, "")
    assert [d["paged"] for d in pages_of(ticket)] == [["carol"], ["dan"]]


def test_two_escalators_at_once_page_each_step_once(service, cli_command, cli_env, tmp_path):
    tickets = [p1(service, f"outage {i}") for i in range(5)]
    env = {**cli_env, "TRIAGEBOARD_NOW": "2026-11-16T10:40"}
    runs = [subprocess.Popen(cli_command("escalate", "--once"), env=env, cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert len(lines) == 15  # 5 tickets x 3 steps, between the two processes
    for ticket in tickets:
        assert [d["step"] for d in pages_of(ticket)] == [0, 1, 2]
    assert Notification.select().where(Notification.kind == "page").count() == 15


def test_escalate_runs_until_interrupted_and_exits_cleanly(service, cli_command, cli_env, tmp_path):
    ticket = p1(service)
    env = {**cli_env, "TRIAGEBOARD_NOW": "2026-11-16T10:00"}
    run = subprocess.Popen(cli_command("escalate", "--poll", "0.2"), env=env, cwd=tmp_path, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = run.stdout.readline()
        assert first.startswith(f"{ticket.key}: paged carol")
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0
    assert "Traceback" not in err
    assert err == "triageboard: escalation stopped\n"


def test_a_working_time_delay_waits_on_the_business_calendar(config, db, clock):
    """`after: 1 working hour` counts on the `sla:` calendar: a Friday-evening page reaches the backup on Monday."""
    import dataclasses

    import msgspec

    from app.config.durations import Duration
    from app.service import Service

    oncall = config.oncall
    backup = msgspec.structs.replace(oncall.escalation[1], after=Duration(1, "hours", working=True))
    steps = (oncall.escalation[0], backup)
    service = Service(dataclasses.replace(config, oncall=msgspec.structs.replace(oncall, escalation=steps)),
                      clock=clock)
    clock.set(2026, 11, 20, 18, 0)  # Friday 18:00 GMT, after working hours
    p1(service)
    assert [p.rotation for p in service.escalate_due()] == ["SET primary"]
    # Working hours are Mon-Fri 09:00-17:00: the hour runs Monday 09:00-10:00.
    assert service.next_escalation_at() == dt.datetime(2026, 11, 23, 10, 0)
    clock.set(2026, 11, 23, 9, 59)
    assert service.escalate_due() == []
    clock.set(2026, 11, 23, 10, 0)
    assert [(p.rotation, p.paged) for p in service.escalate_due()] == [("SET backup", ("alice",))]


def test_import_never_pages_unless_asked(service, run_cli, tmp_path):
    """An imported open P1 may be months old: escalate must not page for it (issue 20.6)."""
    source = tmp_path / "old.csv"
    source.write_text("title,key,state,priority,created\n"
                      "old outage,SET-40,in_progress,P1,2026-08-01T10:00:00Z\n")
    done = run_cli("import", str(source), now="2026-11-16T10:00")
    assert (done.returncode, done.stdout) == (0, "imported 1 ticket\n"), done.stderr
    run = run_cli("escalate", "--once", now="2026-11-16T10:16")
    assert (run.returncode, run.stdout) == (0, ""), run.stderr

    asked = tmp_path / "asked.csv"
    asked.write_text(source.read_text().replace("SET-40", "SET-41"))
    assert run_cli("import", "--page-open-p1", str(asked), now="2026-11-16T10:00").returncode == 0
    run = run_cli("escalate", "--once", now="2026-11-16T10:16")
    assert run.returncode == 0 and run.stdout.startswith("SET-41: paged carol"), run.stdout
    assert "SET-40" not in run.stdout
