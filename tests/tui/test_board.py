"""The board as a user drives it: press keys, then check the database and what is on screen."""

from __future__ import annotations

import dataclasses

import msgspec
from textual.widgets import DataTable, OptionList

from app.tui.screens import CardDetailScreen, HelpScreen, HoldReasonPicker, MovePicker
from data.models import History, Ticket
from widgets import Column
from widgets.status_line import StatusLine

from tests.tui.screen import lines, settle, timeline, title_of, toasts

SIZE = (160, 45)


def state_of(ticket) -> str:
    return Ticket.get_by_id(ticket.id).state


def moves_of(ticket) -> list[History]:
    return list(History.select().where((History.ticket == ticket.id) & (History.kind == "move"))
                .order_by(History.id))


async def test_headers_show_title_count_and_wip_limit(make_app, seed, wide_columns):
    seed("one")
    seed("two")
    seed("busy", state="in_progress")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        assert str(board.column("todo").border_title) == "To Do 2"
        assert str(board.column("in_progress").border_title) == "In Progress 1/5"
        assert str(board.column("closed").border_title) == "Closed 0"
        assert lines(pilot.app, "closed") == []


async def test_cards_show_key_priority_status_assignee_and_title(make_app, seed):
    seed("Login page is blank", assignee="bob", priority=1)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)  # the response-target countdown arrives from a worker
        first, second = lines(pilot.app, "todo")[:2]
        # ⚑: a new P1 waits for its ack; "Open", To Do's own status, goes without saying; the countdown
        # (first response: 1 working hour) ends the first line, so the title has the second to itself.
        assert first.startswith("⚑ SET-1 P1 bob") and first.endswith("1h left") and "Open" not in first
        assert second.strip() == "Login page is blank"


async def test_cursor_moves_within_and_between_columns(make_app, seed):
    a, b = seed("alpha"), seed("beta")
    c = seed("gamma", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        assert board.current_card.key == a.key
        await pilot.press("j")
        assert board.current_card.key == b.key
        await pilot.press("down")  # past the last card: stays
        assert board.current_card.key == b.key
        await pilot.press("k")
        assert board.current_card.key == a.key
        await pilot.press("l")
        assert board.focused_column.state == "ready" and board.current_card.key == c.key
        await pilot.press("right")
        assert board.focused_column.state == "in_progress" and board.current_card is None
        await pilot.press("left", "h")
        assert board.focused_column.state == "todo"
        await pilot.press("h")  # the first column has nothing to its left
        assert board.focused_column.state == "todo"
        status = board.query_one("#status", StatusLine).text
        assert a.key in status and "can move to: Ready, On Hold, Closed" in status


def border_colours(board) -> list[str]:
    """Each column's border colour, as painted: the active one stands out."""
    return [column.styles.border_top[1].hex for column in board.columns]


async def test_the_active_column_has_the_accent_border_in_every_theme(make_app, seed):
    from textual.color import Color

    seed("alpha")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board

        def plain() -> str:  # the stylesheet's column border (app/triageboard.tcss)
            return Color.parse(pilot.app.get_css_variables()["panel-lighten-2"]).hex

        accent = board.card_styles.color("column--border-active").hex
        assert accent != plain()
        assert border_colours(board) == [accent] + [plain()] * 5
        await pilot.press("l", "l")
        assert border_colours(board) == [plain(), plain(), accent, plain(), plain(), plain()]

        dark_plain = plain()
        pilot.app.theme = "textual-light"
        await settle(pilot)
        light_accent = board.card_styles.color("column--border-active").hex
        assert plain() != dark_plain  # the light theme's own panel colour, not the dark theme's left behind
        assert border_colours(board) == [plain(), plain(), light_accent, plain(), plain(), plain()]


async def test_L_and_H_move_the_card_and_the_cursor_follows(make_app, seed):
    ticket = seed("Checkout fails")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await settle(pilot)
        assert state_of(ticket) == "ready"
        board = pilot.app.board
        assert board.focused_column.state == "ready" and board.current_card.key == ticket.key
        assert lines(pilot.app, "todo") == []
        assert lines(pilot.app, "ready")[0].startswith(f"{ticket.key} P2 ")
        assert str(board.column("ready").border_title) == "Ready 1"
        await pilot.press("L")  # Ready -> In Progress, the same card
        await settle(pilot)
        assert state_of(ticket) == "in_progress"
        await pilot.press("H")
        await settle(pilot)
        assert state_of(ticket) == "ready"
    history = moves_of(ticket)
    assert [(h.from_state, h.to_state, h.by) for h in history] == [
        ("todo", "ready", "alice"), ("ready", "in_progress", "alice"), ("in_progress", "ready", "alice")]
    assert (history[1].status_before, history[1].status_after) == ("Open", "In Progress")


async def test_shift_arrows_move_the_card(make_app, seed):
    ticket = seed("Shifty")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("shift+right")
        await settle(pilot)
        assert state_of(ticket) == "ready"
        await pilot.press("shift+left")
        await settle(pilot)
        assert state_of(ticket) == "todo"


async def test_two_quick_moves_both_apply(make_app, seed):
    """A second key press while the first move is writing is replayed on the fresh card, not lost to a conflict."""
    ticket = seed("Fast fingers")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("L", "L")
        await settle(pilot)
        assert state_of(ticket) == "in_progress"
        assert not [t for t in toasts(pilot.app) if "Changed elsewhere" in t]


async def test_forbidden_move_is_refused_with_the_allowed_moves_and_nothing_changes(make_app, seed):
    ticket = seed("Waiting on vendor", state="on_hold", hold_reason="external")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "l", "l")  # to the On Hold column
        assert pilot.app.board.current_card.key == ticket.key
        await pilot.press("L")  # On Hold -> Resolved is not in the graph
        await settle(pilot)
        [toast] = toasts(pilot.app)
        assert toast.startswith("Move refused:")
        assert "cannot move from On Hold to Resolved" in toast
        assert "allowed from On Hold: In Progress (in_progress), Ready (ready), To Do (todo)" in toast
        assert lines(pilot.app, "on_hold")[0].startswith(f"{ticket.key} P2 ")
    assert state_of(ticket) == "on_hold" and moves_of(ticket) == []


