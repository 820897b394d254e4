"""`ticket list` as a script uses it: the board's order, each filter, `--limit`, and `--after` paging.

The expected order is worked out here in Python from every ticket (column
left to right, then priority of work, rank, id), as the command did before it
asked the database; the command must print exactly that.
"""

from __future__ import annotations

import json
import random

import pytest

from app.service import Service
from data.models import Ticket
from data.triage import triage_incomplete


@pytest.fixture
def board(config, db):
    """Forty tickets in random columns, kinds, priorities, assignees and ranks (ties included)."""
    service = Service(config)
    rng = random.Random(3)
    handles = [*config.handles, None]
    rows = []
    for n in range(1, 41):
        priority = rng.choice((None, 1, 2, 3, 4))
        kind = rng.choice(("bug", "incident", "question"))
        rows.append({"key": f"{config.board.key}-{n}", "number": n, "title": f"ticket {n}", "kind": kind,
                     "state": rng.choice(service.workflow.keys), "rank": float(rng.randint(1, 5)),
                     "sort_key": rng.choice((12, 25, 61)), "priority": priority,
                     "assignee": rng.choice(handles), "actionable": rng.choice((None, "yes")),
                     "acknowledged": rng.random() < 0.6, "created": service.clock(),
                     "updated": service.clock(), "state_entered": service.clock()})
    service.bulk_insert(rows)
    db.close()
    return service


def expected(service: Service, *conditions) -> list[str]:
    order = {key: index for index, key in enumerate(service.workflow.keys)}
    query = Ticket.select()
    for condition in conditions:
        query = query.where(condition)
    tickets = sorted(query, key=lambda t: (order[t.state], t.sort_key, t.rank, t.id))
    return [t.key for t in tickets]


def keys(run_cli, *args: str, now: str | None = None) -> list[str]:
    result = run_cli("ticket", "list", *args, "--json", now=now)
    assert result.returncode == 0, result.stderr
    return [t["key"] for t in json.loads(result.stdout)]


def test_every_filter_lists_in_board_order(run_cli, board, config):
    assert keys(run_cli) == expected(board)
    assert keys(run_cli, "--state", "todo") == expected(board, Ticket.state == "todo")
    handle = config.handles[0]
    assert keys(run_cli, "--assignee", handle) == expected(board, Ticket.assignee == handle)
    assert keys(run_cli, "--untriaged") == expected(board, Ticket.state == board.workflow.initial,
                                                    triage_incomplete())
    assert keys(run_cli, "--limit", "5") == expected(board)[:5]


def test_after_walks_everything_once_in_order(run_cli, board):
    walked: list[str] = []
    after: list[str] = []
    while True:
        page = keys(run_cli, "--limit", "7", *after)
        if not page:
            break
        walked += page
        after = ["--after", page[-1]]
    assert walked == expected(board)
    everything = expected(board)
    assert keys(run_cli, "--after", everything[10].lower(), "--limit", "3") == everything[11:14]


def test_after_an_unknown_key_is_one_line_and_exit_1(run_cli, board):
    result = run_cli("ticket", "list", "--after", "SET-999")
    assert result.returncode == 1
    assert result.stderr.strip() == "triageboard: no ticket 'SET-999'"


def test_the_text_listing_is_unchanged(run_cli, board, config):
    first = Ticket.get(Ticket.key == expected(board)[0])
    line = run_cli("ticket", "list", "--limit", "1").stdout
    assert line == (f"{first.key:<10} {board.workflow.column(first.state).title:<12} "
                    f"{'P' + str(first.priority) if first.priority else '--':<3} {(first.assignee or '-'):<8} "
                    f"{board.status_of(first):<21} {first.title}\n")


@pytest.mark.parametrize("which", ["at-risk", "warning", "breached"])
def test_each_sla_filter_lists_its_open_tickets_in_board_order(run_cli, config, db, which):
    """A column's few matches are read by id from the due index (migration 0011), the many by walking it."""
    import datetime as dt

    from data.sla_due import condition

    service = Service(config)
    rng = random.Random(7)
    start = service.clock().replace(tzinfo=None)
    rows = []
    for n in range(1, 61):
        created = start - dt.timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        rows.append({"key": f"{config.board.key}-{n}", "number": n, "title": f"ticket {n}",
                     "kind": rng.choice(("bug", "incident", "question")), "priority": rng.choice((1, 2, 3, 4)),
                     "state": rng.choice(service.workflow.keys), "rank": float(rng.randint(1, 5)),
                     "sort_key": rng.choice((12, 25, 61)), "actionable": "yes", "acknowledged": True,
                     "created": created, "updated": created, "state_entered": created})
    service.bulk_insert(rows)
    db.close()
    found = 0
    for hours in (0, 2, 9, 30, 80):
        now = start + dt.timedelta(hours=hours)
        listed = keys(run_cli, "--sla", which, now=now.isoformat() + "+00:00")
        assert listed == expected(service, condition(which, now), Ticket.state != service.workflow.final), hours
        found += len(listed)
    assert found, "some ticket matched at some instant"
