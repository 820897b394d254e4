"""Two sessions on one card: the second is refused, told why, and given the fresh card."""

from __future__ import annotations

import threading

import pytest

from app.service import Conflict, Refused, Service
from data.models import History, Ticket


def stale_pair(service: Service, make_tickets, state: str = "in_progress") -> tuple[str, int]:
    key = make_tickets(1)[0].key
    for target in {"in_progress": ["ready", "in_progress"], "closed": ["closed"]}[state]:
        service.move(key, target, by="alice")
    return key, service.get(key).version


def test_second_move_of_one_card_is_refused_with_the_fresh_card(service, make_tickets):
    key, seen = stale_pair(service, make_tickets)  # both boards show version `seen`
    service.move(key, "resolved", by="bob", expected_version=seen)
    with pytest.raises(Conflict) as refused:
        service.move(key, "on_hold", by="alice", hold_reason="external", expected_version=seen)
    assert str(refused.value).startswith(f"{key} was moved to Resolved by bob a moment ago")
    fresh = refused.value.ticket
    assert (fresh.state, fresh.version) == ("resolved", seen + 1)
    assert Ticket.get(Ticket.key == key).state == "resolved"
    assert History.select().where(History.kind == "move").count() == 3  # alice's stale move left no trace


@pytest.mark.parametrize("write", ["undo", "solve", "edit"])
def test_every_write_checks_the_version(service, make_tickets, write):
    key, seen = stale_pair(service, make_tickets, "closed")
    service.edit(key, {"assignee": "bob"}, kind="assign", by="bob", expected_version=seen)
    calls = {
        "undo": lambda: service.undo(key, by="alice", expected_version=seen),
        "solve": lambda: service.solve(key, by="alice", expected_version=seen),
        "edit": lambda: service.edit(key, {"assignee": "alice"}, kind="assign", by="alice", expected_version=seen),
    }
    with pytest.raises(Conflict, match=rf"^{key} was changed \(assign\) by bob a moment ago") as refused:
        calls[write]()
    assert refused.value.ticket.assignee == "bob" and refused.value.ticket.version == seen + 1


def test_edit_records_what_changed(service, make_tickets):
    key = make_tickets(1)[0].key
    result = service.edit(key, {"assignee": "bob", "team": None}, kind="assign", by="alice")
    assert result.ticket.version == 2 and result.ticket.assignee == "bob"
    assert result.history.kind == "assign" and '"assignee": [null, "bob"]' in result.history.detail
    with pytest.raises(Refused, match="nope"):
        service.edit(key, lambda t: (_ for _ in ()).throw(Refused("nope")), kind="assign")
    assert service.get(key).version == 2


def test_simultaneous_moves_never_lose_either(db, service, make_tickets, team_config):
    """Real concurrency: N sessions race to move one card from the version they all saw."""
    key, seen = stale_pair(service, make_tickets)
    targets = ["resolved", "ready", "on_hold", "resolved"]
    start = threading.Barrier(len(targets))
    outcomes: list[str] = []

    def race(target: str) -> None:
        session = Service(team_config)  # its own connection (peewee: one per thread)
        try:
            start.wait()
            session.move(key, target, by=target, hold_reason="external" if target == "on_hold" else None,
                         expected_version=seen)
            outcomes.append("moved")
        except Conflict as exc:
            assert exc.ticket.version == seen + 1
            outcomes.append("conflict")
        finally:
            db.close()

    threads = [threading.Thread(target=race, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict"] * 3 + ["moved"]
    assert service.get(key).version == seen + 1
    assert History.select().where(History.kind == "move").count() == 3


def test_script_moves_without_a_version_queue_up(db, service, make_tickets, team_config):
    """Without an expected version each writer judges the rules on the committed state."""
    keys = [t.key for t in make_tickets(1)]
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def flip() -> None:
        session = Service(team_config)
        try:
            start.wait()
            for _ in range(10):
                state = session.get(keys[0]).state
                try:
                    session.move(keys[0], "on_hold" if state != "on_hold" else "todo", hold_reason="external")
                except Refused:  # the other writer got there first: a legitimate refusal
                    pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=flip) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    ticket = service.get(keys[0])
    moves = list(History.select().where(History.kind == "move").order_by(History.id))
    assert ticket.version == 1 + len(moves)
    state = "todo"
    for move in moves:
        assert move.from_state == state
        state = move.to_state
    assert state == ticket.state
