"""Triage on the board, keys only: the panel, the gate into Ready, priority, assign, new ticket, rank, filter."""

from __future__ import annotations


import json

from textual.widgets import DataTable

from app.tui.screens import HelpScreen
from app.tui.screens.triage_dialogs import AssignDialog, NewTicketDialog, PriorityPicker, TextPrompt
from data.models import History, Ticket

from tests.tui.test_board import SIZE, state_of

from tests.tui.screen import lines, settle, title_of, toasts


def panel(app) -> str:
    """What the triage panel paints now, wrapped lines joined (runs of blanks made one)."""
    return " ".join(app.board.triage_panel.render().plain.split())


def fresh(ticket) -> Ticket:
    return Ticket.get_by_id(ticket.id)



async def press(pilot, *keys: str) -> None:
    """Press keys one at a time, letting each write land (as a user watching the panel would)."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def test_triage_a_new_ticket_with_keys_only(make_app, seed):
    ticket = seed("Checkout fails for every learner", triaged=False, kind="incident")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        assert "1 untriaged" in app.board.sub_title
        assert not app.board.triage_panel.display
        await press(pilot, "t")
        assert app.board.triage_panel.display
        shown = panel(app)
        assert ticket.key in shown and "Blocks the move to Ready:" in shown
        assert "actionable (not answered)" in shown and "communication (requester not acknowledged)" in shown

        # Refused while anything is missing, and told what.
        await press(pilot, "L")
        assert state_of(ticket) == "todo"
        refusal = toasts(app)[-1]
        assert "triage is not complete" in refusal
        assert "actionable (not answered)" in refusal and "communication (requester not acknowledged)" in refusal

        # 2i2c's questions fill the impact: many users, always -> high.
        await press(pilot, "w", "f")
        row = fresh(ticket)
        assert (row.users_affected, row.frequency, row.impact) == ("many", "always", "high")
        assert "high" in panel(app)
        # u is urgency here, not undo: immediate, then soon. High x soon is P2 in the matrix.
        await press(pilot, "u", "u")
        row = fresh(ticket)
        assert (row.urgency, row.priority, row.priority_overridden) == ("soon", 2, False)
        assert "P2 (matrix)" in panel(app)
        assert lines(app, "todo")[0].startswith(f"{ticket.key} P2")

        await press(pilot, "x")
        assert fresh(ticket).actionable == "yes"
        assert any("intake lacks" in t for t in toasts(app))  # judged actionable with empty intake fields: warned

        await press(pilot, "L")
        assert state_of(ticket) == "todo"
        refusal = toasts(app)[-1]
        assert "communication (requester not acknowledged)" in refusal and "actionable" not in refusal
        shown = panel(app)
        assert "communication (requester not acknowledged)" in shown and "actionable (not" not in shown

        await press(pilot, "c")
        assert fresh(ticket).acknowledged is True
        assert "Triage complete" in panel(app)
        assert "0 untriaged" in app.board.sub_title

        await press(pilot, "escape")
        assert not app.board.triage_panel.display
        await press(pilot, "L")
        assert state_of(ticket) == "ready"
        assert lines(app, "ready")[0].startswith(f"{ticket.key} P2")

    triage_rows = History.select().where((History.ticket == ticket.id) & (History.kind == "triage"))
    # w, f, u u (one entry: the same answer cycled within seconds), x, c
    assert triage_rows.count() == 5 and all(h.by == "alice" for h in triage_rows)


async def test_outside_triage_mode_u_still_undoes(make_app, seed):
    ticket = seed("Ready to go")
    async with make_app().run_test(size=SIZE) as pilot:
        await press(pilot, "L")
        assert state_of(ticket) == "ready"
        await press(pilot, "u")
        assert state_of(ticket) == "todo"
        assert fresh(ticket).urgency is None


async def test_u_on_the_board_undoes_a_triage_answer(make_app, seed):
    ticket = seed("Slow dashboard", triaged=False)
    async with make_app().run_test(size=SIZE) as pilot:
        await press(pilot, "t", "u", "u", "u", "escape")  # cycled: one history entry
        assert fresh(ticket).urgency is not None
        triage_rows = History.select().where((History.ticket == ticket.id) & (History.kind == "triage"))
        assert triage_rows.count() == 1
        await press(pilot, "u")  # was "no move to undo"
        assert fresh(ticket).urgency is None
        assert not any("no move to undo" in t for t in toasts(pilot.app))


async def test_priority_override_is_shown_as_such_and_clears_back_to_the_matrix(make_app, seed):
    ticket = seed("Slow dashboard", triaged=False)
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await press(pilot, "t", "i", "i", "u", "u", "u")  # impact high, urgency normal: P2
        row = fresh(ticket)
        assert (row.impact, row.urgency, row.priority) == ("high", "normal", 2)

        await press(pilot, "p")
        assert isinstance(app.screen, PriorityPicker)
        await press(pilot, "up", "enter")  # from the current P2 to P1
        row = fresh(ticket)
        assert (row.priority, row.priority_overridden, row.needs_ack) == (1, True, True)
        assert "P1 (override; matrix says P2)" in panel(app)
        assert lines(app, "todo")[0].startswith(f"⚑ {ticket.key} P1")  # a P1 waits for acknowledgement
        assert any("review immediately" in t for t in toasts(app))

        await press(pilot, "P")
        row = fresh(ticket)
        assert (row.priority, row.priority_overridden) == (2, False)
        assert "P2 (matrix)" in panel(app)


async def test_free_text_answers_open_a_prompt(make_app, seed):
    ticket = seed("Certificates late", triaged=False)
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await press(pilot, "t", "T")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"by Friday", "enter")
        await settle(pilot)
        assert fresh(ticket).eta == "by Friday"
        assert "by Friday" in panel(app)

        await press(pilot, "e")
        await pilot.press(*"soon", "enter")
        await settle(pilot)
        assert fresh(ticket).deadline is None
        assert any("deadline: expected a date" in t for t in toasts(app))

        await press(pilot, "e")
        await pilot.press(*"2026-11-04", "enter")  # tomorrow: an event this close makes urgency immediate
        await settle(pilot)
        assert fresh(ticket).deadline == "2026-11-04"
        assert "-> immediate" in panel(app)


async def test_a_suggests_the_fair_assignee_and_enter_accepts(make_app, seed):
    seed("alice's", assignee="alice", state="in_progress")
    seed("bob's", assignee="bob", state="in_progress")
    ticket = seed("Needs someone")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, AssignDialog)
        assert dialog.suggested == "carol"  # least open work, alphabetical
        await press(pilot, "enter")
        assert fresh(ticket).assignee == "carol"
        assert "carol" in lines(app, "todo")[0].split()
        kinds = [(h.kind, json.loads(h.detail or "{}")) for h in
                 History.select().where(History.ticket == ticket.id).order_by(History.id)]
        assert kinds[-2][0] == "suggest" and kinds[-2][1]["asked"] == "carol"
        assert kinds[-1][0] == "assign" and kinds[-1][1]["to"] == "carol"

        # Next time carol was the last one asked: someone else is suggested; escape assigns nobody.
        await press(pilot, "a")
        assert app.screen.suggested == "dan"
        await press(pilot, "escape")
        assert fresh(ticket).assignee == "carol"


async def test_n_creates_a_ticket_and_the_cursor_lands_on_it(make_app, seed):
    seed("Already here", priority=1, kind="incident")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await press(pilot, "n")
        assert isinstance(app.screen, NewTicketDialog)
        await pilot.press(*"Printer on fire", "tab", *"ana@school.example", "enter")
        await settle(pilot)
        created = Ticket.get(Ticket.title == "Printer on fire")
        assert (created.state, created.requester_email, created.reporter, created.kind) == \
            ("todo", "ana@school.example", "alice", "bug")
        board = app.board
        assert board.focused_column.state == "todo" and board.current_card.key == created.key
        assert str(board.column("todo").border_title) == "To Do 2"
        # The title shares its line with the countdown ("Printer on fi… 8h left").
        assert any(line.strip().startswith("Printer on fi") for line in lines(app, "todo"))
        assert "1 untriaged" in board.sub_title


async def test_empty_title_keeps_the_new_ticket_dialog_open(make_app):
    async with make_app().run_test(size=SIZE) as pilot:
        await press(pilot, "n", "enter")
        assert isinstance(pilot.app.screen, NewTicketDialog)
        assert Ticket.select().count() == 0


async def test_rank_up_and_down_persist(make_app, seed):
    a, b, c = seed("alpha"), seed("beta"), seed("gamma")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await press(pilot, "J")
        assert app.board.current_card.key == a.key and app.board.focused_column.cursor == 1
        assert [title_of(line) for line in lines(app, "todo")[1::2]] == ["beta", "alpha", "gamma"]
        await press(pilot, "J", "K", "K", "K")  # down to the bottom, then up past the top: refused
        assert any("already at the top" in t for t in toasts(app))
    order = [t.title for t in Ticket.select().order_by(Ticket.rank)]
    assert order == ["alpha", "beta", "gamma"]
    assert History.select().where((History.ticket == a.id) & (History.kind == "rank")).count() == 4

    async with make_app().run_test(size=SIZE) as pilot:  # a new session sees the same order
        await press(pilot, "shift+down")
        assert [title_of(line) for line in lines(pilot.app, "todo")[1::2]] == ["beta", "alpha", "gamma"]
    async with make_app().run_test(size=SIZE) as pilot:
        assert [title_of(line) for line in lines(pilot.app, "todo")[1::2]] == ["beta", "alpha", "gamma"]


async def test_order_switches_between_priority_of_work_and_manual_rank(make_app, seed):
    low = seed("question first by rank", kind="question", priority=4)
    high = seed("incident", kind="incident", priority=1)
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        assert high.key in lines(app, "todo")[0]  # incidents before questions
        await press(pilot, "O")
        assert "manual order" in app.board.sub_title
        assert low.key in lines(app, "todo")[0]
        assert app.board.current_card.key == high.key  # the cursor stays on its card
        await press(pilot, "K")  # manual: the incident may go above the question
        assert high.key in lines(app, "todo")[0]
        await press(pilot, "O")
        assert "manual order" not in app.board.sub_title


async def test_untriaged_filter_and_header_count(make_app, seed, service):
    done = seed("triaged already")
    first, second = seed("new one", triaged=False), seed("new two", triaged=False)
    seed("in ready", state="ready")
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        assert "2 untriaged" in app.board.sub_title
        await press(pilot, "U")
        board = app.board
        assert "untriaged only" in board.sub_title
        assert str(board.column("todo").border_title) == "To Do 2 of 3"
        assert str(board.column("ready").border_title) == "Ready 0 of 1"
        shown = lines(app, "todo")
        assert not any(done.key in line for line in shown)
        assert any(first.key in line for line in shown) and any(second.key in line for line in shown)

        await press(pilot, "t", "c")  # acknowledging alone does not finish the triage
        assert str(board.column("todo").border_title) == "To Do 2 of 3"
        service.triage(first.key, by="bob", actionable="yes", impact="low", urgency="low")
        await press(pilot, "U", "U")  # off and on again: re-read
        assert str(board.column("todo").border_title) == "To Do 1 of 3"
        assert "1 untriaged" in board.sub_title
        await press(pilot, "U")
        assert str(board.column("todo").border_title) == "To Do 3"
        assert str(board.column("ready").border_title) == "Ready 1"


async def test_help_and_palette_list_the_triage_keys(make_app, seed):
    ticket = seed("anything")
    async with make_app().run_test(size=SIZE) as pilot:
        names = [c.name for c in pilot.app.board.palette_commands()]
        for name in (f"Triage {ticket.key}", f"Assign {ticket.key}…", f"Rank {ticket.key} up", "New ticket…",
                     "Order by manual rank", "Show only untriaged tickets"):
            assert name in names, name
        await press(pilot, "question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        table = pilot.app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        for ident in ("triage.toggle", "triage.impact", "triage.urgency", "triage.actionable", "triage.acknowledged",
                      "triage.priority", "triage.clear_override", "triage.eta", "triage.leave", "board.assign",
                      "board.new", "board.rank_up", "board.rank_down", "board.order", "board.untriaged",
                      "board.undo", "board.reports"):
            assert ident in rows, ident
        assert rows["triage.urgency"] == "u" and rows["board.undo"] == "u"


async def test_a_triage_key_on_a_card_changed_elsewhere_is_refused_and_refreshed(make_app, seed, service):
    ticket = seed("Raced", triaged=False)
    async with make_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await press(pilot, "t")
        service.triage(ticket.key, by="bob", impact="low")
        await press(pilot, "i")
        assert any(t.startswith("Changed elsewhere:") for t in toasts(app))
        assert fresh(ticket).impact == "low"
        await press(pilot, "i")  # the fresh card: low cycles on to unanswered
        assert fresh(ticket).impact is None


async def test_the_new_ticket_dialog_shows_a_refused_address(make_app):
    """The address check is the write path's: the dialog's create is refused with a toast, nothing written."""
    async with make_app().run_test(size=SIZE) as pilot:
        await press(pilot, "n")
        await pilot.press(*"Printer on fire", "tab", *"not-an-email", "enter")
        await settle(pilot)
        assert Ticket.select().count() == 0
        assert any(t.startswith("Not created: requester: 'not-an-email' is not an e-mail address")
                   for t in toasts(pilot.app)), toasts(pilot.app)
