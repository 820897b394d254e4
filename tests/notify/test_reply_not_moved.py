"""A reply that cannot move its Pending ticket (In Progress at its WIP limit) still counts (issue 19.9)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.service import Service
from app.sla.source import statuses
from data.models import Ticket, utcnow

from notify_support import MailServer, make_service, run_cli
from test_notify_cli import pending_ticket, reply_to


@pytest.fixture
def full(tmp_path: Path, mail_server: MailServer, db_url: str, clock) -> Service:
    service = make_service(tmp_path, mail_server, db_url, clock)
    path = service.config.path
    path.write_text(path.read_text().replace("support_status: In Progress}",
                                             "support_status: In Progress, wip_limit: 1}"))
    service = Service(load_config(path), clock=clock)
    ticket = pending_ticket(service)
    service.create(title="Busy", state="in_progress", by="alice")
    return service


def test_the_command_line_says_why_the_ticket_did_not_move_and_the_card_is_marked(full: Service, db_url: str,
                                                                                  clock):
    done = run_cli(full.config.path, db_url, "inbound", stdin=reply_to(None, "Spring run", subject="Re: [SET-1] x"))
    assert done.returncode == 0, done.stderr
    line = done.stdout.decode().strip()
    assert line.startswith("SET-1: reply from rita@customer.example recorded, but not moved because ")
    assert "(1/1)" in line or "WIP" in line
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert (ticket.state, ticket.answered) == ("on_hold", True)
    later = utcnow() + dt.timedelta(minutes=30)  # the subprocess recorded the reply on the real clock
    status = statuses(full.config, [ticket.id], later)[ticket.id]
    assert "paused" not in (status.first_response.state, status.update_every.state)


def test_the_mark_goes_when_a_team_member_looks_or_writes(full: Service, db_url: str):
    run_cli(full.config.path, db_url, "inbound", stdin=reply_to(None, "Spring run", subject="Re: [SET-1] x"))
    assert full.seen("SET-1", by="nobody") is None and Ticket.get(Ticket.key == "SET-1").answered
    full.seen("SET-1", by="alice")
    assert not Ticket.get(Ticket.key == "SET-1").answered
    run_cli(full.config.path, db_url, "inbound", stdin=reply_to(None, "More", subject="Re: [SET-1] x",
                                                               message_id="<reply-2@customer.example>"))
    assert Ticket.get(Ticket.key == "SET-1").answered
    full.triage("SET-1", by="bob", impact="high")
    assert not Ticket.get(Ticket.key == "SET-1").answered
