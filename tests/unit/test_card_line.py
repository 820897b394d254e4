"""A card's two lines: exactly the column's width, users' text shown literally, the right side kept."""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style

from widgets.card import Card
from widgets.card_line import card_pieces, card_segments

STYLES = {name: Style(color=f"color({number})") for number, name in enumerate(
    ["column--ack", "column--stale", "column--key", "column--p1", "column--p2", "column--untriaged",
     "column--status", "column--assignee", "column--sla-ok", "column--sla-warning", "column--sla-breached",
     "column--cursor"], start=1)}


def card(**fields) -> Card:
    values = dict(id=1, key="SET-42", title="Login fails", priority="P1", assignee="alice", status="Open",
                  state="todo", version=1)
    return Card(**{**values, **fields})


def text(line: Card, part: int, width: int) -> str:
    return "".join(piece for piece, _ in card_pieces(line, part, width, STYLES.__getitem__))


def test_the_first_line_puts_the_assignee_at_the_right_edge():
    assert text(card(), 0, 24) == "SET-42 P1 Open     alice"
    assert text(card(assignee=""), 0, 24) == "SET-42 P1 Open         —"
    assert text(card(stale=True, needs_ack=True), 0, 24) == "⚑ ! SET-42 P1 Open alice"


def test_the_title_has_the_second_line_to_itself_and_the_countdown_ends_the_first():
    long = card(title="The export to CSV drops every other row", sla_label="8h left")
    assert text(long, 1, 30) == " The export to CSV drops ever…"
    assert text(long, 0, 30) == "SET-42 P1 Open alice   8h left"
    assert text(card(title="x" * 50), 1, 20) == " " + "x" * 18 + "…"


def test_the_status_shows_only_where_it_differs_from_the_columns():
    assert text(card(status="On Hold", default_status="On Hold"), 0, 24) == "SET-42 P1          alice"
    assert text(card(status="Pending", default_status="On Hold"), 0, 24) == "SET-42 P1 Pending  alice"
    assert text(card(status="Solved", default_status="Released"), 0, 24) == "SET-42 P1 Solved   alice"


def test_a_narrow_line_cuts_the_assignee_before_the_key_and_the_countdown():
    late = card(assignee="bob", sla_label="overdue 2h", status="Pending", default_status="On Hold")
    assert text(late, 0, 32) == "SET-42 P1 Pending bob overdue 2h"
    assert text(late, 0, 28) == "SET-42 P1 Pending overdue 2h"
    assert text(late, 0, 21) == "SET-42 P1  overdue 2h"
    assert text(late, 0, 12) == "SET-42 over…"


def test_any_width_gives_a_line_of_that_width_and_none_crashes():
    shapes = [card(), card(sla_label="overdue 40h", needs_ack=True, stale=True, paged=("alice", "bob")),
              card(assignee="bob-the-builder", title="日本語のタイトル", status="Pending", default_status="On Hold")]
    for shape in shapes:
        for width in range(-2, 60):
            for part in (0, 1):
                assert cell_len(text(shape, part, width)) == max(width, 0)


def test_wide_characters_are_measured_in_cells():
    for width in (20, 21, 24):
        for part in (0, 1):
            line = text(card(title="日本語のタイトルがとても長い", assignee="名前さん", sla_label="paused"), part, width)
            assert cell_len(line) == width


def test_markup_and_control_codes_in_users_text_are_not_interpreted():
    assert text(card(title="[bold]x[/] [link=x]y"), 1, 30).strip() == "[bold]x[/] [link=x]y"
    assert text(card(title="bell\x07 and\nnewline"), 1, 30).strip() == "bell␇ and newline"  # shown, not rung (widgets.safe_text)


def test_the_paged_people_end_the_first_line_while_a_page_waits():
    assert text(card(needs_ack=True, paged=("alice", "bob"), sla_label="8h left"), 0, 30).endswith("→ alice, bob")


def test_an_at_risk_countdown_keeps_its_colour_under_the_cursor():
    at_risk = card(sla_label="overdue 2h", sla_style="breached")
    keep = Style(color=STYLES["column--sla-breached"].color, bold=True)
    segments = card_segments(at_risk, 0, 30, STYLES.__getitem__, Style(), STYLES["column--cursor"], keep)
    assert segments[-1].text == "overdue 2h"
    assert segments[-1].style.color == STYLES["column--sla-breached"].color and segments[-1].style.bold
    assert segments[0].style.color == STYLES["column--cursor"].color


def test_a_long_assignee_in_a_narrow_column_leaves_room_for_the_key():
    line = text(card(assignee="bob-the-builder"), 0, 16)
    assert line.startswith("SET-42") and line.endswith("bob-the…") and cell_len(line) == 16


def test_an_answered_card_is_marked_on_its_first_line():
    """Issue 19.9: the requester replied and nobody has looked: a mark the card line shows."""
    assert text(card(answered=True), 0, 40).startswith("✉ ")
    assert "✉" not in text(card(), 0, 40)


def compact(line: Card, width: int) -> str:
    from widgets.card_line import compact_pieces

    return "".join(piece for piece, _ in compact_pieces(line, width, STYLES.__getitem__))


def test_a_compact_card_is_its_key_title_and_countdown_on_one_line():
    long = card(title="The export to CSV drops every other row", sla_label="8h left", sla_style="ok")
    assert compact(long, 40) == "SET-42 The export to CSV drops every… 8h"
    assert compact(card(sla_label="overdue 2h"), 40) == "SET-42 Login fails" + " " * 12 + "overdue 2h"
    assert compact(card(stale=True, answered=True, sla_label="paused"), 30) == "SET-42 Login fails  ! ✉ paused"
    flagged = card(needs_ack=True, paged=("frank",), sla_label="1h left")
    assert compact(flagged, 30).endswith("⚑ → frank") and compact(flagged, 30).startswith("SET-42 Login")


def test_a_narrow_compact_line_cuts_the_title_then_the_countdown_and_keeps_the_key():
    long = card(title="The export to CSV drops every other row", sla_label="overdue 12h 30m")
    assert compact(long, 30) == "SET-42 The export … overdue 1…"  # the title keeps 12 cells, the countdown the rest
    assert compact(long, 20) == "SET-42 The export t…"  # no room for both: the title's
    for width in range(0, 50):
        line = compact(long, width)
        assert cell_len(line) == width, width
        if width >= 7:
            assert line.startswith("SET-42"), (width, line)


def test_a_compact_at_risk_countdown_keeps_its_colour_under_the_cursor():
    at_risk = card(sla_label="overdue 2h", sla_style="breached")
    keep = Style(color="red", bold=True)
    segments = card_segments(at_risk, 0, 30, STYLES.__getitem__, Style(), STYLES["column--cursor"], keep,
                             compact=True)
    assert segments[-1].text == "overdue 2h" and segments[-1].style.color.name == "red"
