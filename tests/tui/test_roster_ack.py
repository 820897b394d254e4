"""On call and notifications on the board: the roster panel (`o`), `A` acknowledge, the mail count, the detail."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from textual.widgets import DataTable

from app.notify.inbound import parse_reply
from app.tui.screens import CardDetailScreen
from data import outbox
from data.models import History, Notification, Ticket
from widgets.outbox_badge import OutboxBadge
from widgets.roster_panel import RosterPanel
from widgets.status_line import StatusLine

from tests.tui.screen import lines, settle, timeline, toasts

SIZE = (160, 45)
CHRISTMAS = dt.datetime(2026, 12, 25, 12, 0)
"""Fri 25 Dec 2026 12:00 UTC (12:00 in London: GMT in winter), inside both overrides of the repo's config.yaml."""


def panel_text(app) -> list[str]:
    return [line.rstrip() for line in app.board.query_one(RosterPanel).render().plain.splitlines()]


def status_text(app) -> str:
    return app.board.query_one("#status", StatusLine).text


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]


async def test_o_shows_who_holds_each_rotation_with_overrides_marked(make_app):
    # By hand, from config.yaml at Fri 25 Dec 12:00 (GMT). Shift 0 starts Mon 2 Nov 09:00;
    # Mon 21 Dec 09:00 is 7 weeks later, so the weekly rotations are in shift k = 7:
    # - SET primary [alice, bob, carol, dan]: 7 mod 4 = 3 -> dan, but bob covers him
    #   21 Dec 09:00 - 28 Dec 09:00; next handoff Mon 28 Dec 09:00, k = 8 -> alice.
    # - SET backup [bob, carol, dan, alice]: 7 mod 4 = 3 -> alice; k = 8 -> bob.
    # - SET lead, 2-week shifts from 2 Nov: Dec 14 starts k = 3 -> grace (3 mod 2 = 1);
    #   Mon 28 Dec starts k = 4 -> frank.
    # - Support stewards, alphabetical [alice, bob, dan, erin], 2 seats, 2-week shifts,
    #   k = 3: sequence[2..3] = dan, erin; carol covers dan 24 Dec 00:00 - 27 Dec 00:00,
    #   so the next change is that override ending: dan comes back for carol on Sun 27 Dec.
    async with make_app(clock=lambda: CHRISTMAS).run_test(size=SIZE) as pilot:
        panel = pilot.app.board.query_one(RosterPanel)
        assert not panel.display
        await pilot.press("o")
        assert panel.display
        text = panel_text(pilot.app)
        assert text[0] == "On call at Fri 25 Dec 12:00 (Europe/London)"
        assert text[1].split() == ["ROTATION", "ON", "DUTY", "NEXT", "HANDOFF", "INCOMING"]
        rows = [" ".join(line.split()) for line in text[2:]]
        assert rows == [
            "SET primary bob (covering dan until Mon 28 Dec 09:00) Mon 28 Dec 09:00 alice",
            "SET backup alice Mon 28 Dec 09:00 bob",
            "SET lead grace Mon 28 Dec 09:00 frank",
            "Support stewards carol (covering dan until Sun 27 Dec 00:00), erin Sun 27 Dec 00:00 dan for carol",
        ]
        assert [line.covered for line in panel.lines] == [True, False, False, True]
        await pilot.press("o")
        assert not panel.display


async def test_roster_follows_the_clock_on_its_timer_not_on_key_presses(make_app):
    now = [dt.datetime(2026, 11, 9, 8, 59)]
    async with make_app(clock=lambda: now[0]).run_test(size=SIZE) as pilot:
        await pilot.press("o")
        assert "SET primary alice" in " ".join(panel_text(pilot.app)[2].split())
        now[0] = dt.datetime(2026, 11, 9, 9, 0)  # the Monday handoff: bob takes over
        await pilot.press("j")
        assert "SET primary alice" in " ".join(panel_text(pilot.app)[2].split())
        pilot.app.board.refresh_roster()  # what the once-a-minute timer calls
        assert " ".join(panel_text(pilot.app)[2].split()).startswith("SET primary bob Mon 16 Nov 09:00 carol")


async def test_a_paged_p1_is_marked_and_A_acknowledges_it(make_app, seed, service):
    ticket = seed("Checkout down for everyone", priority=1)  # a new P1 starts its page
    calm = seed("Typo on the about page", priority=3)
    [page] = service.escalate_due()  # NOW = Tue 3 Nov 10:00: step 1 (after 0m) pages the primary, alice
    assert page.paged == ("alice",)
    async with make_app().run_test(size=SIZE) as pilot:
        first, second, third = lines(pilot.app, "todo")[:3]
        assert first.startswith(f"⚑ {ticket.key} P1") and first.endswith("→ alice")
        assert second.strip().startswith("Checkout down for ever")  # the whole line: 23 of 26 cells
        assert third.startswith(f"{calm.key} P3")  # no mark on a card nobody needs to acknowledge
        assert "paged: alice (SET primary)" in status_text(pilot.app)

        await pilot.press("A")
        await settle(pilot)
        stored = Ticket.get_by_id(ticket.id)
        assert stored.ack_by == "alice" and stored.ack_at == dt.datetime(2026, 11, 3, 10, 0)
        assert toasts(pilot.app)[-1] == f"Acknowledged: {ticket.key}: the page stops here; alice has it"
        first, second = lines(pilot.app, "todo")[:2]
        assert first.startswith(f"{ticket.key} P1") and "→" not in first
        assert "paged" not in status_text(pilot.app)
        assert [h.by for h in History.select().where((History.ticket == ticket.id) & (History.kind == "ack"))] \
            == ["alice"]

        await pilot.press("A")  # a second time: the service says who already has it
        await settle(pilot)
        assert toasts(pilot.app)[-1] == (f"Acknowledge refused: {ticket.key} was already acknowledged by alice "
                                         f"at 2026-11-03 10:00 GMT")