async def test_untriaged_card_cannot_enter_ready(make_app, seed):
    ticket = seed("Vague report", triaged=False)
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await settle(pilot)
        assert any("triage is not complete" in t for t in toasts(pilot.app))
    assert state_of(ticket) == "todo"


async def test_first_column_has_nothing_to_its_left(make_app, seed):
    ticket = seed("Edge")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("H")
        await settle(pilot)
        assert any("already in the first column" in t for t in toasts(pilot.app))
    assert state_of(ticket) == "todo"


async def test_m_lists_only_allowed_targets_and_asks_the_hold_reason(make_app, seed):
    ticket = seed("Need logs from the requester")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("m")
        picker = pilot.app.screen
        assert isinstance(picker, MovePicker)
        options = picker.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == \
            ["ready", "on_hold", "closed"]
        await pilot.press("down", "enter")  # On Hold
        assert isinstance(pilot.app.screen, HoldReasonPicker)
        await pilot.press("enter")  # waiting on the requester
        await settle(pilot)
        assert lines(pilot.app, "on_hold")[0].startswith(f"{ticket.key} P2 Pending")
    fresh = Ticket.get_by_id(ticket.id)
    assert (fresh.state, fresh.hold_reason) == ("on_hold", "requester")
    [move] = moves_of(ticket)
    assert (move.status_before, move.status_after, move.hold_reason) == ("Open", "Pending", "requester")


async def test_escape_from_the_pickers_changes_nothing(make_app, seed):
    ticket = seed("Undecided")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("m", "escape")
        await pilot.press("m", "down", "enter", "escape")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
    assert state_of(ticket) == "todo" and moves_of(ticket) == []


async def test_undo_reverses_the_last_move_of_this_session(make_app, seed):
    ticket = seed("Oops")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert state_of(ticket) == "todo"
        assert pilot.app.board.focused_column.state == "todo"
        assert any(t.startswith("Undone:") for t in toasts(pilot.app))
        await pilot.press("u")  # nothing left to undo in this session
        await settle(pilot)
        assert any("no move to undo" in t for t in toasts(pilot.app))
    first, second = moves_of(ticket)
    assert (second.from_state, second.to_state, second.undoes) == ("ready", "todo", first.id)


