"""Every migration, run in order on a fresh database, leaves what the earlier ones built.

A migration that rebuilds a table (peewee's SQLite migrator does, for a NOT NULL
column) drops every trigger on it: the search index and the column counts would
then silently stop following the tickets.
"""

from __future__ import annotations

from data.db import is_sqlite


def trigger_names(db) -> set[str]:
    if is_sqlite(db):
        rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    else:
        rows = db.execute_sql("SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE NOT t.tgisinternal AND n.nspname = current_schema()").fetchall()
    return {name for (name,) in rows}


def test_the_triggers_on_ticket_survive_every_later_migration(db):
    names = trigger_names(db)
    expected = {"ticket_search_insert", "ticket_search_update", "ticket_search_delete"} if is_sqlite(db) \
        else {"ticket_search_ticket"}
    assert expected <= names, f"missing after all migrations: {sorted(expected - names)}"


def test_a_ticket_created_after_every_migration_is_found_by_its_words(db, config):
    from app.board.filtering import search_where
    from app.service import Service
    from data.models import Ticket

    ticket = Service(config).create(title="Spawner timeout on hub", by="alice")
    condition = search_where("spawner", config.workflow)
    assert [t.key for t in Ticket.select(Ticket.key).where(condition)] == [ticket.key]


def test_tickets_an_old_import_gave_one_page_secret_get_their_own(db, db_url, config):
    """Migration 0012: imports before it gave a whole file one requester-page secret."""
    from app.service import Service
    from data.db import open_database
    from data.models import Ticket

    service = Service(config)
    keys = [service.create(title=f"t{n}", by="alice").key for n in range(4)]
    Ticket.update(page_secret="shared").where(Ticket.key.in_(keys[:3])).execute()
    alone = Ticket.get(Ticket.key == keys[3]).page_secret
    db.execute_sql(f"DELETE FROM schema_migration WHERE name = {db.param}", ("0012_own_page_secrets",))
    db.close()
    open_database(db_url)
    secrets = dict(Ticket.select(Ticket.key, Ticket.page_secret).tuples())
    assert len(set(secrets.values())) == 4 and "shared" not in secrets.values()
    assert secrets[keys[3]] == alone  # a secret of its own is kept: its links still work
