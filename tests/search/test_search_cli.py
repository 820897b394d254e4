"""`triageboard ticket list --query` as a script runs it: the matching tickets, and a bad query in one line."""

from __future__ import annotations

import json


def test_list_query_prints_the_matching_tickets(run_cli):
    for args in (["Login page is blank", "--priority", "P1", "--assignee", "bob"],
                 ["Payment declined", "--priority", "P3"], ["Cannot login on mobile", "--priority", "P2"]):
        assert run_cli("ticket", "add", *args).returncode == 0
    done = run_cli("ticket", "list", "--query", "login -assignee:bob", "--json")
    assert done.returncode == 0, done.stderr
    assert [row["title"] for row in json.loads(done.stdout)] == ["Cannot login on mobile"]
    done = run_cli("ticket", "list", "--query", 'priority:P1,P3 "page is"')
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 1 and "Login page is blank" in done.stdout
    done = run_cli("ticket", "list", "--query", "login", "--limit", "1", "--json")
    assert len(json.loads(done.stdout)) == 1


def test_a_bad_query_is_one_line_and_exit_2(run_cli):
    assert run_cli("ticket", "add", "Login page is blank").returncode == 0
    for query, says in (("state:waiting", "unknown state 'waiting' in state:waiting (states: todo, ready,"),
                        ('"login page', "unclosed quote"), ("owner:bob", "unknown field 'owner'"),
                        ("created:>2026-02-30", "bad date '2026-02-30'")):
        done = run_cli("ticket", "list", "--query", query)
        assert done.returncode == 2, (query, done.stdout, done.stderr)
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith(f"triageboard: --query: {says}"), done.stderr


def test_hostile_query_text_is_harmless(run_cli):
    assert run_cli("ticket", "add", "[bold]red[/] title").returncode == 0
    for query in ("'; DROP TABLE ticket; --x", "[bold]", 'x" OR "1"="1'):
        done = run_cli("ticket", "list", "--query", query)
        assert done.returncode in (0, 2) and "Traceback" not in done.stderr, done.stderr
    done = run_cli("ticket", "list", "--query", "[bold]")
    assert "[bold]red[/] title" in done.stdout  # shown literally
    assert "title" in run_cli("ticket", "list").stdout  # the table is still there
