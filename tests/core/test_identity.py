"""Every write is by a `team:` handle: the command line refuses others (exit 2), the board opens read-only."""

import pytest

from data.models import Ticket


def test_a_write_by_a_handle_outside_the_team_exits_2_naming_it(run_cli):
    run_cli("ticket", "add", "x")
    for command in (("move", "SET-1", "ready", "--by", "nobody"), ("undo", "SET-1", "--by", "nobody"),
                    ("assign", "SET-1", "bob", "--by", "nobody"), ("ack", "SET-1", "--by", "nobody"),
                    ("ticket", "add", "y", "--by", "nobody")):
        result = run_cli(*command)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip().splitlines() == [
            "triageboard: unknown team member 'nobody' (team: alice, bob, carol, dan, erin, frank, grace)"]


def test_with_no_identity_a_write_exits_2_saying_how_to_set_it(run_cli, cli_env, monkeypatch):
    cli_env.pop("TRIAGEBOARD_USER")
    cli_env["USER"] = "root"  # a login name that is not a team handle does not count
    result = run_cli("ticket", "add", "x")
    assert result.returncode == 2 and "set TRIAGEBOARD_USER" in result.stderr
    cli_env["USER"] = "carol"  # one that is, does
    assert run_cli("ticket", "add", "x").returncode == 0


async def test_a_board_without_a_team_handle_is_read_only_and_says_so(config, db, db_url, monkeypatch):
    from app.service import Service
    from app.tui.app import TriageApp
    from tests.tui.screen import settle, toasts

    service = Service(config)
    ticket = service.create(title="x", by="alice", actionable="yes", acknowledged=True, priority=2)
    monkeypatch.delenv("TRIAGEBOARD_USER", raising=False)
    monkeypatch.setenv("USER", "root")
    async with TriageApp(config, db_url).run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert pilot.app.board.title == "triageboard · read-only"
        await pilot.press("L")
        await settle(pilot)
        assert Ticket.get_by_id(ticket.id).state == "todo"
        assert any("read-only board" in t and "TRIAGEBOARD_USER" in t for t in toasts(pilot.app))
    monkeypatch.setenv("TRIAGEBOARD_USER", "bob")
    async with TriageApp(config, db_url).run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert pilot.app.board.title == "triageboard · bob"
        await pilot.press("L")
        await settle(pilot)
        assert Ticket.get_by_id(ticket.id).state == "ready"
