"""`/` on the board as a user types it: the columns narrow as the query is typed, with their counts (issue 16.4)."""

from __future__ import annotations

from widgets.filter_bar import DEBOUNCE, FilterBar

from tests.tui.screen import lines, settle, title_of

SIZE = (160, 45)


def titles(app, state: str) -> list[str]:
    """The titles a column paints (every card is two lines: key line, then title)."""
    return [title_of(line) for line in lines(app, state)[1::2]]


def header(app, state: str) -> str:
    return str(app.board.column(state).border_title)


async def typed(pilot, *keys: str) -> None:
    """Press keys, then let the filter line's pause pass and the board's workers finish."""
    await pilot.press(*keys)
    await pilot.pause(DEBOUNCE * 2)
    await settle(pilot)


async def test_typing_a_word_shows_only_the_matching_cards_with_their_counts(make_app, seed, service):
    seed("Login page is blank")
    seed("Payment declined")
    note = seed("Grades missing", state="ready")
    seed("Cannot login on mobile", state="ready")
    service.note(note.key, "after the login change", by="alice")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await typed(pilot, "slash", *"logi")  # no enter: as you type, the last word a prefix
        assert header(app, "todo") == "To Do 1 of 2"
        assert header(app, "ready") == "Ready 2 of 2"  # one by its title, one by its note
        assert titles(app, "todo") == ["Login page is blank"]
        assert sorted(titles(app, "ready")) == ["Cannot login on mobile", "Grades missing"]
        await typed(pilot, *"n -mobile")
        assert titles(app, "ready") == ["Grades missing"] and header(app, "ready") == "Ready 1 of 2"
        await typed(pilot, "escape")  # clears the filter and closes the line
        assert header(app, "todo") == "To Do 2" and header(app, "ready") == "Ready 2"
        assert not app.board.query_one(FilterBar).is_open


async def test_field_terms_and_enter_keep_the_filter(make_app, seed):
    seed("Login page is blank", priority=1, assignee="bob")
    seed("Login slow", priority=3)
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await typed(pilot, "slash", *"login priority:P1", "enter")
        bar = app.board.query_one(FilterBar)
        assert not bar.is_open
        assert titles(app, "todo") == ["Login page is blank"] and header(app, "todo") == "To Do 1 of 2"
        assert "filter: login priority:P1" in str(app.board.query_one("TitleBar").render())
        await typed(pilot, "slash", *"-assignee:bob", "enter")  # `/` again: the old query is selected, replaced
        assert titles(app, "todo") == ["Login slow"]


async def test_a_bad_query_is_one_line_under_the_input_and_the_last_good_filter_stays(make_app, seed):
    seed("Login page is blank")
    seed("Payment declined")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await typed(pilot, "slash", *"login ")
        assert header(app, "todo") == "To Do 1 of 2"
        await typed(pilot, *"state:waiting")
        bar = app.board.query_one(FilterBar)
        assert bar.error.startswith("unknown state 'waiting' in state:waiting (states: todo, ready,")
        assert header(app, "todo") == "To Do 1 of 2" and titles(app, "todo") == ["Login page is blank"]
        await typed(pilot, "enter")  # enter on a bad query changes nothing and keeps the line open
        assert bar.is_open and app.board.source.text_filter == "login "
        await typed(pilot, *["backspace"] * len("state:waiting"))
        assert bar.error == ""
        await typed(pilot, *'"unclosed')
        assert bar.error.startswith('unclosed quote in "unclosed')


async def test_hostile_query_text_is_shown_literally_and_harmless(make_app, seed):
    seed("[bold]red[/] title")
    seed("plain")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await typed(pilot, "slash", *"[bold] '; drop", "enter")
        assert header(app, "todo") == "To Do 0 of 2"
        await typed(pilot, "slash", *"[bold]", "enter")
        assert titles(app, "todo") == ["[bold]red[/] title"]
        assert "filter: [bold]" in str(app.board.query_one("TitleBar").render())
        await typed(pilot, "slash", *'"[red]', "enter")
        assert app.board.query_one(FilterBar).error.startswith('unclosed quote in "[red]')


async def test_a_column_fuller_than_a_page_gets_its_exact_count_after_its_cards(make_app, seed):
    for n in range(40):
        seed(f"login {n}")
    seed("payment")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await typed(pilot, "slash", *"login", "enter")
        assert header(app, "todo") == "To Do 40 of 41"  # the first page painted as "32+", then counted
        assert not app.board.column("todo").at_least
        assert titles(app, "todo")[0].startswith("login")
