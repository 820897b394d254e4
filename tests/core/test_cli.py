"""The command line as scripts use it: subprocesses, exit codes, one line on stderr."""

import json


def test_add_move_show_round_trip(run_cli):
    added = run_cli("ticket", "add", "Checkout fails", "--requester", "r@example.org", "--kind", "incident",
                    "--json")
    assert added.returncode == 0, added.stderr
    key = json.loads(added.stdout)["key"]
    assert key == "SET-1"
    assert json.loads(added.stdout)["support_status"] == "Open"

    moved = run_cli("move", key, "closed", "--by", "alice")
    assert moved.returncode == 0, moved.stderr
    assert "Open -> Released" in moved.stdout

    shown = json.loads(run_cli("ticket", "show", key, "--json").stdout)
    assert shown["state"] == "closed" and shown["support_status"] == "Released"
    assert [(h["kind"], h["from_state"], h["to_state"], h["by"], h["reason"]) for h in shown["history"]] == [
        ("create", None, "todo", "alice", ""), ("move", "todo", "closed", "alice", "solved by support")]


def test_forbidden_move_exits_1_with_one_line(run_cli):
    run_cli("ticket", "add", "x")
    refused = run_cli("move", "SET-1", "resolved")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "allowed from To Do: Ready (ready), On Hold (on_hold), Closed (closed)" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_unknown_key_exits_1(run_cli):
    result = run_cli("move", "SET-404", "ready")
    assert result.returncode == 1 and "no ticket 'SET-404'" in result.stderr


def test_bad_usage_and_bad_config_exit_2(run_cli, tmp_path):
    assert run_cli("move", "SET-1").returncode == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("board:\n  key: SET\n  colour: red\n")
    result = run_cli("ticket", "list", config=broken)
    assert result.returncode == 2
    assert result.stderr.strip() == f"triageboard: {broken}:3: board.colour: unknown key (expected one of: key, timezone)"


def test_opening_the_board_with_a_bad_config_or_database_exits_2_with_one_line(run_cli, tmp_path):
    """No command: the board opens without click (app.cli.launch), and fails exactly as a command does."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("board:\n  key: SET\n  colour: red\n")
    result = run_cli(config=broken)
    assert (result.returncode, result.stderr.strip()) == (
        2, f"triageboard: {broken}:3: board.colour: unknown key (expected one of: key, timezone)")
    result = run_cli(db="mysql://db/board")
    assert result.returncode == 2
    assert result.stderr.strip() == ("triageboard: unsupported database URL 'mysql://db/board' "
                                     "(use sqlite:///FILE or postgresql://…)")


def test_list_filters_by_state_and_prints_json(run_cli):
    for title in ("a", "b", "c"):
        run_cli("ticket", "add", title)
    run_cli("move", "SET-2", "closed")
    listed = json.loads(run_cli("ticket", "list", "--state", "todo", "--json").stdout)
    assert [t["key"] for t in listed] == ["SET-1", "SET-3"]


def test_markup_in_titles_is_kept_literally(run_cli):
    run_cli("ticket", "add", "[bold]x[/] and [link=http://evil]y[/link]")
    shown = run_cli("ticket", "show", "SET-1")
    assert "[bold]x[/] and [link=http://evil]y[/link]" in shown.stdout


def test_show_indents_every_line_of_a_multi_line_description(run_cli):
    added = run_cli("ticket", "add", "Hub down", "--description", "first line\nsecond line\n\nafter a gap",
                    "--json")
    key = json.loads(added.stdout)["key"]
    out = run_cli("ticket", "show", key).stdout.splitlines()
    start = out.index("  first line")
    assert out[start:start + 4] == ["  first line", "  second line", "", "  after a gap"]
