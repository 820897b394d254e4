"""The same schema and the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from playhouse.migrations import Runner

from app.service import NotFound, Refused, Service
from data.db import MIGRATIONS, open_database, schema_is_current
from data.models import History, Notification, Ticket


def test_migrations_create_the_schema_once(db, db_url):
    assert {"ticket", "history", "notification", "schema_migration"} <= set(db.get_tables())
    status = Runner(db, str(MIGRATIONS)).status()
    assert [m.name for m in status if m.applied] == [m.name for m in status] and status[0].name == "0001_initial"
    db.close()
    again = open_database(db_url)  # a second session: nothing left to apply
    assert Runner(again, str(MIGRATIONS)).up() == []


def test_a_database_behind_the_code_is_upgraded_when_opened(db, db_url):
    """The check that lets a current database skip the migration runner still sees a missing script."""
    assert schema_is_current(db)
    db.execute_sql("DELETE FROM schema_migration WHERE name = '0003_updated_index'")
    db.execute_sql("DROP INDEX ticket_updated")
    assert not schema_is_current(db)
    db.close()
    again = open_database(db_url)
    assert schema_is_current(again)
    assert "ticket_updated" in {index.name for index in again.get_indexes("ticket")}


def test_values_round_trip_with_their_types(service, make_tickets):
    ticket = make_tickets(1, service_down=True, deadline="2026-12-01")[0]
    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.acknowledged is True and fresh.service_down is True and fresh.solved is False
    assert fresh.priority == 3 and isinstance(fresh.rank, float)
    assert isinstance(fresh.created, dt.datetime) and fresh.created.tzinfo is None
    assert Ticket.select().where(Ticket.acknowledged == True).count() == 1  # noqa: E712 (SQL, not Python)


def test_full_flow_history_and_outbox(service, make_tickets):
    key = make_tickets(1)[0].key
    for target in ("ready", "in_progress", "resolved", "closed"):
        service.move(key, target, by="bob")
    service.move(key, "solved", by="bob")
    ticket = service.get(key)
    assert ticket.state == "closed" and ticket.solved and ticket.version == 6
    kinds = [h.kind for h in service.history(ticket)]
    assert kinds == ["create", "move", "move", "move", "move", "solve"]
    assert Notification.select().count() >= 3  # Open -> In Progress -> Development Complete -> Released
    assert ticket.first_response is not None


def test_undo_is_a_compensating_move(service, make_tickets):
    key = make_tickets(1)[0].key
    service.move(key, "on_hold", hold_reason="requester")
    service.move(key, "in_progress")
    result = service.undo(key, by="alice")
    assert result.ticket.state == "on_hold" and result.ticket.hold_reason == "requester"
    assert History.select().where(History.kind == "move").count() == 3


def test_keys_are_numbered_after_the_highest(service, make_tickets):
    make_tickets(3)
    assert service.create(title="next").key == "SET-4"
    assert service.create(title="chosen", key="SET-10").key == "SET-10"
    assert service.create(title="after").key == "SET-11"
    try:
        service.create(title="dup", key="SET-10")
    except Refused as exc:
        assert "already exists" in str(exc)
    else:
        raise AssertionError("a duplicate key was accepted")


def test_concurrent_creates_get_distinct_keys(db, db_url, team_config):
    """Key allocation races (PostgreSQL runs creates at once) are retried, never surfaced."""
    errors: list[BaseException] = []
    keys: list[str] = []
    lock = threading.Lock()

    def create_some(n: int) -> None:
        # Each thread is its own session: peewee keeps one connection per thread.
        service = Service(team_config)
        try:
            for i in range(15):
                key = service.create(title=f"t{n}.{i}").key
                with lock:
                    keys.append(key)
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=create_some, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(keys) == 60 and len(set(keys)) == 60
    assert sorted(Ticket.select(Ticket.number).tuples()) == [(n,) for n in range(1, 61)]


def test_a_cards_position_matches_its_place_in_the_pages_on_either_backend(service, make_tickets):
    """The board's unfiltered page and position queries run statements built once per backend; they must
    agree with each other and with the filtered (query-built) path, for both orders."""
    from data import board_queries

    tickets = make_tickets(9)
    for ticket, priority in zip(tickets, (3, 1, 2, 1, 4, 2, 1, 3, 2)):
        Ticket.update(priority=priority, sort_key=priority).where(Ticket.id == ticket.id).execute()
    Ticket.update(rank=5.0).where(Ticket.id.in_([tickets[1].id, tickets[3].id])).execute()  # a tie, broken by id
    for order in ("priority", "rank"):
        page = board_queries.column_page("todo", 0, 32, order)
        assert board_queries.column_page("todo", 0, 32, order, where=Ticket.id > 0) == page  # every field, as Peewee reads it
        assert [board_queries.column_page("todo", n, 1, order)[0].id for n in range(9)] == [row.id for row in page]
        for index, row in enumerate(page):
            assert board_queries.position_of("todo", row.id, order) == index
            assert board_queries.position_of("todo", row.id, order, where=Ticket.id > 0) == index
    assert board_queries.position_of("ready", tickets[0].id) is None


def test_a_ticket_read_by_its_prepared_statement_is_the_ticket_peewee_reads(service, make_tickets):
    """`get` and the write path's fetch run SQL built once per backend; every field (dates, flags,
    nulls) must come back exactly as Peewee's own select returns it, and an unknown key is refused."""
    from data.statements import Prepared

    ticket = make_tickets(1)[0]
    service.move(ticket.key, "ready", by="ann")  # dates, a rank, a version bump
    peewee_read = Ticket.get(Ticket.key == ticket.key)
    for read in (service.get(ticket.key.lower()), service._fetch_for_write(ticket.key)):
        assert read.__data__ == peewee_read.__data__
    with pytest.raises(NotFound):
        service.get("NOPE-1")
    constant = Prepared(lambda *, key: Ticket.select().where((Ticket.key == key) & (Ticket.title == "x")))
    with pytest.raises(TypeError, match=r"'x' is not a parameter \(parameters: key\)"):
        constant.sql(key="A-1")


