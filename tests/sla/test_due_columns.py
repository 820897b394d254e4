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
import pytest
from zoneinfo import ZoneInfo

from app.config.durations import parse_duration
from app.notify.inbound import Reply
from app.service import Refused, Service
from app.sla.due import matches
from app.sla.labels import FILTERS, card_sla, card_state
from app.sla.calendar import parse_working_hours
from app.sla.source import STALE, check, due_freshness, rebuild, row_due, statuses, ticket_times
from app.sla.settings import SlaPolicy, Targets
from app.sla.targets import evaluate
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
    aware_now = now.replace(tzinfo=dt.timezone.utc)
    for ticket_id in ticket_ids:
        row = inputs[ticket_id]
        warn, due, _ = held[ticket_id]
        assert (warn, due) == row_due(config, row, now), row.key
        if row.state == config.workflow.final:
            continue
        times = ticket_times(config.workflow, row)
        instants = [now, now + dt.timedelta(minutes=rng.randint(1, 60 * 24 * 20))]
        # Between now and each target's own due instant (where the card may change target), and well past both.
        dues = [_naive(t.due) for t in evaluate(config.sla, times, aware_now).targets]
        instants += [now + (max(dues) - now) * rng.random() for _ in range(3)] if max(dues) > now else []
        instants.append(max(now, *dues) + dt.timedelta(days=rng.randint(1, 10)))
        for edge in (warn, due, *dues):
            if edge is not None and edge >= now + US:
                instants += [edge - US, edge, edge + US]
        for at in instants:
            shown = evaluate(config.sla, times, at.replace(tzinfo=dt.timezone.utc)).next.state
            for which in WHICH:
                assert matches(which, warn, due, at) == (shown in FILTERS[which]), (row.key, which, at, shown)


def _naive(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _mixed(config, zone: str, hours: str, country: str, days, defaults: tuple[str, str],
           priorities: dict[int, tuple[str, str]], warn_at: float):
    calendar = dataclasses.replace(config.sla.calendar, tz=ZoneInfo(zone), hours=parse_working_hours(hours),
                                   country=country, subdivision=None, working_days=frozenset(days),
                                   _holiday_years={}, _day_windows={}, _before={})
    targets = {level: Targets(first_response=parse_duration(a), update_every=parse_duration(b))
               for level, (a, b) in {0: defaults, **priorities}.items()}
    policy = msgspec.structs.replace(config.sla, calendar=calendar, targets=targets.pop(0), priorities=targets,
                                     warn_at=warn_at)
    return dataclasses.replace(config, sla=policy)


POLICIES = {
    # The repo's config: working targets throughout (the control: the card's target follows from the lengths).
    "repo": (lambda config: config, dt.datetime(2026, 12, 1, 8, 0)),
    # 2i2c's words: respond within one working day, update every day or two of the calendar; P2 the reverse
    # (a wall-clock day to respond, then every 4 working hours); P3 and P4 on one kind of clock each.
    # Over the end of British Summer Time (25 October).
    "london_mixed": (lambda config: _mixed(
        config, "Europe/London", "09:00-17:00", "GB", range(5), ("1 working day", "2d"),
        {1: ("1 working hour", "4h"), 2: ("1d", "4 working hours"), 3: ("1 working day", "2 working days"),
         4: ("8h", "1d")}, 0.25), dt.datetime(2026, 10, 20, 8, 0)),
    # Split hours and a Saturday in New York, over the end of daylight saving time (1 November).
    "new_york_mixed": (lambda config: _mixed(
        config, "America/New_York", "09:00-12:30, 13:30-17:30", "US", range(6), ("4h", "1 working day"),
        {1: ("1 working hour", "2h"), 2: ("1d", "2 working hours"), 3: ("2 working hours", "3 working hours")},
        1 / 3), dt.datetime(2026, 10, 27, 12, 0)),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_stored_instants_follow_random_histories(config, db, name):
    configure, start = POLICIES[name]
    config = configure(config)
    for seed in range(4):
        rng = random.Random(f"{name}{seed}")
        clock = Clock(start + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 10)))
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


def test_a_weekend_breaches_the_wall_clock_update_before_the_working_first_response(config, db):
    # "Respond within one working day, update every day or two": first_response 1 working day,
    # update_every 2d of wall clock. Created Friday 17:30 (after hours, GMT = UTC), unanswered:
    # first response due Monday 17:00 (09:00 + 8 working hours), warned at 15:00; the update due
    # Sunday 17:30, warned 12 hours before, at 05:30. The card is breached from Sunday 17:30.
    config = POLICIES["london_mixed"][0](config)
    clock = Clock(dt.datetime(2026, 12, 4, 17, 30))
    ticket = Service(config, clock=clock).create(title="Weekend", by="alice", requester_email="r@example.org")
    assert stored([ticket.id])[ticket.id][:2] == (dt.datetime(2026, 12, 6, 5, 30), dt.datetime(2026, 12, 6, 17, 30))
    first, update = statuses(config, [ticket.id], dt.datetime(2026, 12, 6, 20, 0))[ticket.id].targets
    assert (first.due, update.due) == (dt.datetime(2026, 12, 7, 17, 0, tzinfo=config.sla.calendar.tz),
                                       dt.datetime(2026, 12, 6, 17, 30, tzinfo=config.sla.calendar.tz))
    assert (first.state, update.state) == ("ok", "breached")  # no working time has passed since Friday
    cards = {at: card_sla(statuses(config, [ticket.id], at)[ticket.id]) for at in (
        dt.datetime(2026, 12, 6, 5, 29), dt.datetime(2026, 12, 6, 6, 0), dt.datetime(2026, 12, 6, 20, 0))}
    assert list(cards.values()) == [("8h left", "ok"), ("11h left", "warning"), ("overdue 2h 30m", "breached")]
    for at, (_, state) in cards.items():
        for which in WHICH:
            listed = Ticket.select().where(condition(which, at) & (Ticket.id == ticket.id)).exists()
            assert listed == (state in FILTERS[which]), (which, at)


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


def test_instants_stored_under_older_rules_read_as_stale(config, db, monkeypatch):
    # An upgrade that changes how the instants are computed bumps RULES_VERSION: same config, new digest.
    import app.sla.due as due

    clock = Clock(dt.datetime(2026, 12, 14, 9, 30))
    monkeypatch.setattr(due, "RULES_VERSION", due.RULES_VERSION - 1)
    service = Service(config, clock=clock)
    ids = [service.create(title=f"t{i}", by="alice", requester_email="r@example.org").id for i in range(3)]
    older = {i: held[2] for i, held in stored(ids).items()}
    monkeypatch.undo()
    assert len(list(check(config, clock()))) == 3
    assert due_freshness(config, clock(), auto=0) == STALE
    assert due_freshness(config, clock()) is None  # a small board: recomputed on the spot
    assert all(held[2] != older[i] for i, held in stored(ids).items())
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
