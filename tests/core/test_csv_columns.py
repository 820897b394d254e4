"""CSV import checked a column at a time: the same rows, and the same first error, as the row-by-row checker.

`_read_csv_rows` is the row-wise reader import used before (and still falls
back to); every test here compares the column-wise reader with it.
"""

import csv
import datetime as dt
import io
import itertools

import pytest

from app.board import transfer
from app.board.transfer import MAX_FIELD, ImportError_, _read_csv, _read_csv_rows
from app.service import Service

COLUMNS = list(transfer.CSV_COLUMNS)
NOW = dt.datetime(2026, 12, 1, 9, 30)
STATES = ("todo", "ready", "in_progress", "on_hold", "resolved", "closed", "")
PRIORITIES = ("P1", "p2", "3", " P4 ", "")
KINDS = ("incident", "bug", "question", "feature", "escalation", "")
SERVICES = ("LMS", "Mobile", "", "Ecommerce")
ASSIGNEES = ("alice", "", "bob", "grace")
TIMES = ("2026-01-01T00:07:00+00:00", "2026-01-02T10:00:00.123456+00:00", "2026-03-01T12:00:00Z",
         "2026-03-01T12:00:00+02:00", "2026-04-01 08:00", "2026-05-01", "")


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    """A blank `created` is the time of the import: one instant for both readers."""
    monkeypatch.setattr(transfer, "utcnow", lambda: NOW)


FELL_BACK: list[str] = []
"""The files the column-wise reader handed to the row-wise one (a test that compares them must know)."""


@pytest.fixture(autouse=True)
def watch_fallback(monkeypatch):
    def row_wise(config, text, name):
        FELL_BACK.append(name)
        return _read_csv_rows(config, text, name)

    monkeypatch.setattr(transfer, "_read_csv_rows", row_wise)
    FELL_BACK.clear()


def row(i: int, *, keyed: bool = True, times=TIMES) -> dict[str, str]:
    return {"title": f"Ticket {i}: <b>bold</b> [red]markup[/red], \"quoted\"" if i % 7 == 0 else f"Ticket {i}",
            "key": f"SET-{i + 10}" if keyed else "", "state": STATES[i % len(STATES)],
            "priority": PRIORITIES[i % len(PRIORITIES)], "kind": KINDS[i % len(KINDS)],
            "service": SERVICES[i % len(SERVICES)],
            "requester": f" user{i % 5}@example.org " if i % 3 else "", "requester_name": f"User {i % 5}",
            "assignee": ASSIGNEES[i % len(ASSIGNEES)],
            "description": "two\nlines, with a comma" if i % 4 == 0 else f"  plain {i}  ",
            "created": times[i % len(times)]}


def as_csv(rows: list[dict[str, str]], columns=COLUMNS, terminator: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=terminator)
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values[name] for name in columns])
    return out.getvalue()


def exact(rows) -> list[list[tuple[str, str]]]:
    """The rows with each value's type, so 1 and True, 1 and 1.0 differ."""
    return [sorted((name, f"{type(value).__name__}:{value!r}") for name, value in r.items()) for r in rows]


def by_row(config, text: str):
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        return _read_csv_rows(config, text, "in.csv")
    finally:
        csv.field_size_limit(previous)


def same_result(config, text: str, *, fallback: bool = False):
    """Both readers' tickets (equal), or both errors (equal); returns the message when they refuse.

    Unless `fallback`, the column-wise reader must have done it alone.
    """
    try:
        return _same_result(config, text)
    finally:
        assert bool(FELL_BACK) == fallback
        FELL_BACK.clear()


def _same_result(config, text: str):
    try:
        expected = by_row(config, text)
    except ImportError_ as exc:
        with pytest.raises(ImportError_) as got:
            _read_csv(config, text, "in.csv")
        assert str(got.value) == str(exc)
        return str(exc)
    assert exact(_read_csv(config, text, "in.csv").tickets) == exact(expected.tickets)
    return None