def test_rows_read_by_a_prepared_select_are_the_rows_peewee_reads(service, make_tickets):
    """`Prepared.tuples` (the SLA inputs every write reads) converts dates and flags itself; each value, a
    None among them, must come back as Peewee's `.tuples()` returns it, on either backend."""
    from data.statements import Prepared

    tickets = make_tickets(3)
    service.move(tickets[0].key, "ready", by="ann")  # a state_entered, a version bump
    fields = (Ticket.id, Ticket.key, Ticket.created, Ticket.state_entered, Ticket.first_response, Ticket.solved,
              Ticket.acknowledged, Ticket.priority, Ticket.rank)
    ids = [ticket.id for ticket in tickets]
    statement = Prepared(lambda **slots: Ticket.select(*fields).where(Ticket.id.in_(list(slots.values())))
                         .order_by(Ticket.id))
    expected = list(Ticket.select(*fields).where(Ticket.id.in_(ids)).order_by(Ticket.id).tuples())
    assert statement.tuples(**{f"id{n}": ticket_id for n, ticket_id in enumerate(ids)}) == expected
    assert statement.tuples(id0=ids[0]) == expected[:1]  # another number of ids: a statement of its own


def test_a_move_sends_the_same_few_statements_however_full_the_board(service, make_tickets, db, monkeypatch):
    """A move's transaction (the ticket, its history row, its due instants) costs what it returns: a query
    per card of a column, or per move in the card's history, would show here as more statements on a
    fuller board and a longer history."""
    sent: list[str] = []
    execute_sql = type(db).execute_sql
    monkeypatch.setattr(type(db), "execute_sql",
                        lambda self, sql, params=None: (sent.append(sql), execute_sql(self, sql, params))[1])

    def statements(key: str, target: str) -> int:
        sent.clear()
        service.move(key, target, by="ann")
        return len(sent)

    key = make_tickets(2)[0].key
    few = [statements(key, "ready"), statements(key, "todo")]
    for ticket in make_tickets(40)[:20]:
        service.move(ticket.key, "ready", by="ann")
    for _ in range(5):
        statements(key, "ready"), statements(key, "todo")
    assert [statements(key, "ready"), statements(key, "todo")] == few
    assert max(few) <= 10, sent
