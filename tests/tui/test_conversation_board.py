"""The conversation on the board (issue 15): `R` reply, `N` note, `e` edit, and the detail view as the timeline.

Pilot-driven: keys pressed as a user would, then what the database holds and what the screen shows.
"""

from __future__ import annotations

import json

from textual.widgets import Input

from app.service import Service
from app.tui.screens import CardDetailScreen
from app.tui.screens.compose import ComposeDialog, Confirm, EditDialog, LinkDialog, SnippetPicker
from data.models import History, Notification, Ticket

from tests.tui.screen import lines, settle, timeline, title_of, toasts

SIZE = (160, 45)
RITA = {"requester_email": "rita@customer.example", "requester_name": "Rita Reyes"}


def entries(ticket, kind):
    return list(History.select().where((History.ticket == ticket.id) & (History.kind == kind)).order_by(History.id))


def shown_text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_dialog(pilot, key: str):
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    return pilot.app.screen


async def test_R_shows_recipient_and_subject_and_ctrl_s_sends_the_reply(make_app, seed):
    ticket = seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = pilot.app.board.column("todo").card_at(0)
        assert card.sla_label == "8h left"  # the first response is owed: a working day
        dialog = await open_dialog(pilot, "R")
        assert isinstance(dialog, ComposeDialog)
        assert shown_text(dialog, "#compose-to") == "To:       Rita Reyes <rita@customer.example>"
        assert shown_text(dialog, "#compose-subject") == f"Subject:  [{ticket.key}] Re: Hub will not start"
        await pilot.press(*"We are on it.", "enter", *"Restarting the hub now.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board, "the dialog closes once the reply is sent"
        (entry,) = entries(ticket, "reply")
        assert (entry.by, json.loads(entry.detail)["text"]) == ("alice", "We are on it.\nRestarting the hub now.")
        (mail,) = Notification.select().where(Notification.ticket == ticket.id)
        assert (mail.kind, mail.recipient) == ("response", "rita@customer.example")
        assert mail.body.startswith("We are on it.\nRestarting the hub now.")
        assert Ticket.get_by_id(ticket.id).first_response is not None
        assert any("first response met" in t for t in toasts(pilot.app))
        # The first response's countdown stopped: the card now counts to the next update (two working days).
        card = pilot.app.board.column("todo").card_at(0)
        assert card.sla_label == "16h left"
        await pilot.press("enter")
        await settle(pilot)
        fields = shown_text(pilot.app.screen, "#detail-more")
        assert "First response: met" in fields
        assert "Update to the requester: 16h left" in fields


async def test_escape_with_text_asks_first_and_an_empty_dialog_just_closes(make_app, seed):
    seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "R")
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board, "nothing typed: nothing to ask about"

        dialog = await open_dialog(pilot, "R")
        await pilot.press(*"half a thought")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, Confirm)
        await pilot.press("n")  # keep writing
        await settle(pilot)
        assert pilot.app.screen is dialog and dialog.text == "half a thought"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
        assert Notification.select().count() == 0 and History.select().where(History.kind == "reply").count() == 0


async def test_a_snippet_is_inserted_filled_in_and_its_sets_apply_when_sent(make_app, seed):
    ticket = seed("Hub will not start", triaged=False, **RITA)
    assert not ticket.acknowledged
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "R")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(pilot.app.screen, SnippetPicker)
        await pilot.press("enter")  # the first: acknowledgement
        await settle(pilot)
        assert pilot.app.screen is dialog
        text = dialog.text
        assert text.startswith("Hello Rita Reyes,")
        assert f'request {ticket.key} ("Hub will not start")' in text
        assert "{" not in text  # every placeholder filled
        assert "sets acknowledged" in shown_text(dialog, "#compose-snippet")
        await pilot.press("escape")  # only the snippet in the box: nothing typed is lost, so no question
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board

        dialog = await open_dialog(pilot, "R")
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"PS: the hub restarts at noon.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
    (entry,) = entries(ticket, "reply")
    detail = json.loads(entry.detail)
    assert detail["snippet"] == "acknowledgement"
    assert detail["text"].startswith("Hello Rita Reyes,") and detail["text"].endswith("PS: the hub restarts at noon.")
    assert Ticket.get_by_id(ticket.id).acknowledged is True  # the snippet's `sets: [acknowledged]`
    (triage,) = entries(ticket, "triage")
    assert triage.at == entry.at


