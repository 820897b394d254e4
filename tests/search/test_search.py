"""Search on the database (issue 16.4): the full-text index kept in step by every write, and every kind of term.

Run on both backends: `python -m pytest tests/search` (SQLite FTS5) and
`TRIAGEBOARD_TEST_DB=postgres python -m pytest tests/search` (tsvector + GIN); the answers are the same.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from app.board.query import QueryError
from data.models import Ticket


@pytest.fixture
def board(service):
    """Three tickets with something to find in every searched column."""
    login = service.create(title="Login page is blank", by="alice", requester_email="ana@uni.example",
                           requester_name="Ana Alves", description="Since the upgrade, SSO shows a white page.",
                           assignee="bob", priority=1, service="LMS")
    payment = service.create(title="Payment declined", by="alice", description="Card refused at checkout",
                             kind="question", priority=3, service="Ecommerce", requester_email="joe@shop.example")
    course = service.create(title="Course export times out", by="alice", kind="feature", priority=4)
    return login, payment, course


def test_free_text_matches_key_title_description_and_requester(board, found):
    login, payment, course = board
    assert found("login") == [login.key]
    assert found("white") == [login.key]  # the description
    assert found("alves") == [login.key] and found("ana") == [login.key]  # the requester's name and address
    assert found("shop") == [payment.key]
    assert found(course.key) == [course.key]  # "SET-3": the key's words, in order
    assert found("page blank") == [login.key]  # every word, anywhere
    assert found("page payment") == []


def test_phrases_need_their_words_in_order(board, found):
    login, _, _ = board
    assert found('"login page"') == [login.key]
    assert found('"page login"') == []
    assert found('"white page"') == [login.key]


def test_the_word_being_typed_is_a_prefix(board, found):
    login, payment, _ = board
    assert found("logi", typing=True) == [login.key]
    assert found("logi") == []  # the command line matches whole words
    assert found("pay", typing=True) == [payment.key]


def test_replies_notes_and_edits_are_searchable_at_once(board, service, found):
    login, payment, course = board
    service.reply(login.key, "We rolled the SSO certificate back; please try again.", by="alice")
    service.note(payment.key, "Customer uses a Visa card issued in Brazil", by="bob")
    assert found("certificate") == [login.key]
    assert found("brazil visa") == [payment.key]
    service.edit_ticket(course.key, {"title": "Gradebook export times out", "description": "only for large classes"},
                        by="alice")
    assert found("course") == []
    assert found("gradebook classes") == [course.key]
    service.edit_ticket(payment.key, {"requester_email": "lee@bank.example"}, by="alice")
    assert found("shop") == [] and found("bank") == [payment.key]
    assert found("brazil") == [payment.key]  # the conversation survives an edit of the ticket


def test_a_move_does_not_touch_the_index(board, service, found):
    login, _, _ = board
    service.move(login.key, "on_hold", by="alice", hold_reason="requester")
    assert found("login") == [login.key]
    assert found("login state:on_hold") == [login.key] and found("login state:todo") == []


def test_negation(board, found):
    login, payment, course = board
    assert found("-login") == [payment.key, course.key]
    assert found('-"login page" -payment') == [course.key]
    assert found("-assignee:bob") == [payment.key, course.key]  # the unassigned are kept
    assert found("-service:LMS") == [payment.key, course.key]
    assert found("-priority:P1,P4") == [payment.key]
    assert found("-kind:bug") == [payment.key, course.key]


def test_field_terms(board, found):
    login, payment, course = board
    assert found("assignee:bob") == [login.key] and found("assignee:BOB") == [login.key]
    assert found("priority:P1") == [login.key] and found("priority:P3,P4") == [payment.key, course.key]
    assert found("state:todo") == [login.key, payment.key, course.key]
    assert found("service:lms") == [login.key]
    assert found("kind:question") == [payment.key] and found("kind:bug") == [login.key]
    assert found("requester:ana@") == [login.key] and found("requester:@shop") == [payment.key]
    assert found('requester:"ana alves"') == [login.key]
    assert found("is:unassigned") == [payment.key, course.key]


def test_team_and_bug_class(service, found):
    hotfix = service.create(title="Hotfix needed", by="alice", kind="bug", bug_class="hotfix", team="sustaining")
    other = service.create(title="Other bug", by="alice", kind="bug", bug_class="other")
    assert found("bug_class:hotfix") == [hotfix.key] and found("-bug_class:hotfix") == [other.key]
    assert found("team:Sustaining") == [hotfix.key]


def test_dates_are_the_boards_days(service, found):
    """London: 00:30 on 1 November (GMT) and 23:30 on 31 October (BST, 22:30 UTC)."""
    early = service.create(title="Before", by="alice", created=dt.datetime(2026, 10, 31, 22, 30))
    first = service.create(title="On the first", by="alice", created=dt.datetime(2026, 11, 1, 0, 30))
    later = service.create(title="Later", by="alice", created=dt.datetime(2026, 11, 3, 12, 0))
    assert found("created:2026-11-01") == [first.key]
    assert found("created:>2026-11-01") == [later.key]
    assert found("created:>=2026-11-01") == [first.key, later.key]
    assert found("created:<2026-11-01") == [early.key]
    assert found("created:<=2026-11-01") == [early.key, first.key]
    assert found("-created:2026-11-01") == [early.key, later.key]
    assert found("created:>=2026-11-01 created:<2026-11-03") == [first.key]


def test_flags_stale_untriaged_and_at_risk(service, clock, found):
    old = service.create(title="Old question", by="alice", kind="question", requester_email="r@example.org")
    clock.advance(days=14)
    new = service.create(title="New question", by="alice", kind="question", priority=2)
    service.triage(new.key, by="alice", actionable="yes", acknowledged=True, priority=2)
    assert found("is:stale") == [old.key] and found("-is:stale") == [new.key]
    assert found("is:untriaged") == [old.key]
    # Old has waited 14 days for a first response (breached); new has a working day left (ok).
    assert found("is:at-risk") == [old.key] and found("-is:at-risk") == [new.key]
    service.reply(old.key, "We are on it.", by="alice")  # its first response: nothing due for two days
    assert found("is:at-risk") == []


def test_terms_combine(board, service, found):
    login, payment, _ = board
    service.note(payment.key, "blank receipt too", by="bob")
    assert found("blank") == [login.key, payment.key]
    assert found("blank priority:P3 service:Ecommerce -assignee:bob state:todo") == [payment.key]
    assert found("blank -receipt") == [login.key]


@pytest.mark.parametrize("text", ["'; DROP TABLE ticket; --", "[bold]red[/]", 'x" OR 1=1', "\\", "%_", "a*b",
                                  "NEAR(a b)", "login:* & !x", "(", ")", "'", "assignee:\"'; drop\""])
def test_hostile_text_is_harmless(board, found, text):
    try:
        found(text, typing=True)
    except QueryError:
        pass  # a clear refusal is fine; a database error or a changed table is not
    assert Ticket.select().count() == 3
    assert found("login") == [board[0].key]


def test_words_of_nothing_but_punctuation_are_no_constraint(board, found):
    assert len(found("'; ...")) == 3


def test_the_migration_indexes_the_tickets_already_there(board, service, db, found):
    """A database from before 0009: its tickets and their conversation are searchable once it runs."""
    login, payment, _ = board
    service.note(payment.key, "Visa from Brazil", by="bob")
    migration = importlib.import_module("data.migrations.0009_search")
    migration.down(None, db)
    migration.up(None, db)
    assert found("brazil") == [payment.key]
    assert found("ana login") == [login.key]
    service.note(login.key, "escalated to the identity team", by="bob")
    assert found("identity") == [login.key]  # and the triggers are back


def test_a_bulk_insert_is_indexed_once_at_its_end(board, service, found):
    """`deferred_indexing` (for import and seed): the triggers stand aside, then one statement indexes it all."""
    from data.search import deferred_indexing

    _, payment, _ = board
    with deferred_indexing():
        zebra = service.create(title="Zebra crossing", by="alice", description="stripes")
        service.note(payment.key, "a giraffe paid", by="bob")
        service.note(zebra.key, "okapi too", by="bob")
        assert found("zebra") == [] and found("giraffe") == []  # not yet: indexed on the way out
    assert found("zebra stripes okapi") == [zebra.key]
    assert found("giraffe") == [payment.key] and found("checkout") == [payment.key]  # its old words kept
    service.note(zebra.key, "and a lemur", by="bob")
    assert found("lemur") == [zebra.key]  # the triggers are back


def test_a_bulk_insert_that_fails_leaves_the_index_as_it_was(board, service, found):
    from data.search import deferred_indexing

    with pytest.raises(RuntimeError):
        with deferred_indexing():
            service.create(title="Zebra crossing", by="alice")
            raise RuntimeError("the import found a bad row")
    assert found("zebra") == []
    again = service.create(title="Zebra again", by="alice")
    assert found("zebra") == [again.key]  # the triggers were never left aside
