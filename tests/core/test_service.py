"""The one write path: a move, its history and its notification, together or not at all."""

import pytest

from app.service import Conflict, Refused
from data.models import History, Notification, Ticket




def make(service, **fields):
    from tests.core.conftest import triaged
    return triaged(service, **fields)


def test_move_records_history_and_queues_one_notification(service, clock):
    key = make(service)
    clock.advance(minutes=5)
    result = service.move(key, "ready", by="alice")
    assert result.ticket.state == "ready"
    clock.advance(minutes=5)
    service.move(key, "in_progress", by="bob")
    ticket = Ticket.get(Ticket.key == key)
    moves = list(History.select().where((History.ticket == ticket) & (History.kind == "move")).order_by(History.id))
    assert [(m.from_state, m.to_state, m.by) for m in moves] == [("todo", "ready", "alice"),
                                                                ("ready", "in_progress", "bob")]
    assert [(m.status_before, m.status_after) for m in moves] == [("Open", "Open"), ("Open", "In Progress")]
    # Open -> Open tells the requester nothing; Open -> In Progress does, once.
    mails = list(Notification.select().where(Notification.ticket == ticket))
    assert [m.subject for m in mails] == [f"[{key}] Your request is now In Progress"]
    assert mails[0].recipient == "req@example.org"
    assert ticket.first_response == clock.now


def test_forbidden_move_changes_nothing(service):
    key = make(service)
    with pytest.raises(Refused, match="allowed from To Do: Ready"):
        service.move(key, "resolved", by="alice")
    ticket = Ticket.get(Ticket.key == key)
    assert ticket.state == "todo" and ticket.version == 1
    assert History.select().where(History.kind == "move").count() == 0
    assert Notification.select().count() == 0


def test_untriaged_ticket_cannot_enter_ready(service):
    ticket = service.create(title="Vague report", by="alice")
    with pytest.raises(Refused, match=r"triage is not complete: missing actionable \(not answered\), priority"):
        service.move(ticket.key, "ready", by="alice")


def test_a_failure_inside_the_transaction_leaves_no_trace(service, monkeypatch):
    key = make(service)
    service.move(key, "ready", by="alice")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(History, "create", broken)
    with pytest.raises(RuntimeError):
        service.move(key, "in_progress", by="alice")
    ticket = Ticket.get(Ticket.key == key)
    assert ticket.state == "ready"
    assert Notification.select().count() == 0


def test_stale_version_is_refused_with_who_moved_it(service):
    key = make(service)
    seen = Ticket.get(Ticket.key == key).version
    service.move(key, "ready", by="bob")
    with pytest.raises(Conflict) as caught:
        service.move(key, "closed", by="alice", expected_version=seen)
    assert f"{key} was moved to Ready by bob" in str(caught.value)
    assert caught.value.ticket.state == "ready"
    assert Ticket.get(Ticket.key == key).state == "ready"


def test_hold_reason_decides_what_the_requester_sees(service):
    key = make(service)
    service.move(key, "on_hold", by="alice", hold_reason="requester")
    assert service.status_of(Ticket.get(Ticket.key == key)) == "Pending"
    service.move(key, "todo", by="alice")
    service.move(key, "on_hold", by="alice", hold_reason="external")
    assert service.status_of(Ticket.get(Ticket.key == key)) == "On Hold"


def test_undo_is_a_compensating_move_not_a_deletion(service):
    key = make(service)
    service.move(key, "closed", by="alice")
    result = service.undo(key, by="alice")
    assert result.ticket.state == "todo"
    moves = list(History.select().where(History.kind == "move").order_by(History.id))
    assert [(m.from_state, m.to_state) for m in moves] == [("todo", "closed"), ("closed", "todo")]
    assert moves[1].undoes == moves[0].id
    assert moves[0].reason == "solved by support"
    with pytest.raises(Refused, match="already an undo"):
        service.undo(key, by="alice")