async def test_enter_shows_the_detail_with_full_history(make_app, seed, service):
    ticket = seed("History lesson", state="ready")
    service.move(ticket.key, "in_progress", by="bob")
    service.move(ticket.key, "on_hold", by="carol", hold_reason="external", reason="vendor")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "l", "l", "enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, CardDetailScreen)
        entries = [entry.split("  ", 1)[1] for entry in timeline(detail)]  # less the time
        assert entries == [
            "lead  created in Ready  [Open]",
            "bob  Ready → In Progress  [Open → In Progress]",
            "carol  In Progress → On Hold (external): vendor  [In Progress → On Hold]",
        ]
        assert "History lesson" in str(detail.query_one("#detail-title").render())
        await pilot.press("escape")
        assert pilot.app.screen is pilot.app.board


async def test_filter_shows_matching_cards_and_counts(make_app, seed):
    seed("Login page is blank")
    seed("Payment declined")
    seed("Cannot login on mobile", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.press(*"login", "enter")
        await settle(pilot)
        board = pilot.app.board
        assert str(board.column("todo").border_title) == "To Do 1 of 2"  # in view, of all (issue 19.8)
        assert str(board.column("ready").border_title) == "Ready 1 of 1"
        assert lines(pilot.app, "todo")[1].strip().startswith("Login page is")  # then its countdown
        await pilot.press("slash", *["backspace"] * 5, "enter")  # clear it
        await settle(pilot)
        assert str(board.column("todo").border_title) == "To Do 2"


async def test_markup_in_titles_is_shown_literally(make_app, seed, config):
    seed("[bold]x[/] y")
    seed("[link=x]z")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)  # the countdown shares the title line; let it land first
        shown = lines(pilot.app, "todo")
        assert title_of(shown[1]) == "[bold]x[/] y"
        assert title_of(shown[3]) == "[link=x]z"
        await pilot.press("enter")
        await settle(pilot)
        assert "[bold]x[/] y" in str(pilot.app.screen.query_one("#detail-title").render())


async def test_wip_limit_refuses_by_default(make_app, seed):
    for n in range(5):
        seed(f"busy {n}", state="in_progress")
    ticket = seed("one too many", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "L")
        await settle(pilot)
        assert any("In Progress is at its WIP limit (5/5)" in t for t in toasts(pilot.app))
        assert str(pilot.app.board.column("in_progress").border_title) == "In Progress 5/5"
    assert state_of(ticket) == "ready"


async def test_wip_limit_warns_when_configured_to(config, db_url, seed):
    from app.tui.app import TriageApp

    warn = dataclasses.replace(config, workflow=msgspec.structs.replace(config.workflow, wip_policy="warn"))
    for n in range(5):
        seed(f"busy {n}", state="in_progress")
    ticket = seed("one too many", state="ready")
    async with TriageApp(warn, db_url, user="alice").run_test(size=SIZE) as pilot:
        await pilot.press("l", "L")
        await settle(pilot)
        assert any(t.startswith("Moved, with a warning:") for t in toasts(pilot.app))
        assert str(pilot.app.board.column("in_progress").border_title) == "In Progress 6/5"
        assert pilot.app.board.column("in_progress").has_class("-over-limit")
    assert state_of(ticket) == "in_progress"


async def test_a_card_moved_elsewhere_is_refreshed_not_overwritten(make_app, seed, service, wide_columns):
    ticket = seed("Contended")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)  # the board is up, countdowns and all
        pilot.app.listener.stop()  # this board has not heard of bob's move yet (a live board would within 1 s)
        service.move(ticket.key, "closed", by="bob")  # another board, behind this one's back
        await pilot.press("L")
        await settle(pilot)
        assert any(t.startswith("Changed elsewhere:") and "moved to Closed by bob" in t for t in toasts(pilot.app)), toasts(pilot.app)
        assert lines(pilot.app, "todo") == []
        assert lines(pilot.app, "closed")[0].startswith(ticket.key)
    assert state_of(ticket) == "closed"


async def test_help_lists_every_binding(make_app, seed):
    seed("anything")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        table = help_screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        for ident in ("board.left", "board.right", "column.cursor_up", "column.cursor_down", "board.move_left",
                      "board.move_right", "board.move_to", "board.detail", "board.filter", "board.undo",
                      "board.help", "app.quit"):
            assert ident in rows, ident
        assert "H" in rows["board.move_left"] and "shift" in rows["board.move_left"].lower()
        assert any("palette" in str(table.get_row_at(i)[1]).lower() for i in range(table.row_count))


