"""The stored due instants (migration 0008) against the pure rules, on random histories.

Random moves (Pending and On Hold among them), priority changes, replies to
and from the requester, edits of the requester, notes and undos at random
instants over December 2026 (the repo's calendar: Mon-Fri 09:00-17:00 in
London, English bank holidays, the team's own 29 December): after every write
the columns hold what `app.sla.due` computes from the stored inputs, and the
SQL filters pick exactly the tickets whose card `evaluate` says is warning,
breached or either, at the boundaries and at random later instants.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import msgspec

from app.notify.inbound import Reply
from app.service import Refused, Service
from app.sla.due import matches
from app.sla.labels import FILTERS, card_state
from app.sla.source import STALE, check, due_freshness, rebuild, row_due, statuses
from app.sla.settings import SlaPolicy
from data.models import Ticket
from data.sla_due import condition, stored
from data.sla_inputs import sla_rows
from tests.clock import Clock
from tests.conftest import ROOT

US = dt.timedelta(microseconds=1)
WHICH = tuple(FILTERS)


def _act(service: Service, rng: random.Random, ticket: Ticket, n: int) -> None:
    key = ticket.key
    fresh = Ticket.get_by_id(ticket.id)
    action = rng.choice(("move", "move", "move", "priority", "reply", "inbound", "edit", "note", "undo"))
    try:
        if action == "move":
            target = rng.choice(service.workflow.transitions.get(fresh.state, ()) or ("todo",))
            hold = rng.choice(("requester", "external")) if service.workflow.column(target).is_hold else None
            service.move(key, target, by="alice", hold_reason=hold)
        elif action == "priority":
            service.triage(key, by="alice", priority=f"P{rng.randint(1, 4)}", impact="high", urgency="soon",
                           actionable="yes", reproducible="yes", users_affected="many", frequency="always")
        elif action == "reply":
            service.reply(key, "We are on it.", by="alice")
        elif action == "inbound":
            service.receive_reply(Reply(sender=fresh.requester_email or "r@example.org", sender_name="R",
                                        subject=f"Re: [{key}] {fresh.title}", message_id=f"<m{n}@example.org>",
                                        references=(), text="Here is the detail you asked for."))
        elif action == "edit":
            service.edit_ticket(key, {"requester_email": rng.choice(("r@example.org", "s@example.org", ""))},
                                by="alice")
        elif action == "note":
            service.note(key, "looked", by="alice")
        else:
            service.undo(key, by="alice")
    except Refused:
        pass


def _assert_agrees(service: Service, ticket_ids: list[int], rng: random.Random) -> None:
    config, now = service.config, service.clock()
    inputs = sla_rows(ticket_ids)
    held = stored(ticket_ids)
    for ticket_id in ticket_ids:
        row = inputs[ticket_id]
        warn, due, _ = held[ticket_id]
        assert (warn, due) == row_due(config, row, now), row.key
        if row.state == config.workflow.final:
            continue
        instants = [now, now + dt.timedelta(minutes=rng.randint(1, 60 * 24 * 20))]
        for edge in (warn, due):
            if edge is not None and edge >= now + US:
                instants += [edge - US, edge, edge + US]
        for at in instants:
            shown = card_state(statuses(config, [ticket_id], at)[ticket_id])
            for which in WHICH:
                assert matches(which, warn, due, at) == (shown in FILTERS[which]), (row.key, which, at, shown)


def test_stored_instants_follow_random_histories(config, db):
    for seed in range(4):
        rng = random.Random(seed)
        clock = Clock(dt.datetime(2026, 12, 1, 8, 0) + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 10)))
        service = Service(config, clock=clock)
        tickets = [service.create(title=f"t{seed}-{i}", by="alice", priority=rng.choice((None, 1, 2, 3, 4)),
                                  requester_email=rng.choice(("r@example.org", "")))
                   for i in range(5)]
        _assert_agrees(service, [t.id for t in tickets], rng)
        for n in range(40):
            clock.advance(minutes=rng.choice((0, 1, 17, 60 * 3, 60 * 20, 60 * 50)))
            ticket = rng.choice(tickets)
            _act(service, rng, ticket, seed * 1000 + n)
            _assert_agrees(service, [ticket.id], rng)
        assert list(check(config, clock())) == []


def test_the_sql_filters_pick_the_cards_the_rules_do(config, db):
    rng = random.Random(7)
    clock = Clock(dt.datetime(2026, 12, 21, 10, 0))
    service = Service(config, clock=clock)
    for i in range(12):
        clock.advance(minutes=rng.randint(0, 600))
        ticket = service.create(title=f"t{i}", by="alice", priority=rng.choice((None, 1, 2, 3)),
                                requester_email="r@example.org")
        _act(service, rng, ticket, i)
    for days in (0, 1, 2, 5, 9):
        at = clock() + dt.timedelta(days=days, minutes=rng.randint(0, 600))
        open_ids = [t.id for t in Ticket.select().where(Ticket.state != "closed")]
        exact = {i: card_state(s) for i, s in statuses(config, open_ids, at).items()}
        for which in WHICH:
            chosen = {t.id for t in Ticket.select().where(condition(which, at) & (Ticket.state != "closed"))}
            assert chosen == {i for i, state in exact.items() if state in FILTERS[which]}, (which, at)
        assert any(exact.values())


def _other_hours(config) -> object:
    policy: SlaPolicy = config.sla
    shorter = dataclasses.replace(policy.calendar, hours=((10 * 60, 16 * 60),), _holiday_years={}, _day_windows={},
                                  _before={})
    return dataclasses.replace(config, sla=msgspec.structs.replace(policy, calendar=shorter))


def test_a_config_change_is_seen_and_rebuild_fixes_it(config, db):
    clock = Clock(dt.datetime(2026, 12, 14, 9, 30))
    service = Service(config, clock=clock)
    for i in range(6):
        service.create(title=f"t{i}", by="alice", priority=(i % 4) + 1, requester_email="r@example.org")
        clock.advance(minutes=45)
    service.move("SET-1", "closed", by="alice")
    assert list(check(config, clock())) == []
    changed = _other_hours(config)
    wrong = list(check(changed, clock()))
    assert len(wrong) == 6  # every ticket: its digest, and the open ones' instants too
    assert due_freshness(changed, clock(), auto=0) == STALE
    assert rebuild(changed, clock(), chunk=2) == 5
    assert list(check(changed, clock())) == []
    assert due_freshness(changed, clock(), auto=0) is None
    # A few stale tickets are recomputed on the spot rather than reported.
    assert due_freshness(config, clock()) is None
    assert list(check(config, clock())) == []


def test_import_stores_the_instants(config, db, tmp_path):
    from app.board.transfer import import_file

    clock = Clock(dt.datetime(2026, 12, 14, 9, 30))
    service = Service(config, clock=clock)
    path = tmp_path / "in.csv"
    path.write_text("title,key,state,priority,created\n"
                    "Old one,SET-50,ready,P2,2026-12-01T10:00:00\n"
                    "Closed one,SET-51,closed,P3,2026-12-02T10:00:00\n"
                    "New one,SET-52,todo,,2026-12-14T09:00:00\n"
                    "Over Christmas,SET-53,todo,P4,2026-12-24T16:00:00\n", encoding="utf-8")
    assert import_file(service, path) == 4
    # A JSON export's ticket without history: its first response comes with it.
    answered = tmp_path / "in.json"
    answered.write_text(json.dumps([{"title": "Answered", "key": "SET-60", "state": "in_progress", "priority": "P1",
                                     "created": "2026-12-14T09:00:00", "first_response": "2026-12-14T09:20:00.000001"},
                                    {"title": "Not yet", "key": "SET-61", "state": "ready", "priority": "P1",
                                     "created": "2026-12-14T09:00:00.5"}]), encoding="utf-8")
    assert import_file(service, answered) == 2
    assert list(check(config, clock())) == []
    held = {t.key: stored([t.id])[t.id] for t in Ticket.select()}
    assert held["SET-52"][:2] == (dt.datetime(2026, 12, 14, 15, 0), dt.datetime(2026, 12, 14, 17, 0))  # 09:00 + 8h, warned 2h before
    assert held["SET-52"][2]
    # One working day from the 24th at 16:00: past the bank holidays and the team's own 29th.
    assert held["SET-53"][:2] == (dt.datetime(2026, 12, 30, 14, 0), dt.datetime(2026, 12, 30, 16, 0))
    assert held["SET-51"][:2] == (None, None)
    # P1 answered at 09:20: the next update is due 4 working hours on, warned at 3; unanswered, 1 working hour.
    assert held["SET-60"][:2] == (dt.datetime(2026, 12, 14, 12, 20, 0, 1), dt.datetime(2026, 12, 14, 13, 20, 0, 1))
    assert held["SET-61"][:2] == (dt.datetime(2026, 12, 14, 9, 45, 0, 500000), dt.datetime(2026, 12, 14, 10, 0, 0, 500000))


def test_rebuild_after_an_import_agrees_with_check(config, db, tmp_path):
    # Enough fresh tickets for `rows_due`'s batch; `check` computes each one by one, so it checks the batch.
    from app.board.transfer import import_file
    from app.sla.source import BATCH_FROM

    rng = random.Random(16)
    clock = Clock(dt.datetime(2026, 12, 18, 16, 30))
    service = Service(config, clock=clock)
    path = tmp_path / "in.csv"
    lines = [f"t{i},SET-{100 + i},r@example.org,{'todo' if i == 0 else rng.choice(('todo', 'ready', 'in_progress', 'on_hold', 'resolved', 'closed'))},"
             f"{rng.choice(('', 'P1', 'P2', 'P4'))},"
             f"{(dt.datetime(2026, 12, 17) + dt.timedelta(minutes=rng.randrange(60 * 24 * 14))).isoformat()}"
             for i in range(2 * BATCH_FROM)]
    path.write_text("title,key,requester,state,priority,created\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert import_file(service, path) == 2 * BATCH_FROM
    service.reply("SET-100", "On it.", by="alice")  # one that is no longer fresh
    changed = _other_hours(config)
    assert len(list(check(changed, clock()))) == 2 * BATCH_FROM
    rebuild(changed, clock())
    assert list(check(changed, clock())) == []


# -- the command line ---------------------------------------------------------------


def test_sla_commands_as_a_script_uses_them(run_cli, tmp_path):
    now = "2026-12-14T10:00"
    assert run_cli("ticket", "add", "Login fails", "--priority", "P1", now=now).returncode == 0
    assert run_cli("ticket", "add", "Slow page", now=now).returncode == 0
    listed = run_cli("ticket", "list", "--sla", "at-risk", now="2026-12-14T10:50")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["SET-1"]  # P1: 1 working hour, 45 min in
    breached = run_cli("ticket", "list", "--sla", "breached", now="2026-12-15T10:01")
    assert [line.split()[0] for line in breached.stdout.splitlines()] == ["SET-1", "SET-2"]
    ok = run_cli("sla", "check")
    assert ok.returncode == 0 and "0 mismatches" in ok.stdout
    # Another calendar in config.yaml: check says so and exits 1; rebuild fixes it.
    other = tmp_path / "other.yaml"
    other.write_text((ROOT / "config.yaml").read_text(encoding="utf-8")
                     .replace('working_hours: "09:00-17:00"', 'working_hours: "10:00-16:00"'), encoding="utf-8")
    stale = run_cli("sla", "check", config=other)
    assert stale.returncode == 1 and "2 mismatches; run `triageboard sla rebuild`" in stale.stdout
    rebuilt = run_cli("sla", "rebuild", config=other)
    assert rebuilt.returncode == 0 and "recomputed the due times of 2 open tickets" in rebuilt.stdout
    assert "recomputed 2 tickets" in rebuilt.stderr
    assert run_cli("sla", "check", config=other).returncode == 0
