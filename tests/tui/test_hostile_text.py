"""Titles carrying terminal controls (CSI, OSC 0, OSC 8, U+202E) are painted escaped, never raw.

What is checked is what Textual would write to the terminal for the whole screen
(the compositor's full update, as the driver sends it): it holds the app's own
escape sequences, so the test looks for the title's, which only a raw ESC would make.
"""

from __future__ import annotations

from app.tui.screens import CardDetailScreen
from widgets.status_line import StatusLine

from tests.tui.screen import lines, settle

SIZE = (160, 45)
HOSTILE = "clear\x1b[2Jscreen osc\x1b]0;pwned\x07t \x1b]8;;http://evil\x1b\\link\u202eRTL"
SHOWN = "clear␛[2Jscreen osc␛]0;pwned␇t ␛]8;;http://evil␛\\link\\u202eRTL"


def terminal_output(app) -> str:
    """The text the driver would write for a full repaint of the current screen."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def assert_nothing_raw(output: str) -> None:
    for raw in ("\x1b[2J", "\x1b]0;pwned", "\x1b]8;;http://evil", "\x07", "\u202e"):
        assert raw not in output


async def test_a_hostile_title_is_escaped_on_the_card_the_status_line_and_in_the_detail(make_app, seed, service):
    ticket = seed(HOSTILE, description="line one\nline \x1b]0;two\x07")
    service.move(ticket.key, "ready", by="x\x1b[31mred", reason="why\x9b2J")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = pilot.app.board
        card_title = lines(pilot.app, "ready")[1]
        assert "clear␛[2J" in card_title and "\x1b" not in card_title
        await pilot.press("l")
        await settle(pilot)
        status = board.query_one("#status", StatusLine).render_line(0).text
        assert "clear␛[2Jscreen" in status and "\x1b" not in status
        output = terminal_output(pilot.app)
        assert "clear␛[2Jscreen" in output
        assert_nothing_raw(output)

        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, CardDetailScreen)
        assert SHOWN in str(detail.query_one("#detail-title").render())
        description = str(detail.query_one("#detail-description").render())
        assert description == "line one\nline ␛]0;two␇"  # its newline kept: it is several lines
        output = terminal_output(pilot.app)
        assert "x␛[31mred" in output and "why\\u009b2J" in output
        assert_nothing_raw(output)
        assert "\x1b[31mred" not in output and "\x9b" not in output


async def test_a_toast_quoting_hostile_text_is_escaped(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.notify(f"refused: {HOSTILE}", title="Move \x1b]0;t\x07")
        await pilot.pause()
        toast = list(app._notifications)[-1]
        assert SHOWN in toast.message and toast.title == "Move ␛]0;t␇"


async def test_a_screens_toast_shows_a_bracketed_key_and_markup_as_typed(make_app):
    """Textual's Widget.notify passes markup=True; a screen's toast quoting `[SET-1]` or `[bold]` kept it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.screen.notify("[SET-1] reply queued for [bold]Ana[/bold]", title="[red]Sent[/]")
        await pilot.pause()
        toast = list(app._notifications)[-1]
        assert toast.message == "[SET-1] reply queued for [bold]Ana[/bold]"
        assert toast.title == "[red]Sent[/]" and toast.markup is False


async def test_a_field_prefilled_with_hostile_text_shows_it_escaped_and_saving_it_untouched_keeps_it(
        make_app, seed, service):
    """An edit field (the intake form) drew stored control characters raw; saved untouched, it must
    not write the escaped form back over the original either."""
    from textual.widgets import Input

    from app.tui.screens.triage_dialogs import IntakeForm

    stored = "steps \x1b]0;pwned\x07 here"
    ticket = seed("Printer", description=stored)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t", "b")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, IntakeForm)
        field = form.query_one("#intake-description", Input)
        assert field.value == "steps ␛]0;pwned␇ here"
        assert_nothing_raw(terminal_output(pilot.app))
        field.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert service.get(ticket.key).description == stored