async def test_keymap_remaps_a_binding_by_id(make_app, seed):
    ticket = seed("Remapped")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.update_keymap({"board.move_right": "ctrl+l"})
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert state_of(ticket) == "ready"


def config_with_keys(tmp_path, keys: str):
    """The repo's config.yaml with a `keys:` section appended; returns (path, line of its first entry)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "config.yaml").read_text().rstrip("\n") + "\n"
    path = tmp_path / "config.yaml"
    path.write_text(text + "keys:\n" + keys)
    return path, text.count("\n") + 2


async def test_keys_in_config_yaml_remap_a_binding(tmp_path, db_url, seed):
    from app.config.settings import load_config
    from app.tui.app import TriageApp

    path, _ = config_with_keys(tmp_path, "  board.move_right: ctrl+l\n")
    ticket = seed("Remapped from the file")
    app = TriageApp(load_config(path), db_url, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert state_of(ticket) == "ready"


def test_a_mistyped_binding_id_in_keys_names_the_file_line_and_key(tmp_path, db_url):
    import pytest

    from app.config.settings import load_config
    from app.tui.app import TriageApp
    from app.config.yamlnodes import ConfigError

    path, line = config_with_keys(tmp_path, "  board.reports: R\n  board.mvoe_right: ctrl+l\n")
    with pytest.raises(ConfigError) as caught:
        TriageApp(load_config(path), db_url, user="alice")
    assert (caught.value.path, caught.value.line, caught.value.key) == (str(path), line + 1, "keys.board.mvoe_right")
    assert "no key binding has the id 'board.mvoe_right'" in caught.value.message


async def test_palette_commands_follow_the_selected_card(make_app, seed):
    ticket = seed("Palette")
    async with make_app().run_test(size=SIZE) as pilot:
        names = [c.name for c in pilot.app.board.palette_commands()]
        assert names[:4] == [f"Move {ticket.key} to Ready", f"Move {ticket.key} to On Hold",
                             f"Move {ticket.key} to Closed", f"Open {ticket.key}: detail and history"]
        await pilot.press("ctrl+p")
        await pilot.press(*"to closed")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert state_of(ticket) == "closed"


async def test_q_quits(make_app):
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not pilot.app.is_running


async def test_columns_are_virtual(make_app, service, wide_columns):
    """A column of 300 cards is one widget that paints only what is on screen."""
    from app.config.settings import KINDS  # noqa: F401  (the config module loads; rows go in raw)
    import datetime as dt

    now = dt.datetime(2026, 11, 3)
    rows = [dict(key=f"SET-{n}", number=n, title=f"card {n}", state="closed", rank=float(n), sort_key=15,
                 state_entered=now, created=now, updated=now) for n in range(1, 301)]
    service.bulk_insert(rows)
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        assert len(board.query(Column)) == 6
        closed = board.column("closed")
        assert closed.virtual_size.height == 600
        assert len(closed._pages) == 1  # one page painted
        shown = closed.scrollable_content_region.height // 2  # cards in view (two lines each)
        assert str(closed.border_subtitle) == f"1–{shown} of 300"  # where you are, in the bottom border
        assert str(board.column("todo").border_subtitle) == ""  # nothing out of view: nothing said
        await pilot.press(*"lllll", "end")
        await pilot.pause()
        assert closed.current_card.key == "SET-300"
        assert lines(pilot.app, "closed")[-1].strip() == "card 300"
        assert str(closed.border_subtitle) == f"{301 - shown}–300 of 300"


async def test_toasts_show_users_words_literally(make_app):
    """A refusal quotes handles and keys; markup in them must not be interpreted (or crash the toast)."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        app.notify("moved by [bold]mallory[/] and [link=http://x]y")
        await pilot.pause()
        toast = list(app._notifications)[-1]
        assert toast.markup is False
        assert "[bold]mallory[/]" in toast.message


def test_detail_times_are_on_the_boards_wall_clock(config, db, service):
    """London is an hour ahead of UTC in July: the detail shows 11:00 for a move stored at 10:00 UTC."""
    import datetime as dt

    from app.tui.screens.detail import load_detail

    service.clock = lambda: dt.datetime(2026, 7, 1, 10, 0)  # naive UTC, as stored
    ticket = service.create(title="Summer", by="alice")
    detail = load_detail(service, ticket.key)
    assert detail.zone == "Europe/London"
    assert detail.history[0].at == "2026-07-01 11:00"


async def test_a_bad_holiday_region_found_after_the_first_paint_closes_the_board_with_the_error(
        tmp_path, db_url, seed, capsys):
    """The board defers the holidays check past its first paint; a bad region still ends it as the
    command line would: status 2 and the file, line and key, never a traceback."""
    from pathlib import Path

    from app.config.settings import load_config
    from app.tui.app import TriageApp

    text = (Path(__file__).resolve().parents[2] / "config.yaml").read_text()
    assert "country: GB" in text
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("country: GB", "country: XX", 1))
    line = text.splitlines().index(next(s for s in text.splitlines() if "country: GB" in s)) + 1
    config = load_config(bad, defer_checks=True)
    seed("alpha")
    app = TriageApp(config, db_url, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(200):  # the check imports the holidays library in a worker: slow on a loaded machine
            await settle(pilot)
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 2
    printed = capsys.readouterr().err
    unfolded = "".join(printed.split())  # the console folds long lines, paths included
    assert "".join(f"triageboard: {bad}:{line}: sla.holidays.country".split()) in unfolded
    assert "not a country code" in printed and "Traceback" not in printed


def test_the_counts_read_as_the_board_opens_are_taken_once_and_never_under_a_filter(seed, config):
    from app.board.source import BoardSource
    from data.board_queries import start_counting

    seed("Login page is blank")
    seed("Payment declined", state="ready")
    source = BoardSource(config.workflow, first_counts=start_counting())
    assert (source.counts()["todo"], source.counts()["ready"]) == (1, 1)
    seed("Cannot login on mobile")
    assert source.counts()["todo"] == 2  # counted again: the opening figures serve the first paint only
    filtered = BoardSource(config.workflow, text_filter="login", first_counts=start_counting())
    assert (filtered.counts()["todo"], filtered.counts()["ready"]) == (2, 0)


async def test_the_title_bar_shows_the_board_and_the_filter_literally(make_app, seed):
    seed("Brackets [b] in a title")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = pilot.app.board.query_one("TitleBar")
        assert str(bar.render()).startswith("triageboard · alice — SET")  # who you are, then the board
        await pilot.press("slash", *"[b]", "enter")
        await settle(pilot)
        assert "filter: [b]" in str(bar.render())
        assert lines(pilot.app, "todo")[1].strip().startswith("Brackets [b]")


async def test_columns_paint_exactly_what_textuals_own_pipeline_paints(make_app, seed):
    """A column paints its card rows itself (framed, filtered, cached) for speed; cell for cell, colour for
    colour, that must be what Textual's styles pipeline paints: active or not, at its limit, scrolled,
    in either theme, and with styles only Textual's pipeline draws."""
    from textual.geometry import Region
    from textual.scroll_view import ScrollView

    for n in range(30):
        seed(f"card {n} [b]x[/b] ✓ 漢字", assignee="bob" if n % 2 else None)
    for n in range(5):
        seed(f"busy {n}", state="in_progress")

    def cells(strips) -> list[list[tuple]]:
        return [[(char, segment.style) for segment in strip for char in segment.text] for strip in strips]

    def assert_same(board) -> None:
        for column in board.columns:
            whole = Region(0, 0, *column.outer_size)
            ours = column.render_lines(whole)
            column._styles_cache.clear()
            textuals = ScrollView.render_lines(column, whole)
            assert cells(ours) == cells(textuals), column.state
            part = Region(3, 2, column.outer_size.width - 5, 4)  # a crop, as the compositor asks under a dialog
            assert cells(column.render_lines(part)) == cells(ScrollView.render_lines(column, part)), column.state

    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        await settle(pilot)
        assert board.column("todo")._card_frame() is not None  # the board's own styles take the fast path
        assert_same(board)
        await pilot.press("j", "j", "pagedown", "l", "l")
        await settle(pilot)
        assert board.column("in_progress").has_class("-at-limit")
        assert_same(board)
        await pilot.press("h", "h", "j", "L", "H")  # back under the first border it painted, cards moved meanwhile
        await settle(pilot)
        assert_same(board)
        pilot.app.theme = "textual-light"
        await settle(pilot)
        assert_same(board)
        from textual.filter import Monochrome

        pilot.app._filters.append(Monochrome())  # as NO_COLOR=1 sets up
        board.refresh()
        await settle(pilot)
        assert_same(board)
        column = board.column("todo")
        column.styles.padding = (0, 1)
        await settle(pilot)
        assert column._card_frame() is None
        assert_same(board)


async def test_the_key_bar_follows_the_mode_and_a_click_on_a_key_presses_it(make_app, seed):
    from widgets.key_bar import KeyBar

    seed("alpha")
    async with make_app().run_test(size=SIZE) as pilot:
        bar = pilot.app.board.query_one(KeyBar)
        assert "Leave triage" not in bar.render_line(0).text
        await pilot.press("t")
        await settle(pilot)
        assert "esc Leave triage" in bar.render_line(0).text  # triage mode's keys, once it is on
        await pilot.press("escape")
        await settle(pilot)
        line = bar.render_line(0).text
        assert "Leave triage" not in line
        await pilot.click(KeyBar, offset=(line.index(" ? Help") + 1, 0))
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)