@pytest.mark.parametrize("shape", ["keyed", "unkeyed", "mixed", "crlf", "unquoted", "unquoted, blank lines", "columns",
                                   "blank lines"])
def test_the_columns_give_the_rows_the_row_checker_gives(db, config, shape):
    Service(config).create(title="already on the board")  # numbers continue after the board's highest
    rows = [row(i, keyed=shape != "unkeyed" and not (shape == "mixed" and i % 3)) for i in range(60)]
    if shape == "mixed":
        rows[5]["key"] = "set-500"  # lower case is the board's prefix; the blank keys after it go on from 501
    text = as_csv(rows, terminator="\r\n" if shape == "crlf" else "\n")
    if shape.startswith("unquoted"):  # no quote anywhere: the reader's fast path
        text = as_csv([{**r, "title": f"T{i}", "description": "d"} for i, r in enumerate(rows)])
        assert '"' not in text
        if shape == "unquoted, blank lines":
            lines = text.split("\n")
            text = "\n".join(lines[:3] + [" , ,,,,,,,,, ", ",,,,,,,,,,"] + lines[3:-1] + [""])  # cut at commas too
            assert transfer._split_columns(text, 1, len(COLUMNS)) is not None
    if shape == "columns":  # a subset, in another order, without requester or description
        text = as_csv(rows, ["created", "assignee", "title", "state", "key"])
    if shape == "blank lines":
        lines = text.split("\n")
        text = "\n".join(lines[:3] + ["", " , ,,,,,,,,, "] + lines[3:] + ["", ""])
    assert same_result(config, text) is None
    tickets = _read_csv(config, text, "in.csv").tickets
    assert len(tickets) == 60
    if shape == "mixed":
        # a blank key takes the number after the highest so far, the board's or the file's
        assert [t["key"] for t in tickets[:8]] == ["SET-10", "SET-11", "SET-12", "SET-13", "SET-14", "SET-500",
                                                   "SET-16", "SET-501"]
    if shape == "keyed":
        assert tickets[3]["hold_reason"] == "external" and tickets[3]["state"] == "on_hold"
        assert [t["rank"] for t in tickets if t["state"] == "todo"][:3] == [1.0, 2.0, 3.0]


def test_export_s_times_and_a_large_file_take_the_same_values(db, config):
    rows = [row(i, times=("2026-01-01T00:07:00+00:00", "2026-06-30T23:59:59.000001+00:00")) for i in range(3000)]
    assert same_result(config, as_csv(rows)) is None
    assert same_result(config, as_csv([{**r, "description": "d", "title": "t"} for r in rows])) is None


BAD = {  # a column's check, and a value it refuses
    "nul": ("description", "bad\x00cell"),
    "requester": ("requester", "not-an-email"),
    "title": ("title", ""),
    "key": ("key", "XYZ-1"),
    "key number": ("key", "SET-99999999999"),
    "key digits": ("key", "SET-1²"),
    "duplicate key": ("key", "SET-10"),
    "state": ("state", "<script>alert(1)</script>"),
    "priority": ("priority", "P9"),
    "kind": ("kind", "[bold]bogus[/bold]"),
    "service": ("service", "Nope"),
    "assignee": ("assignee", "mallory"),
    "created": ("created", "yesterday"),
    "created day": ("created", "2026-02-30T00:00:00+00:00"),
    "width": (None, None),
}


def spoil(rows: list[dict[str, str]], index: int, check: str) -> None:
    column, value = BAD[check]
    if column is None:
        rows[index]["description"] += '","one field too many'  # written quoted: a record of 12 fields
        rows[index]["extra"] = True
    else:
        rows[index][column] = value


def as_csv_spoiled(rows):
    text = as_csv([{k: v for k, v in r.items() if k != "extra"} for r in rows])
    if any(r.get("extra") for r in rows):
        text = text.replace('"",""one field too many"', '","one field too many"')
    return text


