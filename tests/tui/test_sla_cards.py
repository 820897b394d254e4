"""Response targets on the board, under a controlled clock: countdown, warning, breach, at-risk view."""

from __future__ import annotations

import datetime as dt

from app.service import Service
from app.tui.app import TriageApp
from tests.tui.screen import workers_done

SIZE = (160, 45)
MONDAY_9 = dt.datetime(2026, 11, 16, 9, 0)
"""09:00 in London (GMT in November): a working Monday, so 1 working day = due 17:00 today."""


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def until(pilot, condition, timeout: float = 3.0) -> None:
    """Let the board's workers and timers run until `condition()` holds (bounded)."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"condition not met in {timeout}s: {pilot.app.board.sub_title!r}, "
                                 f"{[first_line(pilot.app, s) for s in ('todo', 'ready')]}")
        await workers_done(pilot.app)
        await pilot.pause(0.02)
        waited += 0.02


def first_line(app, state: str, index: int = 0) -> str:
    column = app.board.column(state)
    return column.render_line(index * 2 - round(column.scroll_offset.y)).text.rstrip()


def label_style(app, state: str, label: str, index: int = 0):
    """The Rich style the countdown `label` is painted with on the card's first line."""
    column = app.board.column(state)
    strip = column.render_line(index * 2)
    return next(segment.style for segment in strip if label in segment.text)


def component(app, state: str, name: str):
    return app.board.card_styles.style(name)


def seed(service: Service, title: str, priority: int = 2):
    from data.models import Ticket

    ticket = service.create(title=title, by="lead", priority=priority)
    Ticket.update(actionable="yes", acknowledged=True).where(Ticket.id == ticket.id).execute()
    return ticket