async def test_the_status_line_shows_a_long_title_literally_and_cut_with_an_ellipsis(make_app, seed):
    seed("[b]bold?[/b] " + "very long title " * 20)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        line = pilot.app.board.query_one("#status", StatusLine).render_line(0).text
        assert "SET-1 P2 Open · [b]bold?[/b] very long title" in line
        assert line.endswith("…") and len(line) == pilot.app.board.query_one("#status").size.width


async def test_help_says_there_is_more_below_and_lists_the_reports_keys(make_app, seed):
    seed("anything")
    async with make_app().run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = pilot.app.screen
        table = help_screen.query_one(DataTable)
        ids = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert {"reports.previous", "reports.next", "reports.back", "board.collapse"} <= ids
        more = str(help_screen.query_one("#help-more").render())
        assert "↓ more below" in more and f"of {table.row_count}" in more
        await pilot.press("end")
        await pilot.pause()
        table.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "↓ more below" not in str(help_screen.query_one("#help-more").render())


async def test_a_refusal_toast_leaves_the_status_line_readable(make_app, seed):
    seed("Waiting on vendor", state="on_hold", hold_reason="external")
    async with make_app().run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("l", "l", "l", "L")  # On Hold -> Resolved is refused
        await settle(pilot)
        await pilot.pause(0.3)
        from textual.widgets._toast import Toast

        [toast] = [w for w in pilot.app.screen.walk_children(with_self=False) if isinstance(w, Toast)]
        status = pilot.app.board.query_one("#status", StatusLine)
        assert toast.region.height and not toast.region.overlaps(status.region)