async def test_the_resolution_snippet_puts_the_cursor_where_the_words_go(make_app, seed):
    """"This is what we did:" is followed by a line "-": typing goes there, not after the signature."""
    ticket = seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "R")
        await pilot.press("ctrl+t")
        await settle(pilot)
        picker = pilot.app.screen
        assert [key for key, _ in picker.choices][3] == "resolution"
        await pilot.press("down", "down", "down", "enter")
        await settle(pilot)
        await pilot.press(*" restarted the spawner")
        assert "This is what we did:\n\n- restarted the spawner\n" in dialog.text
        await pilot.press("ctrl+s")
        await settle(pilot)
    (entry,) = entries(ticket, "reply")
    assert json.loads(entry.detail)["snippet"] == "resolution"


async def test_N_adds_an_internal_note_that_is_never_mailed(make_app, seed):
    ticket = seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "N")
        assert isinstance(dialog, ComposeDialog) and dialog.mode == "note"
        assert "never mailed" in shown_text(dialog, "#compose-internal")
        assert not dialog.query("#compose-to")
        await pilot.press(*"Runs on cluster B; see #support-triage")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
    (note,) = entries(ticket, "note")
    assert json.loads(note.detail)["text"] == "Runs on cluster B; see #support-triage"
    assert Notification.select().count() == 0
    assert Ticket.get_by_id(ticket.id).first_response is None  # a note is no response


async def test_e_edits_the_title_with_before_and_after_in_history_and_on_the_card(make_app, seed):
    ticket = seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "e")
        assert isinstance(dialog, EditDialog)
        title = dialog.query_one("#edit-title", Input)
        assert dialog.focused is title and title.value == "Hub will not start"
        await pilot.press("end", *["backspace"] * len(title.value), *"Hub down for all")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
        assert title_of(lines(pilot.app, "todo")[1]) == "Hub down for all"
    (edit,) = entries(ticket, "edit")
    assert json.loads(edit.detail)["changes"] == {"title": ["Hub will not start", "Hub down for all"]}


async def test_an_edit_refused_by_the_checks_says_so_in_the_dialog(make_app, seed):
    seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "e")
        dialog.query_one("#edit-requester_email", Input).focus()
        await pilot.press("end", *"\r\nBcc: x@evil.example")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is dialog
        assert "requester" in shown_text(dialog, ".dialog--error")
    assert History.select().where(History.kind == "edit").count() == 0


async def test_a_stale_version_is_refused_and_the_typed_text_kept(make_app, seed, config):
    ticket = seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "R")
        await pilot.press(*"Looking now.")
        Service(config).note(ticket.key, "someone else's note", by="bob")  # another session writes meanwhile
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is dialog, "refused: the dialog stays, with what was typed"
        assert dialog.text == "Looking now."
        error = shown_text(dialog, ".dialog--error")
        assert "was changed (note) by bob" in error and "nothing was written" in error
        assert not entries(ticket, "reply") and Notification.select().count() == 0
        await pilot.press("ctrl+s")  # now knowingly, over the fresh version
        await settle(pilot)
        assert pilot.app.screen is pilot.app.board
    assert len(entries(ticket, "reply")) == 1

    # the edit dialog too: nothing typed is lost
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "e")
        await pilot.press("end", *" (class)")
        Service(config).note(ticket.key, "another", by="bob")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is dialog
        assert dialog.query_one("#edit-title", Input).value == "Hub will not start (class)"
        assert "changed" in shown_text(dialog, ".dialog--error")
    assert not entries(ticket, "edit")