async def test_a_card_counts_down_then_warns_then_breaches(config, db, db_url):
    clock = Clock(MONDAY_9)
    service = Service(config, clock=clock)
    seed(service, "Printer on fire")
    app = TriageApp(config, db_url, clock=clock, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        board = app.board
        await until(pilot, lambda: first_line(app, "todo").endswith("8h left"))
        assert board.column("todo").card_at(0).sla_style == "ok"
        await until(pilot, lambda: board.source.at_risk.ready)
        assert "0 warning · 0 breached" in board.sub_title

        clock.now = MONDAY_9.replace(hour=14, minute=59)  # 2h 1m left: more than 25% of 8h
        board.refresh_sla()
        await until(pilot, lambda: first_line(app, "todo").endswith("2h 1m left"))
        assert board.column("todo").card_at(0).sla_style == "ok"

        clock.now = MONDAY_9.replace(hour=15, minute=0)  # 2h left: the warning margin starts
        board.refresh_sla()
        await until(pilot, lambda: first_line(app, "todo").endswith("2h left"))
        assert board.column("todo").card_at(0).sla_style == "warning"
        await pilot.press("l")  # the cursor of the active column paints over colours: look from another column
        assert label_style(app, "todo", "2h left").color == component(app, "todo", "column--sla-warning").color
        await until(pilot, lambda: "1 warning · 0 breached" in board.sub_title)

        clock.now = MONDAY_9 + dt.timedelta(days=1, hours=1)  # Tuesday 10:00: an hour of working time late
        board.refresh_sla()
        await until(pilot, lambda: first_line(app, "todo").endswith("overdue 1h"))
        assert board.column("todo").card_at(0).sla_style == "breached"
        assert label_style(app, "todo", "overdue 1h").color == component(app, "todo", "column--sla-breached").color
        await until(pilot, lambda: "0 warning · 1 breached" in board.sub_title)


async def test_the_countdown_moves_on_with_the_minute_timer(config, db, db_url):
    clock = Clock(MONDAY_9)
    service = Service(config, clock=clock)
    seed(service, "Slow page")
    app = TriageApp(config, db_url, clock=clock, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: first_line(app, "todo").endswith("8h left"))
        # The minute timer starts once the business calendar is loaded (after the first paint).
        await until(pilot, lambda: any(t.name == "sla-minute" for t in app.board._timers))
        timer = next(t for t in app.board._timers if t.name == "sla-minute")
        assert timer._interval == 60
        clock.now = MONDAY_9.replace(minute=30)
        await timer._tick(next_timer=0, count=1)  # what the timer does each minute
        await until(pilot, lambda: first_line(app, "todo").endswith("7h 30m left"))


async def test_at_risk_view_shows_only_warning_and_breached_and_sorts_by_time_left(config, db, db_url):
    clock = Clock(MONDAY_9 - dt.timedelta(days=3))  # Friday 09:00
    service = Service(config, clock=clock)
    breached = seed(service, "Friday's ticket", priority=3)
    ready = service.create(title="Also late", by="lead", priority=2, state="ready")
    clock.now = MONDAY_9 + dt.timedelta(hours=1)  # Monday 10:00
    warning = seed(service, "Monday 10:00", priority=2)
    clock.now = MONDAY_9 + dt.timedelta(hours=6)  # Monday 15:00: a fresh ticket with its whole day ahead
    fresh = seed(service, "Just in", priority=2)
    clock.now = MONDAY_9.replace(hour=16)  # 16:00: "Monday 10:00" has 1h left, Friday's is overdue
    app = TriageApp(config, db_url, clock=clock, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        board = app.board
        await until(pilot, lambda: board.source.at_risk.ready)
        assert str(board.column("todo").border_title) == "To Do 3"
        await pilot.press("w")
        await until(pilot, lambda: str(board.column("todo").border_title) == "To Do 2 of 3")
        keys = [board.column("todo").card_at(i).key for i in range(2)]
        assert keys == [warning.key, breached.key]  # priority order: P2, then P3
        assert fresh.key not in keys
        assert "at risk" in board.sub_title and "1 warning · 2 breached" in board.sub_title
        assert board.column("ready").count == 1 and board.column("ready").card_at(0).key == ready.key

        await pilot.press("S")  # by time left: the most overdue first
        await until(pilot, lambda: board.column("todo").card_at(0).key == breached.key)
        assert board.column("todo").card_at(1).key == warning.key
        assert "by time left" in board.sub_title

        await pilot.press("w")  # back to the whole board
        await until(pilot, lambda: str(board.column("todo").border_title) == "To Do 3")
        assert "at risk" not in board.sub_title


async def test_at_risk_key_is_in_help(config, db_url):
    app = TriageApp(config, db_url, clock=Clock(MONDAY_9), user="alice")
    async with app.run_test(size=SIZE):
        entries = {entry.description: entry for entry in app.board.key_help()}
        assert entries["At risk"].keys == "w"
        assert "Sort at-risk by time left" in entries


async def test_a_countdown_stays_on_the_card_after_a_triage_answer_and_an_assign(config, db, db_url):
    """Issue 19.11: after any triage answer or assign the countdown vanished until the minute tick."""
    clock = Clock(MONDAY_9)
    service = Service(config, clock=clock)
    seed(service, "Printer on fire")
    app = TriageApp(config, db_url, clock=clock, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        board = app.board
        await until(pilot, lambda: first_line(app, "todo").endswith("8h left"))
        version = board.current_card.version
        await pilot.press("t", "c")  # a triage answer (acknowledged) writes a new version
        await until(pilot, lambda: board.current_card.version > version)
        for _ in range(5):
            await workers_done(app)
            await pilot.pause(0.02)
        assert first_line(app, "todo").endswith("8h left"), first_line(app, "todo")


async def test_a_move_that_tells_the_requester_shows_the_countdown_ticket_show_gives(config, db, db_url):
    """Issue 19.11: a move into In Progress mails the requester (the first response, met late); the card
    kept its old 'overdue' countdown while `ticket show` said 'met late … left'."""
    from app.sla.labels import card_sla
    from app.sla.source import statuses
    from data.models import Ticket

    clock = Clock(MONDAY_9)
    service = Service(config, clock=clock)
    ticket = service.create(title="Late one", by="lead", priority=2, requester_email="rita@customer.example")
    Ticket.update(actionable="yes", acknowledged=True, state="ready").where(Ticket.id == ticket.id).execute()
    clock.now = MONDAY_9 + dt.timedelta(days=2)  # Wednesday 09:00: the first response is overdue
    app = TriageApp(config, db_url, clock=clock, user="alice")
    async with app.run_test(size=SIZE) as pilot:
        board = app.board
        await pilot.press("l")
        await until(pilot, lambda: "overdue" in first_line(app, "ready"))
        await pilot.press("L")
        await until(pilot, lambda: board.column("in_progress").count == 1 and board.focused_column.state == "in_progress")
        await workers_done(app)
        await pilot.pause()
        shown = board.column("in_progress").card_at(0)
        expected, _style = card_sla(statuses(config, [ticket.id], clock.now)[ticket.id])
        assert "overdue" not in expected  # the mail was the first response; the next target is an update
        assert shown.sla_label == expected and first_line(app, "in_progress").endswith(expected)