def test_a_key_given_to_two_bindings_of_one_screen_names_the_file_line_and_key(tmp_path, db_url):
    """Issue 19.5: `board.reports: t` took `t` from triage mode without a word."""
    import pytest

    from app.config.settings import load_config
    from app.tui.app import TriageApp
    from app.config.yamlnodes import ConfigError

    path, line = config_with_keys(tmp_path, "  board.move_right: ctrl+l\n  board.reports: t\n")
    with pytest.raises(ConfigError) as caught:
        TriageApp(load_config(path), db_url, user="alice")
    assert (caught.value.path, caught.value.line, caught.value.key) == (str(path), line + 1, "keys.board.reports")
    assert "'t'" in caught.value.message and "triage.toggle" in caught.value.message


async def test_remapped_bindings_stay_in_the_key_bar(tmp_path, db_url, seed):
    """Issue 19.5: remapped bindings were in `?` but not in the key bar."""
    from app.config.settings import load_config
    from app.tui.app import TriageApp
    from widgets.key_bar import KeyBar

    path, _ = config_with_keys(tmp_path, '  board.reports: G\n  board.move_right: "L,>"\n')
    seed("alpha")
    app = TriageApp(load_config(path), db_url, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        line = pilot.app.board.query_one(KeyBar).render_line(0).text
        assert " G Reports " in line, line
        assert "Move right" in line, line
        assert " r Reports" not in line


async def test_a_filtered_column_shows_its_cards_in_view_and_its_whole_wip_count(make_app, seed):
    """Issue 19.8: under `/checkout` the header read `In Progress 0/5` and `L` was then refused `(5/5)`."""
    for n in range(5):
        seed(f"login {n}", state="in_progress")
    seed("checkout fails", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        await settle(pilot)
        assert str(board.column("in_progress").border_title) == "In Progress 5/5"
        await pilot.press("slash", *"checkout", "enter")
        await settle(pilot)
        assert str(board.column("in_progress").border_title) == "In Progress 0 of 5/5"
        assert board.column("in_progress").has_class("-at-limit")
        assert str(board.column("ready").border_title).endswith("Ready 1 of 1")
        await pilot.press("escape")
        await pilot.press("slash", *"login", "enter")
        await settle(pilot)
        assert str(board.column("in_progress").border_title) == "In Progress 5 of 5/5"
        await pilot.press("slash", "ctrl+a", "ctrl+k", "enter")  # the filter cleared: one count again
        await settle(pilot)
        assert str(board.column("in_progress").border_title) == "In Progress 5/5"


async def test_a_read_only_database_is_one_toast_and_the_board_stays_usable(config, db, db_url, db_backend, seed):
    """Issue 22.6: the board on a read-only database shows its cards; a move says so in one line."""
    from app.tui.app import TriageApp
    from tests.tui.conftest import NOW

    ticket = seed("Read me")
    if db_backend == "postgres":
        # As a read-only role would: every transaction of the board's connections is read-only.
        assert "options=" in db_url  # the test's schema is given as options too: add to them
        read_only_url = db_url.replace("options=", "options=-cdefault_transaction_read_only%3Don%20", 1)
    else:
        read_only_url = db_url + "?mode=ro"
    db.close()
    app = TriageApp(config, read_only_url, user="alice", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lines(pilot.app, "todo")[0].startswith(f"{ticket.key} P2 ")
        await pilot.press("L")
        await settle(pilot)
        [toast] = toasts(pilot.app)
        assert "not saved: database is read-only" in toast and "\n" not in toast
        await pilot.press("j", "k")  # still answering keys
        assert pilot.app.board.current_card.key == ticket.key
        assert lines(pilot.app, "todo")[0].startswith(f"{ticket.key} P2 ")
    assert state_of(ticket) == "todo"


def _cells(lines) -> list[list[tuple]]:
    """A frame as rows of (character, style) cells; a row is a strip, or the strips of its chops."""
    from textual.strip import Strip

    return [[(char, segment.style) for part in ([line] if isinstance(line, Strip) else line) for segment in part
             for char in segment.text] for line in lines]


def _apply(screen: list[list[tuple]], update) -> None:
    """Write a partial update onto the cells of the screen it was rendered for, as a terminal would."""
    from rich.console import Console
    from rich.segment import ControlType

    console = Console(width=len(screen[0]), force_terminal=True)
    x = y = 0
    for segment in update.__rich_console__(console, console.options):
        if segment.control:
            for control in segment.control:
                if control[0] == ControlType.CURSOR_MOVE_TO:
                    x, y = control[1], control[2]
            continue
        if segment.text == "\n":
            continue
        for char in segment.text:
            screen[y][x] = (char, segment.style)
            x += 1


async def test_the_screen_after_moves_and_cursor_keys_is_what_a_full_repaint_draws(make_app, seed):
    """The board's compositor renders only the widgets a dirty region meets (`DirtyOnlyCompositor` in
    widgets/textual_internals.py): each partial update written onto the screen as it was must leave,
    cell for cell, what rendering the whole screen afresh draws."""
    from textual._compositor import ChopsUpdate, LayoutUpdate

    for n in range(3):
        seed(f"Card {n}")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = pilot.app.board
        screen = _cells(board._compositor.render_strips())
        updates = []
        display = pilot.app._display

        def shown(on_screen, renderable) -> None:
            if on_screen is board and renderable is not None:
                updates.append(renderable)
            display(on_screen, renderable)

        pilot.app._display = shown
        for key in ("L", "L", "H", "down", "l", "H", "up"):
            await pilot.press(key)
            await settle(pilot)
        partial = [update for update in updates if isinstance(update, ChopsUpdate)]
        assert partial  # the moves were repainted in part, not by full frames only
        for update in updates:
            if isinstance(update, LayoutUpdate):
                screen = _cells(update.strips)
            elif isinstance(update, ChopsUpdate):
                _apply(screen, update)
        assert screen == _cells(board._compositor.render_strips())
