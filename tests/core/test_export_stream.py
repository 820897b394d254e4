"""The streamed export writes what `ticket_dict` says of each ticket, with its history, outbox rows and files."""

from __future__ import annotations

import io
import json

from app.board.serialize import attachment_dict, iso, ticket_dict
from app.board.transfer import NOTIFICATION_FIELDS, NOTIFICATION_TIMES, export_csv, export_json
from data.models import Attachment, History, Notification, Ticket
from tests.core.conftest import triaged


def reference(service) -> list[dict]:
    """The export as it was built before it streamed: one ticket, its models, `ticket_dict`."""
    tickets = []
    for ticket in Ticket.select().order_by(Ticket.number):
        history = list(History.select().where(History.ticket == ticket).order_by(History.id))
        data = ticket_dict(ticket, support_status=service.status_of(ticket), history=history)
        data["notifications"] = [{name: iso(getattr(row, name)) if name in NOTIFICATION_TIMES else getattr(row, name)
                                  for name in NOTIFICATION_FIELDS}
                                 for row in Notification.select().where(Notification.ticket == ticket)
                                 .order_by(Notification.id)]
        data["attachments"] = [attachment_dict(a) for a in
                               Attachment.select().where(Attachment.ticket == ticket).order_by(Attachment.id)]
        tickets.append(data)
    return tickets


def test_the_streamed_export_is_what_ticket_dict_says(service, clock):
    first = triaged(service, title="Checkout fails")
    service.move(first, "ready", by="alice")
    service.undo(first, by="alice")
    second = service.create(title="Ünïcode — and \"quotes\"", requester_email="ana@example.org", by="bob",
                            priority=1)
    service.link(first, "https://example.org/runbook", label="runbook", by="alice")
    Ticket.update(parent=Ticket.get(Ticket.key == first).id, solved=True).where(Ticket.id == second.id).execute()
    Attachment.create(ticket=second, name="log.txt", path="a/log.txt", size=12, message_id="<m@x>")
    Notification.create(ticket=second, kind="status", recipient="ana@example.org", subject="s", body="b",
                        message_id="<n1@x>", created=clock(), next_attempt=clock())
    service.create(title="Third", by="alice")
    out = io.StringIO()
    assert export_json(service, out) == 3
    exported = json.loads(out.getvalue())["tickets"]
    assert exported == reference(service)
    assert [t["key"] for t in exported] == ["SET-1", "SET-2", "SET-3"]
    assert exported[1]["parent"] == "SET-1" and exported[0]["links"][0]["label"] == "runbook"


def test_the_streamed_csv_export_has_every_ticket_in_number_order(service):
    for title in ("a", "=b", "c"):
        service.create(title=title, by="alice")
    out = io.StringIO()
    assert export_csv(service, out) == 3
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "'=b", "c"]
    assert lines[1].split(",")[-1] == iso(Ticket.get(Ticket.key == "SET-1").created)
