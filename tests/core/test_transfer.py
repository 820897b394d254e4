"""Import and export: all rows or none, line numbers on errors, history kept."""

import json

CSV_HEADER = "title,key,state,priority,kind,service,requester,requester_name,assignee,description,created\n"


def test_csv_import_then_json_export_into_an_empty_database_is_identical(run_cli, tmp_path, new_db_url):
    source = tmp_path / "in.csv"
    source.write_text(CSV_HEADER +
                      "Login broken,SET-7,in_progress,P1,incident,LMS,a@x.org,Ann,alice,desc,2026-11-01T10:00:00Z\n"
                      "\"Title, with comma\",,todo,,question,,,,,,\n")
    result = run_cli("import", str(source))
    assert result.returncode == 0, result.stderr
    run_cli("move", "SET-7", "resolved", "--by", "bob")
    exported = tmp_path / "out.json"
    assert run_cli("export", "-o", str(exported)).returncode == 0
    first = json.loads(exported.read_text())["tickets"]
    assert [t["key"] for t in first] == ["SET-7", "SET-8"]

    empty = new_db_url()
    assert run_cli("import", str(exported), db=empty).returncode == 0
    again = tmp_path / "again.json"
    run_cli("export", "-o", str(again), db=empty)
    second = json.loads(again.read_text())["tickets"]

    def comparable(tickets):
        return [{**t, "history": [{k: v for k, v in h.items() if k != "id"} for h in t["history"]]}
                for t in tickets]

    assert comparable(second) == comparable(first)
    moves = [h for h in second[0]["history"] if h["kind"] == "move"]
    assert (moves[0]["from_state"], moves[0]["to_state"], moves[0]["by"]) == ("in_progress", "resolved", "bob")


def test_bad_row_reports_its_line_and_imports_nothing(run_cli, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(CSV_HEADER + "ok,,todo,P2,bug,,,,,,\n" + "bad,,todo,P9,bug,,,,,,\n")
    result = run_cli("import", str(source))
    assert result.returncode == 1
    assert f"{source}:3: priority must be P1, P2, P3 or P4" in result.stderr
    assert json.loads(run_cli("ticket", "list", "--json").stdout) == []


def test_unknown_column_and_duplicate_key_are_refused(run_cli, tmp_path):
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("title,colour\nx,red\n")
    result = run_cli("import", str(unknown))
    assert result.returncode == 1 and f"{unknown}:1: unknown column 'colour'" in result.stderr

    duplicate = tmp_path / "dup.csv"
    duplicate.write_text("title,key\na,SET-1\nb,SET-2\nc,SET-1\n")
    result = run_cli("import", str(duplicate))
    assert result.returncode == 1 and f"{duplicate}:4: duplicate key SET-1 (also on line 2)" in result.stderr
    assert json.loads(run_cli("ticket", "list", "--json").stdout) == []


def test_import_refuses_keys_already_in_the_database(run_cli, tmp_path):
    run_cli("ticket", "add", "existing")
    source = tmp_path / "clash.csv"
    source.write_text("title,key\nnew,SET-1\n")
    result = run_cli("import", str(source))
    assert result.returncode == 1 and "SET-1 already exists" in result.stderr


def test_a_field_only_a_later_ticket_sets_is_imported(run_cli, tmp_path):
    """insert_many takes its columns from the first row; a later row's extra field must not vanish."""
    source = tmp_path / "mixed.json"
    source.write_text(json.dumps({"tickets": [
        {"title": "plain", "kind": "bug"},
        {"title": "adhoc work", "kind": "bug", "work_type": "adhoc", "assignee": "alice"}]}))
    assert run_cli("import", str(source)).returncode == 0
    tickets = json.loads(run_cli("ticket", "list", "--json").stdout)
    second = next(t for t in tickets if t["title"] == "adhoc work")
    assert (second["work_type"], second["assignee"]) == ("adhoc", "alice")


def test_tickets_exported_without_history_are_imported(run_cli, tmp_path):
    """A JSON file whose tickets carry an empty history (written by hand or by another tool)."""
    source = tmp_path / "bare.json"
    source.write_text(json.dumps({"format": "triageboard", "version": 1, "tickets": [
        {"key": "SET-1", "title": "No history", "state": "todo", "history": []}]}))
    result = run_cli("import", str(source))
    assert result.returncode == 0, result.stderr
    assert [t["key"] for t in json.loads(run_cli("ticket", "list", "--json").stdout)] == ["SET-1"]


def test_csv_export_neutralises_formulas(run_cli, tmp_path):
    """A cell a spreadsheet would run (=, +, -, @, tab, CR first) is exported with a leading ' (issue 22.8)."""
    import csv

    for title in ("=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "plain"):
        assert run_cli("ticket", "add", "--", title).returncode == 0
    out = tmp_path / "out.csv"
    assert run_cli("export", "--format", "csv", "-o", str(out)).returncode == 0
    titles = [row[0] for row in csv.reader(out.open())][1:]
    assert titles == ["'=HYPERLINK(\"http://evil\")", "'+1+1", "'-2+3", "'@SUM(A1)", "plain"]


def test_a_huge_field_and_a_huge_key_are_clear_errors_with_their_line(run_cli, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("title,description\nok,fine\nlong," + "x" * 200_000 + "\n")
    result = run_cli("import", str(big))
    assert result.returncode == 1 and f"{big}:3: not valid CSV" in result.stderr, result.stderr
    assert "unexpected" not in result.stderr

    key = tmp_path / "key.csv"
    key.write_text("title,key\nok,SET-2\nbig,SET-99999999999999999999\n")
    result = run_cli("import", str(key))
    assert result.returncode == 1 and f"{key}:3: key 'SET-99999999999999999999'" in result.stderr, result.stderr
    assert json.loads(run_cli("ticket", "list", "--json").stdout) == []


def test_a_nul_character_is_refused_with_its_line_on_every_backend(run_cli, tmp_path):
    """SQLite would store it and PostgreSQL refuses it: import treats both alike (issue 21.3)."""
    source = tmp_path / "nul.json"
    source.write_text(json.dumps({"tickets": [{"title": "fine"}, {"title": "bad\u0000title"}]}, indent=1))
    result = run_cli("import", str(source))
    assert result.returncode == 1, result.stderr
    assert f"{source}:6: title: contains a NUL character" in result.stderr and "unexpected" not in result.stderr
    assert json.loads(run_cli("ticket", "list", "--json").stdout) == []


def test_safe_cell_covers_tab_and_carriage_return():
    from app.board.transfer import safe_cell

    assert [safe_cell(v) for v in ("\tx", "\rx", "a=b", "")] == ["'\tx", "'\rx", "a=b", ""]


def test_a_bad_requester_is_refused_with_its_line_and_the_plural_is_right(run_cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("title,requester\nok,ann@example.org\nbad,not-an-email\n")
    result = run_cli("import", str(bad))
    assert result.returncode == 1
    assert f"{bad}:3: requester: 'not-an-email' is not an e-mail address; nothing imported" in result.stderr
    assert json.loads(run_cli("ticket", "list", "--json").stdout) == []
    one = tmp_path / "one.csv"
    one.write_text("title,requester\nok,ann@example.org\n")
    assert run_cli("import", str(one)).stdout == "imported 1 ticket\n"
    added = run_cli("ticket", "add", "x", "--requester", "m9@x.org\r\nBcc: x")
    assert added.returncode == 1 and "is not an e-mail address" in added.stderr and "\r" not in added.stderr
