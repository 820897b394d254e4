"""The demo looks like a day of a support rotation, whatever day it is opened (issue 19, "The demo")."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from app.board.demo import seed
from app.sla.labels import card_sla
from app.sla.source import open_statuses
from app.board.stale import is_stale, stale_rule
from data.models import History, Ticket

DAYS = {"a Tuesday afternoon": dt.datetime(2026, 11, 3, 14, 0),  # naive UTC, as the service keeps instants
        "a Sunday": dt.datetime(2026, 11, 8, 12, 0),
        "a Monday before hours": dt.datetime(2026, 11, 9, 7, 30)}


@pytest.mark.parametrize("now", DAYS.values(), ids=DAYS.keys())
def test_a_fresh_demo_is_a_day_of_work_not_a_wall_of_breaches(config, db, now):
    seed(config, 60, now=now)
    styles = collections.Counter(card_sla(status)[1] for _row, status in open_statuses(config, now))
    open_count = sum(styles.values())
    assert open_count >= 40
    assert 1 <= styles["breached"] <= 2, styles
    assert 2 <= styles["warning"] <= 5, styles
    assert styles["ok"] >= open_count * 0.6, styles

    waiting = [t for t in Ticket.select() if t.needs_ack and t.ack_at is None]
    assert [t.priority for t in waiting] == [1]  # one P1 waits for acknowledgement

    [reply] = History.select().where(History.kind == "comment")
    assert now - reply.at <= dt.timedelta(minutes=10)  # a reply has just arrived …
    assert reply.ticket.state == "in_progress"  # … and took its ticket out of Pending

    rule = stale_rule(config)
    stale = [t for t in Ticket.select() if t.state != config.workflow.final and t.state_entered is not None
             and is_stale(t.state_entered, now, rule)]
    assert 1 <= len(stale) <= 2


def test_a_big_demo_adds_closed_backlog_in_bulk_with_its_history(config, db):
    now = DAYS["a Tuesday afternoon"]
    seed(config, 560, now=now)
    final = config.workflow.final
    assert Ticket.select().count() == 560
    backlog = Ticket.select().where(Ticket.number > 60)
    assert {t.state for t in backlog} == {final}
    sample = backlog.order_by(Ticket.number).first()
    kinds = [h.kind for h in History.select().where(History.ticket == sample).order_by(History.id)]
    assert kinds[0] == "create" and kinds[-1] == "move" and len(kinds) >= 3
    assert all(t.created < now - dt.timedelta(days=7) for t in backlog)
