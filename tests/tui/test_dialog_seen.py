"""A dialog that writes or mails acts only on what was on the screen (issue 19, defect 3).

Textual drops every frame while a batch of updates is open (`App.batch_update`), and the
frame it dropped is not drawn again until something on the screen changes: a dialog pushed
then takes the keys while the terminal still shows the board. These tests hold a batch open
around the push, which loses the dialog's first paint exactly so, and press enter blind.
"""

from __future__ import annotations

from app.tui.screens import HoldReasonPicker, MovePicker
from data.models import History, Notification, Ticket

from tests.tui.screen import settle, toasts

SIZE = (160, 45)


def outbox_rows(ticket) -> int:
    return Notification.select().where(Notification.ticket == ticket.id).count()


def moves_of(ticket) -> int:
    return History.select().where((History.ticket == ticket.id) & (History.kind == "move")).count()


async def test_enter_on_a_hold_dialog_never_painted_moves_nothing_and_mails_nobody(make_app, seed):
    ticket = seed("Need logs from the requester", state="in_progress", requester_email="rita@customer.example")
    mails = outbox_rows(ticket)
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "l")  # In Progress
        with pilot.app.batch_update():  # the dialog's first frame is worked out, then dropped
            await pilot.press("L")
            picker = pilot.app.screen
            assert isinstance(picker, HoldReasonPicker)
            await pilot.press("enter")  # blind: the terminal still shows the board
            await pilot.pause()
            assert pilot.app.screen is picker and not picker.shown_on_screen
        assert (Ticket.get_by_id(ticket.id).state, moves_of(ticket), outbox_rows(ticket)) == ("in_progress", 0, mails)
        assert any("not on the screen yet, so nothing was done" in toast for toast in toasts(pilot.app))

        await pilot.pause(pilot.app.SHOWN_WITHIN + 0.2)  # the app repaints a dialog that is not on the terminal
        assert picker.shown_on_screen and pilot.app.screen is picker
        await pilot.press("enter")  # seen now: waiting on the requester
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
    fresh = Ticket.get_by_id(ticket.id)
    assert (fresh.state, fresh.hold_reason, moves_of(ticket)) == ("on_hold", "requester", 1)
    assert outbox_rows(ticket) == mails + 1  # the requester is told "Pending", once, after the dialog was seen


async def test_a_dialog_whose_frames_are_lost_is_drawn_again_and_the_user_told(make_app, seed):
    seed("Undecided")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        app.SHOWN_WITHIN = 0.2
        with app.batch_update():
            await pilot.press("m")
            picker = app.screen
            assert isinstance(picker, MovePicker)
            await pilot.pause(0.5)  # the app's repaints are dropped too while the batch stays open
            assert not picker.shown_on_screen
        await pilot.pause(0.5)
        assert picker.shown_on_screen
        assert any("had not reached the screen and has been drawn again" in toast for toast in toasts(app))


async def test_a_dialog_painted_at_once_takes_enter_at_once_and_is_not_redrawn(make_app, seed):
    ticket = seed("Waiting on a vendor", state="in_progress")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "l", "L")
        assert isinstance(pilot.app.screen, HoldReasonPicker) and pilot.app.screen.shown_on_screen
        await pilot.press("down", "enter")  # waiting on a third party
        await settle(pilot)
        assert not any("drawn again" in toast or "nothing was done" in toast for toast in toasts(pilot.app))
    assert (Ticket.get_by_id(ticket.id).state, Ticket.get_by_id(ticket.id).hold_reason) == ("on_hold", "external")


async def test_quitting_with_a_dialog_just_opened_leaves_without_a_traceback(make_app, seed):
    seed("Undecided")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        picker = app.screen
    app.check_shown(picker)  # the repaint check of a dialog opened just before the app closed