def test_undo_restores_the_hold_reason(service):
    key = make(service)
    service.move(key, "on_hold", by="alice", hold_reason="requester")
    service.move(key, "ready", by="alice")
    service.undo(key, by="alice")
    ticket = Ticket.get(Ticket.key == key)
    assert (ticket.state, ticket.hold_reason) == ("on_hold", "requester")
    assert service.status_of(ticket) == "Pending"


def test_undo_after_solved_takes_back_the_confirmation_only(service):
    """`move KEY solved` then `undo KEY`: Released again, still in Closed (not `closed -> resolved`)."""
    key = make(service)
    service.move(key, "ready", by="alice")
    service.move(key, "in_progress", by="alice")
    service.move(key, "resolved", by="alice")
    service.move(key, "closed", by="alice")
    service.move(key, "solved", by="alice")
    result = service.undo(key, by="alice")
    ticket = Ticket.get(Ticket.key == key)
    assert (ticket.state, ticket.solved, service.status_of(ticket)) == ("closed", False, "Released")
    assert (result.history.status_before, result.history.status_after) == ("Solved", "Released")
    assert result.history.undoes is not None  # a compensating entry: the solve row is still there
    assert [h.kind for h in service.history(ticket)][-2:] == ["solve", "solve"]


def test_solved_after_release_and_reopen_clears_it(service):
    key = make(service)
    service.move(key, "closed", by="alice")
    with pytest.raises(Refused):
        service.move(make(service, title="other"), "solved", by="req")
    service.move(key, "solved", by="requester")
    ticket = Ticket.get(Ticket.key == key)
    assert service.status_of(ticket) == "Solved"
    service.move(key, "in_progress", by="requester")
    ticket = Ticket.get(Ticket.key == key)
    assert ticket.solved is False and service.status_of(ticket) == "In Progress"
    assert History.get(History.kind == "move", History.to_state == "in_progress").reason == "reopened"


def test_wip_limit_refuses_the_sixth_card(service):
    keys = [make(service, title=f"t{i}") for i in range(6)]
    for key in keys[:5]:
        service.move(key, "ready", by="a")
        service.move(key, "in_progress", by="a")
    service.move(keys[5], "ready", by="a")
    with pytest.raises(Refused, match=r"In Progress is at its WIP limit \(5/5\)"):
        service.move(keys[5], "in_progress", by="a")


def test_keys_count_up_with_the_board_prefix(service):
    assert [service.create(title=f"t{i}").key for i in range(3)] == ["SET-1", "SET-2", "SET-3"]


def test_unknown_values_are_refused(service):
    with pytest.raises(Refused, match="unknown service 'Billing'"):
        service.create(title="x", service="Billing")
    with pytest.raises(Refused, match="unknown team member 'zed'"):
        service.create(title="x", assignee="zed")
    with pytest.raises(Refused, match="needs a title"):
        service.create(title="   ")


@pytest.mark.parametrize("address", ["not-an-email", "m9@x.org\r\nBcc: x", "Ann <a@x.org>", "a@@x.org"])
def test_a_requester_address_is_checked_at_creation_and_edit(service, address):
    """Refused at the door, not at delivery (issues 19.12, 21.7): one validator for CLI, import and the dialog."""
    with pytest.raises(Refused, match="is not an e-mail address"):
        service.create(title="x", requester_email=address)
    assert Ticket.select().count() == 0
    ticket = service.create(title="x", requester_email="ann@example.org")
    with pytest.raises(Refused, match="is not an e-mail address"):
        service.edit(ticket.key, {"requester_email": address}, kind="edit")
    assert service.get(ticket.key).requester_email == "ann@example.org"


def test_nul_is_refused_at_creation_and_edit_on_every_backend(service):
    with pytest.raises(Refused, match="title: contains a NUL character"):
        service.create(title="bad\x00title")
    ticket = service.create(title="fine")
    with pytest.raises(Refused, match="description: contains a NUL character"):
        service.edit(ticket.key, {"description": "a\x00b"}, kind="edit")
    assert Ticket.select().count() == 1
