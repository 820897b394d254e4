"""The requester's page through the write path: the link, what it shows, reply, It's fixed, Not fixed, a fresh link."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.service import NotFound, Refused, Service
from app.web import links
from data.models import History, Notification, Ticket

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 2, 9, 0)
SERVE = "\nserve:\n  public_url: https://board.example.org/\n  link_lifetime: 2d\n"


@pytest.fixture
def clock():
    return {"now": NOW}


@pytest.fixture
def service(db, clock, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text() + SERVE)
    return Service(load_config(path), clock=lambda: clock["now"])


def released(service, title="Certificates not generated"):
    ticket = service.create(title=title, by="alice", requester_email="rita@example.org", requester_name="Rita")
    service.triage(ticket.key, by="erin", impact="high", urgency="soon", actionable="yes", acknowledged=True)
    service.assign(ticket.key, "bob", by="erin")
    for column in ("ready", "in_progress", "resolved", "closed"):
        service.move(ticket.key, column, by="bob")
    return Ticket.get(Ticket.key == ticket.key)


def token_of(body: str) -> str:
    line = next(line for line in body.splitlines() if "/r/" in line)
    return line.split("https://board.example.org/r/", 1)[1].strip()


def test_every_mail_to_the_requester_links_their_page_and_the_link_opens_only_that_ticket(service):
    ticket = released(service)
    other = service.create(title="Other", by="alice", requester_email="sam@example.org")
    mails = list(Notification.select().where((Notification.ticket == ticket.id)
                                             & (Notification.recipient == "rita@example.org")))
    assert mails and all("Your request's page: https://board.example.org/r/" in m.body for m in mails)
    team_mails = Notification.select().where((Notification.ticket == ticket.id)
                                             & (Notification.recipient != "rita@example.org"))
    assert all("/r/" not in m.body for m in team_mails)
    token = token_of(mails[-1].body)
    assert service.ticket_for_link(token).key == ticket.key
    # Another ticket's secret does not verify it, nor does a token with the other key written in.
    assert not links.verify(token, other.key, Ticket.get_by_id(other.id).page_secret, 3600)
    forged = links.mint(other.key, Ticket.get_by_id(ticket.id).page_secret)
    with pytest.raises(NotFound):
        service.ticket_for_link(forged)
    with pytest.raises(NotFound):
        service.ticket_for_link(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_an_old_link_is_expired_not_forged(service, monkeypatch):
    ticket = released(service)
    token = links.mint(ticket.key, ticket.page_secret)
    import time
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400)
    with pytest.raises(links.Expired):
        service.ticket_for_link(token)


def test_the_page_shows_the_public_conversation_only(service):
    ticket = released(service)
    service.note(ticket.key, "internal: customer is difficult", by="bob")
    service.reply(ticket.key, "We released the fix.", by="bob")
    view = service.public_view(Ticket.get_by_id(ticket.id))
    assert (view.key, view.status, view.released) == (ticket.key, "Released", True)
    texts = [e.text for e in view.entries]
    assert "We released the fix." in texts and "Request received" in texts
    assert "Open → In Progress" in texts and "Development Complete → Released" in texts
    everything = json.dumps([list(e.__struct_fields__) and [e.who, e.text] for e in view.entries])
    assert "internal" not in everything and "bob@example.org" not in everything and "high" not in everything
    assert any(e.who == "Bob Brown (support team)" for e in view.entries)


def test_a_reply_from_the_page_is_an_inbound_reply_and_is_recorded_once(service):
    ticket = service.create(title="Need logs", by="alice", requester_email="rita@example.org")
    service.triage(ticket.key, by="erin", impact="high", urgency="soon", actionable="yes", acknowledged=True)
    service.assign(ticket.key, "bob", by="erin")
    service.move(ticket.key, "ready", by="bob")
    service.move(ticket.key, "in_progress", by="bob")
    service.move(ticket.key, "on_hold", by="bob", hold_reason="requester")
    result = service.requester_reply(ticket.key, "Here are the logs", nonce="n1")
    assert result.moved is not None and result.ticket.state == "in_progress"
    assert result.notified.recipient == "bob@example.org"
    again = service.requester_reply(ticket.key, "Here are the logs", nonce="n1")
    assert again.duplicate
    assert History.select().where((History.ticket == ticket.id) & (History.kind == "comment")).count() == 1
    with pytest.raises(Refused):
        service.requester_reply(ticket.key, "   ", nonce="n2")


def test_its_fixed_solves_and_tells_the_assignee(service):
    ticket = released(service)
    service.requester_fixed(ticket.key)
    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.solved and service.status_of(fresh) == "Solved"
    solve = History.get((History.ticket == ticket.id) & (History.kind == "solve"))
    assert solve.by == "rita@example.org"
    assert Notification.select().where((Notification.kind == "solved")
                                       & (Notification.recipient == "bob@example.org")).count() == 1
    with pytest.raises(Refused):
        service.requester_not_fixed(ticket.key)


def test_not_fixed_reopens_with_the_reason_and_tells_the_assignee(service):
    ticket = released(service)
    service.requester_not_fixed(ticket.key)
    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.state == "in_progress"
    move = History.select().where((History.ticket == ticket.id) & (History.kind == "move")) \
        .order_by(History.id.desc()).first()
    assert (move.reason, move.by) == ("reopened by requester", "rita@example.org")
    told = Notification.get((Notification.kind == "reopened"))
    assert told.recipient == "bob@example.org" and "not fixed" in told.body
    with pytest.raises(Refused):
        service.requester_fixed(ticket.key)


def test_a_fresh_link_goes_only_to_the_requester_address(service):
    ticket = released(service)
    assert service.send_page_link(ticket.key, "mallory@example.org") is None
    assert service.send_page_link("SET-999", "rita@example.org") is None
    sent = service.send_page_link(ticket.key, "Rita@Example.org")
    assert sent is not None
    mail = Notification.get(Notification.kind == "page_link")
    assert mail.recipient == "rita@example.org"
    assert service.ticket_for_link(token_of(mail.body)).key == ticket.key


def test_without_a_public_url_mails_carry_no_link(db):
    service = Service(load_config(ROOT / "config.yaml"), clock=lambda: NOW)
    ticket = service.create(title="x", by="alice", requester_email="rita@example.org")
    service.reply(ticket.key, "Hello", by="bob")
    body = Notification.get(Notification.kind == "response").body
    assert "/r/" not in body and "Your request's page" not in body