def line_of(rows: list[dict[str, str]], index: int) -> int:
    """The line a record ends on: the header's, one a record, one a line break in a description."""
    return 2 + index + sum(r["description"].count("\n") for r in rows[:index + 1])


def test_the_first_bad_row_is_reported_whichever_column_is_bad_later(db, config):
    """Each check's bad value at row 250, another check's at row 280: the earlier line and the row-wise message."""
    for early, late in itertools.permutations(BAD, 2):
        rows = [row(i) for i in range(300)]
        spoil(rows, 280, late)
        spoil(rows, 250, early)
        message = same_result(config, as_csv_spoiled(rows))
        assert message is not None and message.startswith(f"in.csv:{line_of(rows, 250)}: "), (early, late, message)


def test_two_bad_values_on_one_line_report_the_row_checker_s_first(db, config):
    for first, second in itertools.permutations([check for check in BAD if check != "width"], 2):
        rows = [row(i) for i in range(40)]
        spoil(rows, 30, second)
        spoil(rows, 30, first)
        message = same_result(config, as_csv_spoiled(rows))
        assert message is not None and message.startswith(f"in.csv:{line_of(rows, 30)}: "), (first, second, message)


def test_a_blank_key_numbered_like_a_later_key_is_a_duplicate_with_the_first_line(db, config):
    rows = [row(i, keyed=False) for i in range(20)]
    rows[15]["key"] = "SET-3"
    message = same_result(config, as_csv(rows))
    assert message == (f"in.csv:{line_of(rows, 15)}: duplicate key SET-3 (also on line {line_of(rows, 2)}); "
                       "nothing imported")


def test_hostile_cells(db, config):
    rows = [row(i) for i in range(30)]
    rows[12]["description"] = "x" * (MAX_FIELD - 1)  # long but within the limit: imported as it is
    rows[13]["title"] = "\x1b[31m<img src=x onerror=alert(1)>\u202e"
    assert same_result(config, as_csv(rows)) is None
    rows[20]["description"] = "y" * (MAX_FIELD + 1)
    rows[25]["state"] = "nowhere"
    assert same_result(config, as_csv(rows), fallback=True).startswith(  # the csv reader's error: the row-wise one
        f"in.csv:{line_of(rows, 20)}: not valid CSV: field larger than field limit")
    rows[20]["description"] = "fine"
    rows[8]["title"] = "a\x00b"
    assert same_result(config, as_csv(rows)) == (f"in.csv:{line_of(rows, 8)}: title: contains a NUL character (\\x00), which "
                                                 "PostgreSQL cannot store; nothing imported")
    rows[8]["title"] = "ok"
    rows[3]["key"] = "SET-1²"  # a digit to str.isdigit, not to int()
    assert same_result(config, as_csv(rows)) == (f"in.csv:{line_of(rows, 3)}: key 'SET-1²' does not match the "
                                                 "board's prefix (SET-N); nothing imported")
    rows[3]["key"] = "SET-13"
    assert same_result(config, as_csv(rows)).startswith(f"in.csv:{line_of(rows, 25)}: state: 'nowhere' is not one of")


def test_a_multi_line_cell_moves_the_lines_after_it(db, config):
    rows = [row(i) for i in range(10)]
    rows[2]["description"] = "one\ntwo\nthree"
    rows[6]["kind"] = "nope"
    message = same_result(config, as_csv(rows))
    assert message.startswith(f"in.csv:{line_of(rows, 6)}: kind: 'nope' is not one of"), message
    assert line_of(rows, 6) == 8 + 2 + 2  # the header, six records before, two line breaks in row 2, row 0's one


def test_only_a_header_or_only_blank_lines_import_nothing(db, config):
    for text in (as_csv([]), as_csv([]) + "\n\n", "title\n\n \n"):
        assert same_result(config, text) is None
        assert _read_csv(config, text, "in.csv").tickets == []
