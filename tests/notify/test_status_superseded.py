"""One status mail for the status the requester will see: an undelivered one is superseded, not sent.

A move and its undo queued "now In Progress" and "now Open" while the first
was undelivered, and the requester got both, to end where they started.
"""

from __future__ import annotations

from app.notify.delivery import Deliverer
from app.service import Service
from data.models import Notification

from notify_support import Clock, MailServer


def statuses() -> list[tuple[str, str]]:
    return [(n.subject, n.status) for n in Notification.select().where(Notification.kind == "status")
            .order_by(Notification.id)]


def new_ticket(service: Service):
    return service.create(title="Checkout returns 502", requester_email="rita@customer.example",
                          requester_name="Rita Reyes", state="ready", by="alice")


def test_a_move_and_its_undo_before_delivery_mail_nobody(service: Service, mail_server: MailServer, clock: Clock):
    ticket = new_ticket(service)
    service.move(ticket.key, "in_progress", by="bob")  # Open -> In Progress: queued
    service.undo(ticket.key, by="bob")  # back to Open, what the requester last saw
    assert statuses() == [("[SET-1] Your request is now In Progress", "superseded")]  # kept for the record
    assert Deliverer(service.config, clock=clock).run_once().sent == []
    assert mail_server.inbox == []


def test_two_changes_before_delivery_send_only_the_latest(service: Service, mail_server: MailServer, clock: Clock):
    ticket = new_ticket(service)
    service.move(ticket.key, "in_progress", by="bob")
    service.move(ticket.key, "on_hold", hold_reason="requester", by="bob", reason="which browser?")
    Deliverer(service.config, clock=clock).run_once()
    assert [m.message["Subject"] for m in mail_server.inbox] == ["[SET-1] Your request is now Pending"]
    body = mail_server.inbox[0].message.get_body(("plain",)).get_content()
    assert "changed from Open to Pending" in body  # from what the requester last saw
    assert [s for _, s in statuses()] == ["superseded", "sent"]


def test_a_delivered_mail_is_followed_by_the_undo(service: Service, mail_server: MailServer, clock: Clock):
    ticket = new_ticket(service)
    service.move(ticket.key, "in_progress", by="bob")
    Deliverer(service.config, clock=clock).run_once()  # the requester saw In Progress
    service.undo(ticket.key, by="bob")
    Deliverer(service.config, clock=clock).run_once()
    assert [m.message["Subject"] for m in mail_server.inbox] == ["[SET-1] Your request is now In Progress",
                                                                 "[SET-1] Your request is now Open"]
