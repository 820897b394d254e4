"""Acknowledged but forgotten (#17, item 4; GoAlert #3378): `escalation_ack_timeout`.

The repo's chain with `escalation_ack_timeout: 4h`. On Mon 16 Nov 2026 after 09:00
(London = UTC): primary k=2 carol, backup dan, lead (2w, k=1) grace.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.service import Service
from data.models import History, Notification
from tests.clock import Clock

ROOT = Path(__file__).resolve().parents[2]


def with_timeout(tmp_path: Path, value: str = "4h") -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("\nsla:", f"\nescalation_ack_timeout: {value}\n\nsla:", 1), encoding="utf-8")
    return path


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 16, 10, 0))


@pytest.fixture
def service(tmp_path, db, clock):
    return Service(load_config(with_timeout(tmp_path)), clock=clock)


def steps(pages):
    return [(p.step, p.rotation, p.paged) for p in pages]


def test_a_forgotten_acknowledgement_pages_the_acknowledger_again_then_escalates(service, clock):
    ticket = service.create(title="Checkout is down", priority=1, by="alice")
    assert steps(service.escalate_due()) == [(0, "SET primary", ("carol",))]
    clock.set(2026, 11, 16, 10, 5)
    service.acknowledge(ticket.key, by="carol")

    clock.set(2026, 11, 16, 14, 4, 59)
    assert service.escalate_due() == []
    assert service.next_escalation_at() == dt.datetime(2026, 11, 16, 14, 5)
    clock.set(2026, 11, 16, 14, 5)
    assert steps(service.escalate_due()) == [(0, "acknowledgement timeout", ("carol",))]
    assert service.escalate_due() == []          # a second escalator at the same instant sends nothing
    clock.set(2026, 11, 16, 14, 19)
    assert service.escalate_due() == []
    clock.set(2026, 11, 16, 14, 20)              # the chain again, from the re-page: backup after 15m
    assert steps(service.escalate_due()) == [(1, "SET backup", ("dan",))]
    clock.set(2026, 11, 16, 14, 35)
    assert steps(service.escalate_due()) == [(2, "SET lead", ("grace",))]

    pages = [json.loads(h.detail) for h in History.select().where(History.kind == "page").order_by(History.id)]
    assert [(p["step"], p.get("round", 0)) for p in pages] == [(0, 0), (0, 1), (1, 1), (2, 1)]
    mails = [n.recipient for n in Notification.select().where(Notification.kind == "page").order_by(Notification.id)]
    assert mails == ["carol@example.org", "carol@example.org", "dan@example.org", "grace@example.org"]
    assert "acknowledgement timeout" in Notification.select().where(Notification.kind == "page")\
        .order_by(Notification.id)[1].body


def test_acknowledging_again_stops_the_second_round(service, clock):
    ticket = service.create(title="Checkout is down", priority=1, by="alice")
    service.escalate_due()
    service.acknowledge(ticket.key, by="carol")
    clock.set(2026, 11, 16, 14, 0)
    assert steps(service.escalate_due()) == [(0, "acknowledgement timeout", ("carol",))]
    clock.set(2026, 11, 16, 14, 10)
    service.acknowledge(ticket.key, by="carol")
    clock.set(2026, 11, 16, 14, 30)
    assert service.escalate_due() == []
    clock.set(2026, 11, 16, 18, 10)            # forgotten again: a third round
    assert steps(service.escalate_due()) == [(0, "acknowledgement timeout", ("carol",))]


def test_an_acknowledged_page_that_moved_is_not_paged_again(service, clock):
    ticket = service.create(title="Checkout is down", priority=1, by="alice")
    service.escalate_due()
    clock.set(2026, 11, 16, 10, 5)
    service.acknowledge(ticket.key, by="carol")
    clock.set(2026, 11, 16, 10, 30)
    service.move(ticket.key, "on_hold", by="carol", hold_reason="external")
    clock.set(2026, 12, 1, 10, 0)
    assert service.escalate_due() == []
    assert service.next_escalation_at() is None


@pytest.mark.parametrize("value", ["soon", "0m"])
def test_bad_timeout_exits_2_with_file_line_and_key(run_cli, tmp_path, value):
    path = with_timeout(tmp_path, value)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("escalation_ack_timeout:"))
    result = run_cli("oncall", "--json", config=path)
    assert result.returncode == 2
    assert f"{path}:{line}: escalation_ack_timeout:" in result.stderr
