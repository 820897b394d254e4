"""The filter language (app.board.query) as plain functions: every kind of term, negation, phrases, errors."""

from __future__ import annotations

import datetime as dt

import pytest

from app.board.query import DateRange, Flag, KINDS, Match, Priority, Query, QueryError, Text, parse

STATES = ("todo", "ready", "in_progress", "on_hold", "resolved", "closed")


def terms(text: str, **options) -> tuple:
    return parse(text, states=STATES, **options).terms


def error(text: str) -> str:
    with pytest.raises(QueryError) as caught:
        parse(text, states=STATES)
    message = str(caught.value)
    assert "\n" not in message  # one line, always
    return message


def test_an_empty_query_has_no_terms():
    assert terms("") == () and terms("   ") == ()
    assert parse("") == Query((), "")


def test_free_words_and_phrases():
    assert terms('login "blank  page" SET-42') == (
        Text("login"), Text("blank page", phrase=True), Text("SET-42"))


def test_the_last_word_being_typed_is_a_prefix_and_only_then():
    assert terms("blank pa", typing=True) == (Text("blank"), Text("pa", prefix=True))
    assert terms("blank pa ", typing=True) == (Text("blank"), Text("pa"))  # a space ends the word
    assert terms("blank pa") == (Text("blank"), Text("pa"))  # the command line: whole words
    assert terms('"blank pa"', typing=True) == (Text("blank pa", phrase=True),)  # a phrase is closed
    assert terms("pa assignee:bob", typing=True)[0] == Text("pa")


def test_field_terms_of_every_kind():
    assert terms("assignee:bob service:LMS team:sustaining requester:ana@example.org") == (
        Match("assignee", ("bob",)), Match("service", ("LMS",)), Match("team", ("sustaining",)),
        Match("requester", ("ana@example.org",)))
    assert terms("state:on_hold kind:bug bug_class:hotfix") == (
        Match("state", ("on_hold",)), Match("kind", ("bug",)), Match("bug_class", ("hotfix",)))
    assert terms("priority:P1 priority:2") == (Priority((1,)), Priority((2,)))
    assert terms("is:stale is:untriaged is:at-risk is:unassigned is:answered") == tuple(
        Flag(name) for name in ("stale", "untriaged", "at-risk", "unassigned", "answered"))


def test_values_are_spelled_as_the_board_spells_them():
    assert terms("state:On-Hold kind:BUG bug-class:Hotfix is:AT_RISK priority:p3") == (
        Match("state", ("on_hold",)), Match("kind", ("bug",)), Match("bug_class", ("hotfix",)), Flag("at-risk"),
        Priority((3,)))


def test_a_comma_means_either_and_quotes_keep_a_value_whole():
    assert terms("priority:P1,P2 state:todo,ready") == (Priority((1, 2)), Match("state", ("todo", "ready")))
    assert terms('assignee:"Bob, B"') == (Match("assignee", ("Bob, B",)),)


def test_dates_and_their_comparisons_are_half_open_day_ranges():
    day, next_day = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
    assert terms("created:2026-11-01") == (DateRange("created", day, next_day),)
    assert terms("created:>2026-11-01") == (DateRange("created", next_day, None),)
    assert terms("created:>=2026-11-01") == (DateRange("created", day, None),)
    assert terms("created:<2026-11-01") == (DateRange("created", None, day),)
    assert terms("updated:<=2026-11-01") == (DateRange("updated", None, next_day),)


def test_a_minus_negates_any_term():
    assert terms('-login -"blank page" -assignee:bob -is:stale -priority:P4 -created:<2026-01-01') == (
        Text("login", negated=True), Text("blank page", phrase=True, negated=True),
        Match("assignee", ("bob",), negated=True), Flag("stale", negated=True), Priority((4,), negated=True),
        DateRange("created", None, dt.date(2026, 1, 1), negated=True))
    assert terms("foo-bar") == (Text("foo-bar"),)  # inside a word it is a letter


def test_the_query_keeps_its_text_and_says_which_flags_it_asks_for():
    query = parse("is:stale -is:untriaged x")
    assert query.source == "is:stale -is:untriaged x"
    assert query.flags == {"stale"} and query.uses("untriaged") and not query.uses("at-risk")
    assert query.texts == (Text("x"),)


def test_hostile_text_is_just_words():
    assert terms("[bold]red[/] '; DROP TABLE ticket;") == (
        Text("[bold]red[/]"), Text("';"), Text("DROP"), Text("TABLE"), Text("ticket;"))
    assert terms("[bold] '; drop") == (Text("[bold]"), Text("';"), Text("drop"))


def test_an_unknown_field_names_it_and_the_fields():
    message = error("login foo:bar")
    assert message.startswith("unknown field 'foo' in foo:bar (fields: assignee, bug_class, created, is, kind,")
    assert "unknown field 'x'" in error("x:")


def test_an_unknown_state_lists_the_states():
    assert error("state:waiting") == ("unknown state 'waiting' in state:waiting "
                                      "(states: todo, ready, in_progress, on_hold, resolved, closed)")
    assert "unknown state 'nope' in -state:todo,nope" in error("-state:todo,nope")


def test_an_unknown_kind_bug_class_flag_or_priority_lists_what_is_allowed():
    assert error("kind:bugg") == f"unknown kind 'bugg' in kind:bugg (kinds: {', '.join(KINDS)})"
    assert "(bug classes: hotfix, release, customer, other)" in error("bug_class:minor")
    assert error("is:old") == "unknown flag 'old' in is:old (flags: stale, untriaged, at-risk, unassigned, answered)"
    assert error("priority:P5") == "unknown priority 'P5' in priority:P5 (priorities: P1, P2, P3, P4)"


def test_a_bad_date_says_what_a_date_is():
    assert error("created:>2026-13-01").startswith("bad date '2026-13-01' in created:>2026-13-01 (a date is YYYY-MM-DD")
    assert "bad date 'yesterday'" in error("created:yesterday")
    assert "only dates compare" in error("priority:>P2")


def test_an_unclosed_quote_names_the_term():
    assert error('login "blank page').startswith('unclosed quote in "blank')
    assert error('"').startswith("unclosed quote")


def test_a_field_needs_a_value_and_a_minus_a_term():
    assert error("assignee:") == "assignee: needs a value (e.g. assignee:bob)"
    assert error('state:""').startswith("state: needs a value")
    assert error("login -").startswith("a '-' must stand right before the term it negates")
    assert error("- login").startswith("a '-' must stand right before")


def test_kinds_here_are_the_configs_kinds():
    from app.config.settings import KINDS as CONFIG_KINDS

    assert KINDS == CONFIG_KINDS
