"""Triage through the one write path: gate, matrix, override, history, routing, assignment, order."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.service import Conflict, Refused, Service
from data.models import History, Ticket
from data.triage import column_order, untriaged_condition, untriaged_count

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 2, 9, 0)  # naive UTC, a Monday


@pytest.fixture
def clock():
    return {"now": NOW}


@pytest.fixture
def service(db, clock):
    return Service(load_config(ROOT / "config.yaml"), clock=lambda: clock["now"])


def entries(ticket, kind):
    return list(History.select().where((History.ticket == ticket.id) & (History.kind == kind)).order_by(History.id))


def complete(service, key, **extra):
    return service.triage(key, by="erin", impact="high", urgency="soon", actionable="yes", acknowledged=True, **extra)


def test_gate_refuses_with_the_missing_items_then_allows(service):
    ticket = service.create(title="Certificates not generated", by="alice")
    with pytest.raises(Refused) as refused:
        service.move(ticket.key, "ready", by="erin")
    message = str(refused.value)
    assert "triage is not complete" in message
    for item in ("actionable (not answered)", "priority (answer impact and urgency, or set one)",
                 "communication (requester not acknowledged)"):
        assert item in message
    service.triage(ticket.key, by="erin", impact="high", actionable="yes")
    with pytest.raises(Refused, match=r"missing priority \(answer urgency, or set one\), communication"):
        service.move(ticket.key, "ready", by="erin")
    service.triage(ticket.key, by="erin", urgency="normal", acknowledged=True)
    result = service.move(ticket.key, "ready", by="erin")
    assert result.ticket.state == "ready"


def test_priority_follows_the_configured_matrix(tmp_path, db, clock):
    text = (ROOT / "config.yaml").read_text()
    text = re.sub(r"\ntriage:.*?(?=\n\S|\Z)", "", text, flags=re.S) + """
triage:
  matrix:
    critical: [P1, P1, P1, P1]
    high:     [P1, P2, P2, P3]
    medium:   [P2, P3, P3, P4]
    low:      [P1, P4, P4, P4]