async def test_acknowledging_a_card_changed_elsewhere_is_refused_then_works_on_the_fresh_card(make_app, seed,
                                                                                                service):
    ticket = seed("Checkout down for everyone", priority=1)
    async with make_app().run_test(size=SIZE) as pilot:
        assert "⚑ needs acknowledgement" in status_text(pilot.app)  # not paged yet: no escalation has run
        await settle(pilot)  # the board is up, its listener too
        pilot.app.listener.stop()  # this board has not heard of carol's change yet (a live board would within 1 s)
        service.assign(ticket.key, "bob", by="carol")  # another board, a moment ago
        await pilot.press("A")
        await settle(pilot)
        assert toasts(pilot.app)[-1].startswith(f"Changed elsewhere: {ticket.key} was changed (assign) by carol")
        assert Ticket.get_by_id(ticket.id).ack_at is None
        await pilot.press("A")
        await settle(pilot)
        assert Ticket.get_by_id(ticket.id).ack_by == "alice"


async def test_ack_is_offered_in_the_palette_only_for_a_card_that_needs_it(make_app, seed):
    seed("Checkout down for everyone", priority=1)
    seed("Typo on the about page", priority=3)
    async with make_app().run_test(size=SIZE) as pilot:
        board = pilot.app.board
        assert "Acknowledge SET-1" in [c.name for c in board.palette_commands()]
        await pilot.press("j")
        assert not any(c.name.startswith("Acknowledge") for c in board.palette_commands())
        assert "Show the on-call roster" in [c.name for c in board.palette_commands()]
        help_rows = {entry.binding_id: entry.keys for entry in board.key_help()}
        assert help_rows["board.roster"] == "o" and help_rows["board.ack"] == "A"


def reply(subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Rita Reyes <rita@customer.example>"
    message["To"] = "support@example.org"
    message["Subject"] = subject
    message["Message-ID"] = "<reply-1@customer.example>"
    message.set_content(text)
    return bytes(message)


async def test_detail_lists_the_notifications_of_a_move_and_the_requesters_reply(make_app, seed, service):
    ticket = seed("Certificates not issued", state="ready", requester_email="rita@customer.example",
                  requester_name="Rita Reyes", assignee="bob")
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "L")  # Ready -> In Progress: Open becomes In Progress, Rita is owed a mail
        await settle(pilot)
        assert Ticket.get_by_id(ticket.id).state == "in_progress"
        service.receive_reply(parse_reply(reply(f"Re: [{ticket.key}] Your request is now In Progress",
                                                "Thanks!\nThe [bold]run[/] is 2026-T1.")))
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, CardDetailScreen)
        notes = table_rows(detail.query_one("#notifications", DataTable))
        assert [row[1:5] for row in notes] == [
            ["status", "rita@customer.example", f"[{ticket.key}] Your request is now In Progress", "queued"],
            ["reply", "bob@example.org", notes[1][3], "queued"],
        ]
        painted = timeline(detail)
        title = next(line for line in painted if "mail from rita@customer.example" in line)
        assert title.startswith("╭") and "rita@customer.example · mail from" in title
        body = painted[painted.index(title) + 1:painted.index(title) + 3]
        assert [line.strip("│ ") for line in body] == ["Thanks!", "The [bold]run[/] is 2026-T1."]  # never markup


async def test_detail_shows_a_failed_delivery_with_its_last_error(make_app, seed, service):
    ticket = seed("Certificates not issued", state="ready", requester_email="rita@customer.example")
    service.move(ticket.key, "in_progress", by="bob")
    row = Notification.get(Notification.ticket == ticket.id)
    outbox.mark_attempt_failed(row, "550 5.1.1 no such user", retry_at=None)
    async with make_app().run_test(size=SIZE) as pilot:
        await pilot.press("l", "l", "enter")  # In Progress
        await settle(pilot)
        [note] = table_rows(pilot.app.screen.query_one("#notifications", DataTable))
        assert note[4:] == ["failed after 1 attempt", "550 5.1.1 no such user"]


async def test_header_counts_queued_and_failed_mail(make_app, seed, service):
    for n in range(3):
        ticket = seed(f"ticket {n}", state="ready", requester_email=f"r{n}@customer.example")
        service.move(ticket.key, "in_progress", by="bob")
    outbox.mark_attempt_failed(Notification.select().first(), "connection refused", retry_at=None)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        badge = pilot.app.board.query_one(OutboxBadge)
        assert badge.render().plain == "✉ 2 queued · 1 failed"
        assert badge in pilot.app.board.query_one("TitleBar").children
        outbox.requeue_failed(dt.datetime(2026, 11, 3, 10, 0))
        pilot.app.board.count_outbox()  # what the timer calls every few seconds
        await settle(pilot)
        assert badge.render().plain == "✉ 3 queued · 0 failed"


async def test_opening_an_answered_card_is_a_look_and_clears_its_mark(make_app, seed, service):
    """Issue 19.9: a reply marks the card until a team member looks; enter (the detail) is a look."""
    ticket = seed("Certificates not issued", state="ready", requester_email="rita@customer.example")
    service.receive_reply(parse_reply(reply(f"Re: [{ticket.key}] hello", "Here is the answer")))
    assert Ticket.get_by_id(ticket.id).answered
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CardDetailScreen)
        assert not Ticket.get_by_id(ticket.id).answered
        seen = History.select().where(History.ticket == ticket.id).order_by(History.id.desc()).first()
        assert (seen.kind, seen.by) == ("seen", "alice")
