"""Fairness in the cycle report (#17, item 5): every figure against a hand count.

Cycle 0 of the repo's config runs Mon 2 Nov 00:00 to Mon 16 Nov 00:00 London (= UTC in
November). Rotations hand off on Mondays 09:00, shift 0 from Mon 2 Nov 09:00:
  SET primary  k=-1 dan (9 h to 2 Nov 09:00), k=0 alice 168 h, k=1 bob 159 h (cut at 16 Nov 00:00)
  SET backup   k=-1 alice 9 h, k=0 bob 168 h, k=1 carol 159 h
  SET lead     2w: k=-1 grace 9 h, k=0 frank 327 h
  Stewards     2w, 2 seats [alice, bob, dan, erin]: k=-1 dan + erin 9 h, k=0 erin + alice 327 h
So: alice 168+9+327 = 504, bob 159+168 = 327, carol 159, dan 9+9 = 18, erin 9+327 = 336,
frank 327, grace 9; spread 504 - 9 = 495.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.reports.report import cycle_of, gather, report_json
from app.service import Service
from tests.clock import Clock

@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 3, 10))


@pytest.fixture
def service(config, db, clock):
    return Service(config, clock=clock)


HOURS = {"alice": 504, "bob": 327, "carol": 159, "dan": 18, "erin": 336, "frank": 327, "grace": 9}


def history(service, clock):
    # A: P1 incident by bob, Tue 3 Nov 10:00, never acknowledged: primary alice, backup bob (15m), lead frank (30m).
    clock.set(2026, 11, 3, 10, 0)
    a = service.create(title="Checkout down", kind="incident", priority=1, by="bob")
    service.escalate_due()
    clock.set(2026, 11, 3, 10, 15)
    service.escalate_due()
    clock.set(2026, 11, 3, 10, 30)
    service.escalate_due()
    service.assign(a.key, "alice", by="bob")
    # B: P1 bug by carol, Tue 10 Nov 10:00 (k=1): primary bob, who acknowledges at once.
    clock.set(2026, 11, 10, 10, 0)
    b = service.create(title="Login fails", kind="bug", priority=1, by="carol")
    service.escalate_due()
    service.acknowledge(b.key, by="bob")
    clock.set(2026, 11, 10, 10, 30)
    service.escalate_due()
    service.assign(b.key, "bob", by="bob")
    # C: a feature by dan (project work: not support), assigned to erin.
    c = service.create(title="Dark mode", kind="feature", by="dan")
    service.assign(c.key, "erin", by="dan")
    # D: a question by dan, assigned to erin, then to carol, then erin again: erin once, carol once.
    d = service.create(title="How do I export?", kind="question", by="dan")
    service.assign(d.key, "erin", by="dan")
    service.assign(d.key, "carol", by="dan")
    service.assign(d.key, "erin", by="dan")
    # E: a bug by alice in cycle 1: not counted.
    clock.set(2026, 11, 16, 10, 0)
    e = service.create(title="Typo", kind="bug", by="alice")
    service.assign(e.key, "grace", by="alice")


def test_fairness_matches_the_hand_count(service, clock, config):
    history(service, clock)
    result = gather(config, cycle_of(config, 0), now=dt.datetime(2026, 11, 20))
    data = report_json(result)["fairness"]
    people = data["people"]
    assert list(people) == list(config.handles)
    assert {h: p["oncall_hours"] for h, p in people.items()} == HOURS
    assert {h: p["pages"] for h, p in people.items() if p["pages"]} == {"alice": 1, "bob": 2, "frank": 1}
    assert {h: p["asked"] for h, p in people.items() if p["asked"]} == {"bob": 1, "carol": 1, "dan": 1}
    assert {h: p["assigned"] for h, p in people.items() if p["assigned"]} == {"alice": 1, "bob": 1, "carol": 1,
                                                                              "erin": 1}
    assert data["spread"] == {"oncall_hours": 495, "pages": 2, "asked": 1, "assigned": 1}


def test_running_cycle_counts_on_call_hours_up_to_now(service, clock, config):
    # Wed 4 Nov 09:00: two days and nine hours into cycle 0. alice: primary 2 Nov 09:00 -> 48 h,
    # backup 9 h, stewards 48 h = 105; frank 48; grace 9; dan 18; erin 57.
    result = gather(config, cycle_of(config, 0), now=dt.datetime(2026, 11, 4, 9))
    hours = {h: p.oncall_hours for h, p in result.fairness.people.items()}
    assert hours == {"alice": 105, "bob": 48, "carol": 0, "dan": 18, "erin": 57, "frank": 48, "grace": 9}


def test_report_cli_shows_fairness_in_json_and_text(service, clock, run_cli):
    history(service, clock)
    result = run_cli("report", "--cycle", "0", "--json", now="2026-11-20T00:00+00:00")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fairness"]["spread"]["pages"] == 2
    text = run_cli("report", "--cycle", "0", now="2026-11-20T00:00+00:00")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Fairness"))
    table = [line.split() for line in lines[start + 1:start + 10]]
    assert table[0] == ["PERSON", "ON-CALL", "H", "PAGES", "ASKED", "ASSIGNED"]
    assert table[2] == ["bob", "327", "2", "1", "1"]
    assert table[8] == ["spread", "495", "2", "1", "1"]
