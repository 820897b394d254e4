"""Undo reverses the ticket's last change whatever it was, and one person's quick edits of one answer are one entry."""

import pytest

from app.service import Refused
from app.service.triage import COALESCE_SECONDS
from data.models import History, Ticket


def make(service, **fields):
    from tests.core.conftest import triaged
    return triaged(service, **fields)


def entries(key, kind):
    return list(History.select().join(Ticket).where((Ticket.key == key) & (History.kind == kind)).order_by(History.id))


def test_undo_puts_back_a_triage_answer_as_a_new_entry(service, clock):
    key = make(service)
    before = Ticket.get(Ticket.key == key)
    clock.advance(minutes=1)
    service.triage(key, by="alice", urgency="immediate")
    result = service.undo(key, by="alice")
    ticket = Ticket.get(Ticket.key == key)
    assert (ticket.urgency, ticket.priority) == (before.urgency, before.priority)
    first, undo = entries(key, "triage")
    assert undo.undoes == first.id and undo.reason.startswith("undo: set urgency")
    assert result.history.id == undo.id
    with pytest.raises(Refused, match="already an undo"):
        service.undo(key, by="alice")


def test_undo_puts_back_an_assignment(service):
    key = make(service)
    service.assign(key, "bob", by="alice")
    service.assign(key, "carol", by="alice")
    service.undo(key, by="alice")
    assert Ticket.get(Ticket.key == key).assignee == "bob"
    assert [e.reason for e in entries(key, "assign")] == ["assigned to bob", "assigned to carol", "undo: assigned to bob"]


def test_undo_takes_the_latest_change_not_the_latest_move(service):
    key = make(service)
    service.move(key, "ready", by="alice")
    service.assign(key, "bob", by="alice")
    service.undo(key, by="alice")
    ticket = Ticket.get(Ticket.key == key)
    assert (ticket.state, ticket.assignee) == ("ready", None)


def test_cycling_one_answer_quickly_writes_one_entry(service, clock):
    key = make(service)
    for urgency in ("immediate", "soon", "low"):  # u u u in triage mode
        service.triage(key, by="alice", urgency=urgency)
        clock.advance(seconds=1)
    rows = entries(key, "triage")
    assert len(rows) == 1
    assert rows[0].reason.startswith("set urgency low")
    clock.advance(seconds=COALESCE_SECONDS + 1)
    service.triage(key, by="alice", urgency="soon")  # later: a new decision
    service.triage(key, by="bob", urgency="normal")  # someone else: their own entry
    service.triage(key, by="bob", impact="low")  # another answer: its own entry
    assert len(entries(key, "triage")) == 4
    service.undo(key, by="bob")
    assert Ticket.get(Ticket.key == key).impact != "low"