"""
    (tmp_path / "config.yaml").write_text(text)
    service = Service(load_config(tmp_path / "config.yaml"), clock=lambda: clock["now"])
    ticket = service.create(title="Exam day: proctoring fails for one course")
    assert service.triage(ticket.key, impact="low", urgency="immediate").ticket.priority == 1  # default says P3
    assert service.triage(ticket.key, urgency="low").ticket.priority == 4
    assert service.triage(ticket.key, impact="critical").ticket.priority == 1  # default says P2
    assert service.triage(ticket.key, impact=None).ticket.priority is None


def test_impact_from_questions_and_events_raise_urgency(service, clock):
    ticket = service.create(title="Hub slow before the workshop")
    result = service.triage(ticket.key, users_affected="subset", frequency="intermittent", urgency="low")
    assert (result.ticket.impact, result.ticket.priority) == ("low", 4)
    # The workshop is on Wednesday: within the 3-day event window, urgency becomes immediate.
    result = service.triage(ticket.key, deadline="2026-11-04")
    assert result.ticket.urgency == "low"  # the answer stays what the engineer said
    assert result.ticket.priority == 3  # low x immediate
    assert "urgency raised to immediate by the event on 2026-11-04" in result.history.reason
    # An explicit impact is never overwritten by the questions.
    service.triage(ticket.key, impact="medium")
    assert service.triage(ticket.key, service_down=True).ticket.impact == "medium"


def test_override_is_recorded_sticks_and_clears_back_to_the_matrix(service):
    ticket = service.create(title="Payments page blank")
    complete(service, ticket.key)  # high x soon = P2
    result = service.triage(ticket.key, by="erin", priority="P4")
    assert (result.ticket.priority, result.ticket.priority_overridden) == (4, True)
    detail = json.loads(result.history.detail)
    assert detail["changes"]["priority"] == ["P2", "P4"]
    assert detail["changes"]["priority_overridden"] == [False, True]
    assert "priority overridden to P4" in result.history.reason
    assert service.triage(ticket.key, urgency="immediate").ticket.priority == 4  # the override sticks
    result = service.triage(ticket.key, by="erin", clear_override=True)
    assert (result.ticket.priority, result.ticket.priority_overridden) == (1, False)  # high x immediate
    assert "priority override cleared" in result.history.reason


def test_p1_starts_the_escalation_clock_and_leaving_it_unacknowledged_stops_it(service, clock):
    ticket = service.create(title="LMS down")
    clock["now"] = NOW + dt.timedelta(minutes=5)
    result = service.triage(ticket.key, by="erin", service_down=True, urgency="immediate")
    assert result.ticket.priority == 1 and result.ticket.needs_ack
    assert result.ticket.page_started == NOW + dt.timedelta(minutes=5)
    assert "escalation clock started" in result.history.reason
    result = service.triage(ticket.key, priority="P3")
    assert not result.ticket.needs_ack and "escalation clock stopped" in result.history.reason


def test_each_triage_is_one_history_row_with_old_and_new(service):
    ticket = service.create(title="Search returns nothing")
    result = service.triage(ticket.key, by="erin", reproducible="yes", eta="Friday", next_steps_sent=True)
    rows = entries(ticket, "triage")
    assert len(rows) == 1 and rows[0].by == "erin"
    assert json.loads(rows[0].detail)["changes"] == {
        "reproducible": [None, "yes"], "next_steps_sent": [False, True], "eta": [None, "Friday"]}
    assert result.ticket.version == ticket.version + 1
    unchanged = service.triage(ticket.key, by="erin", reproducible="yes")
    assert unchanged.history is None and len(entries(ticket, "triage")) == 1


def test_bad_answers_are_refused_with_the_accepted_words(service):
    ticket = service.create(title="x")
    with pytest.raises(Refused, match="impact must be one of critical, high, medium, low"):
        service.triage(ticket.key, impact="huge")
    with pytest.raises(Refused, match="deadline: expected a date"):
        service.triage(ticket.key, deadline="next week")
    with pytest.raises(Refused, match="priority must be P1"):
        service.triage(ticket.key, priority="P0")


def test_stale_version_is_a_conflict(service):
    ticket = service.create(title="x")
    service.triage(ticket.key, impact="low")
    with pytest.raises(Conflict, match="was changed \\(triage\\)"):
        service.triage(ticket.key, impact="high", expected_version=ticket.version)


def test_route_and_convert_a_non_bug_into_a_feature_request(service):
    ticket = service.create(title="Please add dark mode", kind="bug", bug_class="customer")
    result = service.route(ticket.key, by="erin", service="LMS", team="learner")
    assert (result.ticket.service, result.ticket.team) == ("LMS", "learner")
    result = service.route(ticket.key, by="erin", kind="feature")
    assert (result.ticket.kind, result.ticket.bug_class) == ("feature", None)
    assert result.history.reason == "converted to feature request"
    assert json.loads(result.history.detail)["changes"]["kind"] == ["bug", "feature"]
    with pytest.raises(Refused, match="unknown service"):
        service.route(ticket.key, service="Nope")
    with pytest.raises(Refused, match="a bug class only applies to a bug"):
        service.route(ticket.key, bug_class="hotfix")


def test_to_do_is_ordered_by_the_priority_of_work_then_priority_then_rank(service):
    made = {}
    for title, kind, bug_class, priority in [
        ("question", "question", None, 1), ("bug other", "bug", "other", 1), ("bug customer", "bug", "customer", 2),
        ("escalation", "escalation", None, 3), ("bug release", "bug", "release", 4),
        ("incident P2", "incident", None, 2), ("bug hotfix", "bug", "hotfix", 3), ("incident P1", "incident", None, 1),
        ("feature", "feature", None, 1), ("incident P2 later", "incident", None, 2),
    ]:
        ticket = service.create(title=title, kind="bug", by="alice")
        service.route(ticket.key, kind=kind, bug_class=bug_class)
        service.triage(ticket.key, priority=priority)
        made[title] = ticket.key
    todo = Ticket.select().where(Ticket.state == "todo").order_by(Ticket.sort_key, Ticket.rank, Ticket.id)
    assert [t.title for t in todo] == [
        "incident P1", "incident P2", "incident P2 later", "escalation", "bug hotfix", "bug release",
        "bug customer", "bug other", "question", "feature"]
    # A manual rank orders within a class and priority, and persists.
    service.rank(made["incident P2 later"], "up", by="erin")
    todo = Ticket.select().where(Ticket.state == "todo").order_by(*column_order("work"))
    assert [t.title for t in todo][:3] == ["incident P1", "incident P2 later", "incident P2"]
    with pytest.raises(Refused, match="already at the top of its priority group"):
        service.rank(made["incident P2 later"], "up")
    assert entries(service.get(made["incident P2 later"]), "rank")[0].reason == "moved up"


def test_manual_rank_mode_moves_across_the_whole_column(service):
    keys = [service.create(title=f"t{i}").key for i in range(4)]
    service.route(keys[3], kind="incident")
    service.rank(keys[0], "bottom", mode="manual")
    service.rank(keys[2], position=0, mode="manual")
    service.rank(keys[1], "down", mode="manual")
    manual = Ticket.select().where(Ticket.state == "todo").order_by(*column_order("manual"))
    assert [t.key for t in manual] == [keys[2], keys[3], keys[1], keys[0]]
    with pytest.raises(Refused, match="already at the bottom in To Do"):
        service.rank(keys[0], "down", mode="manual")


def test_five_suggested_assignments_in_a_row_spread_across_the_team(service, clock):
    # Open work: bob 2, carol 1, dan 1, frank 1, grace 1, erin 0; alice 0 (her one ticket is Closed, not open).
    # Each suggestion is accepted (+1 open work); the previous person asked is skipped; ties alphabetical.
    #   1. alice 0 = erin 0                                  -> alice (alphabetical)   alice 1
    #   2. erin 0                                            -> erin                   erin 1
    #   3. alice 1 = carol = dan = frank = grace; erin last  -> alice                  alice 2
    #   4. carol 1 = dan = erin = frank = grace; alice last  -> carol                  carol 2
    #   5. dan 1 = erin = frank = grace; carol last          -> dan                    dan 2
    # bob (2 open) is never asked; nobody is asked twice in a row.
    setup = {"bob": 2, "carol": 1, "dan": 1, "frank": 1, "grace": 1}
    for handle, count in setup.items():
        for _ in range(count):
            service.create(title=f"{handle}'s work", assignee=handle)
    closed = service.create(title="alice's finished work", assignee="alice")
    Ticket.update(state="closed").where(Ticket.id == closed.id).execute()
    asked = []
    for number in range(5):
        clock["now"] += dt.timedelta(minutes=1)
        ticket = service.create(title=f"new {number}")
        # a fresh Service each time, as if a different engineer's session: fairness lives in the database
        session = Service(service.config, clock=lambda: clock["now"])
        suggestion = session.suggest_assignee(ticket.key, by="erin")
        session.assign(ticket.key, suggestion.handle, by="erin")
        asked.append(suggestion.handle)
    assert asked == ["alice", "erin", "alice", "carol", "dan"]
    last = entries(service.get(ticket.key), "suggest")[0]
    assert json.loads(last.detail)["asked"] == "dan" and json.loads(last.detail)["last_asked"] == "carol"


def test_unavailable_members_are_not_suggested(tmp_path, db, clock):
    text = (ROOT / "config.yaml").read_text().replace(
        "{handle: alice, name: Alice Adams,   email: alice@example.org}",
        "{handle: alice, name: Alice Adams,   email: alice@example.org, available: false}")
    (tmp_path / "config.yaml").write_text(text)
    service = Service(load_config(tmp_path / "config.yaml"), clock=lambda: clock["now"])
    ticket = service.create(title="x")
    assert service.suggest_assignee(ticket.key).handle == "bob"
    result = service.assign(ticket.key, "alice", by="erin")
    assert result.warnings == ("alice is marked unavailable in the config",)
    assert json.loads(entries(ticket, "assign")[0].detail) == {"from": None, "to": "alice"}


def test_untriaged_filter_and_count_agree_with_the_gate(service):
    keys = [service.create(title=f"t{i}").key for i in range(5)]
    complete(service, keys[0])
    complete(service, keys[1])
    service.move(keys[1], "ready")
    service.triage(keys[2], actionable="no", priority="P3", acknowledged=True)
    service.triage(keys[3], actionable="yes", acknowledged=True)  # no priority yet
    listed = {t.key for t in Ticket.select().where(untriaged_condition("todo"))}
    expected = {t.key for t in Ticket.select() if t.state == "todo" and service.triage_missing(t)}
    assert listed == expected == {keys[2], keys[3], keys[4]}
    assert untriaged_count("todo") == 3
