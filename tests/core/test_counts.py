"""The counts table (migration 0007) says what counting the tickets says, after any mix of writes.

The board's column headers and the untriaged figure read `ticket_count`;
these tests write at random (creates, moves, triage answers, raw updates,
imports, deletes), from several threads and several processes at once, then
compare with a COUNT(*) GROUP BY over the tickets.
"""

from __future__ import annotations

import multiprocessing
import random
import threading

from peewee import SQL, fn

from app.service import Refused, Service
from data import counts
from data.models import Ticket
from data.triage import untriaged_condition

PRIORITIES = (None, 1, 2, 3, 4)


def counted(initial: str) -> tuple[dict[str, int], int]:
    by_state = dict(Ticket.select(Ticket.state, fn.COUNT(SQL("*"))).group_by(Ticket.state).tuples())
    return by_state, Ticket.select().where(untriaged_condition(initial)).count()


def kept(initial: str) -> tuple[dict[str, int], int]:
    return counts.column_counts(), counts.untriaged_count(initial)


def random_writes(service: Service, rng: random.Random, steps: int, tag: str) -> None:
    """Creates, moves, triage answers and raw field changes; a refused move is part of the game."""
    keys = [k for (k,) in Ticket.select(Ticket.key).tuples()]
    states = service.workflow.keys
    for step in range(steps):
        roll = rng.random()
        try:
            if roll < 0.25 or not keys:
                keys.append(service.create(title=f"{tag} {step}", priority=rng.choice(PRIORITIES), by="alice").key)
            elif roll < 0.6:
                service.move(rng.choice(keys), rng.choice(states), by="alice", reason="counts test",
                             hold_reason="external")
            elif roll < 0.8:
                Ticket.update(actionable=rng.choice((None, "yes", "no")), acknowledged=rng.random() < 0.7,
                              priority=rng.choice(PRIORITIES)).where(Ticket.key == rng.choice(keys)).execute()
            elif roll < 0.9:
                Ticket.update(state=rng.choice(states)).where(Ticket.key == rng.choice(keys)).execute()
            else:
                Ticket.update(title=f"renamed {step}").where(Ticket.key == rng.choice(keys)).execute()
        except Refused:
            pass


def test_counts_follow_random_writes_imports_and_deletes(config, db):
    service = Service(config)
    rng = random.Random(7)
    initial = service.workflow.initial
    assert kept(initial) == ({}, 0)
    random_writes(service, rng, 150, "single")
    assert kept(initial) == counted(initial)
    rows = [{"key": f"{config.board.key}-{9000 + n}", "number": 9000 + n, "title": f"imported {n}",
             "state": rng.choice(service.workflow.keys), "rank": float(n), "sort_key": 50,
             "priority": rng.choice(PRIORITIES), "actionable": rng.choice((None, "yes")),
             "acknowledged": rng.random() < 0.5, "created": service.clock(), "updated": service.clock(),
             "state_entered": service.clock()} for n in range(300)]
    service.bulk_insert(rows)
    assert kept(initial) == counted(initial)
    ids = [i for (i,) in Ticket.select(Ticket.id).tuples()]
    Ticket.delete().where(Ticket.id.in_(rng.sample(ids, len(ids) // 3))).execute()
    assert kept(initial) == counted(initial)
    # Edited behind the triggers' back, then rebuilt from the tickets.
    db.execute_sql("UPDATE ticket_count SET n = n + 5")
    assert kept(initial) != counted(initial)
    assert counts.rebuild() == counted(initial)[0]
    assert kept(initial) == counted(initial)


def test_counts_stay_right_under_concurrent_threads(config, db):
    service = Service(config)
    for n in range(20):
        service.create(title=f"seed {n}", by="alice")
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        try:
            with db.connection_context():
                random_writes(Service(config), random.Random(seed), 60, f"thread {seed}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert kept(service.workflow.initial) == counted(service.workflow.initial)


def _process_writer(db_url: str, config_path: str, seed: int) -> None:
    from app.config.settings import load_config
    from data.db import open_database

    config = load_config(config_path)
    open_database(db_url)
    random_writes(Service(config), random.Random(seed), 50, f"process {seed}")


def test_counts_stay_right_under_concurrent_processes(config, db, db_url):
    from tests.conftest import ROOT

    service = Service(config)
    for n in range(20):
        service.create(title=f"seed {n}", by="alice")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_process_writer, args=(db_url, str(ROOT / "config.yaml"), seed))
               for seed in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert kept(service.workflow.initial) == counted(service.workflow.initial)


def test_the_triggers_sql_is_the_untriaged_rule(config, db):
    """Every combination of the triage fields: the table's `incomplete` is `data.triage.triage_incomplete`."""
    service = Service(config)
    for actionable in (None, "yes", "no"):
        for priority in (None, 2):
            for acknowledged in (False, True):
                ticket = service.create(title="combo", by="alice")
                Ticket.update(actionable=actionable, priority=priority,
                              acknowledged=acknowledged).where(Ticket.id == ticket.id).execute()
    assert kept(service.workflow.initial) == counted(service.workflow.initial)
    assert counts.untriaged_count(service.workflow.initial) == 11


def _imported(config, service, rng, first: int, count: int) -> list[dict]:
    return [{"key": f"{config.board.key}-{first + n}", "number": first + n, "title": f"bulk {n}",
             "state": rng.choice(service.workflow.keys), "rank": float(n), "sort_key": 50,
             "priority": rng.choice(PRIORITIES), "actionable": rng.choice((None, "yes")),
             "acknowledged": rng.random() < 0.5, "created": service.clock(), "updated": service.clock(),
             "state_entered": service.clock()} for n in range(count)]


def test_a_large_import_is_counted_in_one_statement_and_the_trigger_comes_back(config, db, monkeypatch):
    """Past `BULK_AT` rows SQLite sets the row trigger aside for the insert: the counts must still be right,
    the trigger must count the writes after it, and a failed import must leave both as they were."""
    monkeypatch.setattr(counts, "BULK_AT", 50)
    service = Service(config)
    rng = random.Random(11)
    initial = service.workflow.initial
    random_writes(service, rng, 40, "before")
    service.bulk_insert(_imported(config, service, rng, 5000, 200))
    assert kept(initial) == counted(initial)
    random_writes(service, rng, 60, "after")  # counted by the trigger again
    assert kept(initial) == counted(initial)
    before = kept(initial)
    clash = _imported(config, service, rng, 7000, 120) + _imported(config, service, rng, 5000, 1)
    try:
        service.bulk_insert(clash)
    except Exception:
        pass
    else:
        raise AssertionError("an import of an existing key went in")
    assert kept(initial) == before == counted(initial)
    service.create(title="one more", by="alice")
    assert kept(initial) == counted(initial)


def test_every_imported_ticket_has_its_own_secrets(config, db):
    """The requester page's links are signed with the ticket's page secret: one shared by a whole import
    would make every imported ticket's secret the same."""
    service = Service(config)
    service.bulk_insert(_imported(config, service, random.Random(3), 100, 40))
    secrets = list(Ticket.select(Ticket.page_secret, Ticket.thread_token).tuples())
    assert len({page for page, _ in secrets}) == len({token for _, token in secrets}) == 40
    assert all(len(page) == 32 for page, _ in secrets)