async def test_a_reply_without_a_requester_address_is_refused_in_the_dialog(make_app, seed):
    seed("Walk-in question")
    async with make_app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "R")
        assert "no requester e-mail" in shown_text(dialog, "#compose-to")
        await pilot.press(*"Hello?", "ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is dialog and dialog.text == "Hello?"
        assert "has no requester e-mail" in shown_text(dialog, ".dialog--error")


HOSTILE = "[bold]x[/] \x1b[2Jgone"


async def test_the_detail_view_shows_hostile_text_literally_and_marks_notes_internal(make_app, seed, service):
    from app.notify.inbound import Reply

    ticket = seed(HOSTILE, **RITA)
    service.receive_reply(Reply(sender="rita@customer.example", sender_name="Rita", subject=f"Re: [{ticket.key}]",
                                message_id="<m1@customer.example>", references=(), text="see [red]this[/]\n\x1b]0;t\x07"))
    service.note(ticket.key, "private [i]summary[/]", by="bob")
    service.reply(ticket.key, "Thanks Rita", by="alice")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, CardDetailScreen)
        assert shown_text(detail, "#detail-title") == f"{ticket.key}  [bold]x[/] ␛[2Jgone"
        painted = timeline(detail)
        text = "\n".join(painted)
        assert "\x1b" not in text and "[red]this[/]" in text and "␛]0;t␇" in text
        mail = next(i for i, line in enumerate(painted) if "mail from rita@customer.example" in line)
        assert painted[mail + 1].strip("│ ") == "see [red]this[/]" and painted[mail + 2].strip("│ ") == "␛]0;t␇"
        note = next(i for i, line in enumerate(painted) if "INTERNAL NOTE · never mailed" in line)
        assert painted[note].startswith("┏╍ INTERNAL NOTE · never mailed") and painted[note].endswith("┓")
        assert painted[note + 1].startswith("╏") and painted[note + 1].strip("╏ ") == "private [i]summary[/]"
        reply = next(i for i, line in enumerate(painted) if "reply to rita@customer.example" in line)
        assert painted[reply].startswith("╭") and painted[reply + 1].strip("│ ") == "Thanks Rita"
        assert mail < note < reply  # oldest first, newest last
        # the internal note's own style (a component class in the .tcss), not the reply's
        box = detail.query_one("#timeline")
        assert box.get_component_rich_style("conversation--internal") != box.get_component_rich_style(
            "conversation--reply")


async def test_the_detail_view_opens_with_200_entries_and_long_mails_and_scrolls_to_the_newest(make_app, seed,
                                                                                               service):
    ticket = seed("Long conversation", **RITA)
    long_mail = ("All work and no play. " * 230)[:5000]
    for n in range(100):
        service.note(ticket.key, f"note {n}\n{long_mail}", by="bob")
        service.reply(ticket.key, f"reply {n}\n{long_mail}", by="alice")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, CardDetailScreen)
        box = detail.query_one("#timeline")
        assert detail.focused is box
        assert box.scroll_y == box.max_scroll_y > 0, "opened at the newest entry"
        await pilot.press("home")
        await pilot.pause()
        assert box.scroll_y == 0
        assert "created in To Do" in box.plain_lines()[0]
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        painted = box.plain_lines()
        newest = max(i for i, line in enumerate(painted) if "reply to rita@customer.example" in line)
        assert painted[newest + 1].strip("│ ") == "reply 99"
        assert newest >= box.scroll_y, "the newest entry is in view at the end"
        assert "more characters (f shows every entry in full)" in painted[-2]
        await pilot.press("f")  # every entry in full
        await pilot.pause()
        assert not any("more characters" in line for line in box.plain_lines())
        assert box.scroll_y == box.max_scroll_y


async def test_l_in_the_detail_view_links_with_inline_errors_and_R_replies_from_there(make_app, seed):
    ticket = seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        await pilot.press("l")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, LinkDialog)
        dialog.query_one("#link-url", Input).focus()
        await pilot.press(*"ftp://x", "enter")
        await settle(pilot)
        assert pilot.app.screen is dialog
        assert "http" in shown_text(dialog, ".dialog--error")
        dialog.query_one("#link-url", Input).value = "https://github.com/2i2c-org/infrastructure/issues/4711"
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is detail
        assert "GitHub issue 2i2c-org/infrastructure#4711" in shown_text(detail, "#detail-more")
        assert any("link GitHub issue" in line for line in timeline(detail))

        await pilot.press("R")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ComposeDialog)
        await pilot.press(*"Linked the issue.", "ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is detail, "back to the detail view, read afresh"
        assert timeline(detail)[-2].strip("│ ") == "Linked the issue."
        assert "First response: met" in shown_text(detail, "#detail-more")
    (link,) = entries(ticket, "link")
    assert json.loads(link.detail)["url"] == "https://github.com/2i2c-org/infrastructure/issues/4711"


async def test_the_keys_are_in_the_help_and_the_palette(make_app, seed):
    seed("Hub will not start", **RITA)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        help_ids = {entry.binding_id for entry in pilot.app.board.key_help()}
        assert {"board.reply", "board.note", "board.edit", "detail.link", "detail.unfold"} <= help_ids
        names = [command.name for command in pilot.app.board.palette_commands()]
        assert "Reply to SET-1's requester…" in names and "Internal note on SET-1…" in names
        assert "Edit SET-1…" in names


async def test_a_read_only_board_refuses_to_reply(make_app, seed):
    seed("Hub will not start", **RITA)
    async with make_app(user="").run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "R")
        assert pilot.app.screen is pilot.app.board
        assert any("read-only" in t for t in toasts(pilot.app))

