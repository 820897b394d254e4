"""The reports screen driven like a user: open it, read the figures, step through cycles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from report_history import write_import
from textual.app import App
from textual.widgets import Static
from textual_plotext import PlotextPlot

from app.tui.screens.reports import ReportsScreen
from app.service import Service
from app.board.transfer import import_file
from data.db import open_database
from tests.tui.screen import settle

NOW = dt.datetime(2026, 11, 20, 12, 0)  # Friday of cycle 1 (16 .. 29 Nov)
SIZE = (160, 48)


class ReportsHost(App[None]):
    """The services TriageApp gives the screen (config, clock, an open database), and nothing else."""

    def __init__(self, config, db_url: str) -> None:
        super().__init__()
        self.config = config
        self.database = open_database(db_url)

    def on_mount(self) -> None:
        self.push_screen(ReportsScreen(self.config, lambda: NOW))


@pytest.fixture
def host(report_config, report_db, tmp_path):
    database = open_database(report_db)
    import_file(Service(report_config), write_import(tmp_path / "history.json"))
    database.close()
    return ReportsHost(report_config, report_db)


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_current_cycle_then_previous_and_back(host):
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        assert text(screen, "#period") == "Cycle 1 · Mon 16 Nov – Sun 29 Nov 2026 (current)"
        figures = text(screen, "#figures")
        # Nothing closed since 16 Nov; SET-4, SET-5 and SET-7 are in progress or ready.
        assert "Throughput  0 closed" in figures
        assert "WIP now     3" in figures
        # At 20 Nov 12:00: SET-4 stale since 3 Nov, SET-7 since Mon 16 Nov 10:00, SET-5 since Thu 19 Nov 10:00.
        assert "Stale (3)" in figures

        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert text(screen, "#period") == "Cycle 0 · Mon 02 Nov – Sun 15 Nov 2026"
        figures = text(screen, "#figures")
        # The hand computation in test_report_cli.py: 4 closed, lead 48.5 / 168 h, cycle 48 / 144 h.
        assert "Throughput  4 closed" in figures
        assert "Lead time   median 48.5 h · 85th 168.0 h · n=4" in figures
        assert "Cycle time  median 48.0 h · 85th 144.0 h · n=3" in figures
        assert "Stale (1)" in figures and "SET-4" in figures
        assert screen.result.report.period.start == dt.date(2026, 11, 2)

        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert text(screen, "#period").startswith("Cycle 1 ")
        await pilot.press("left", "left")
        await settle(pilot)
        assert text(screen, "#period") == "Cycle -1 · Mon 19 Oct – Sun 01 Nov 2026"


async def test_charts_are_drawn(host):
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("left_square_bracket")
        await settle(pilot)
        screen = pilot.app.screen
        for selector in ("#cfd", "#cycle-time", "#ageing"):
            plot = screen.query_one(selector, PlotextPlot)
            assert plot.size.width > 20 and plot.size.height > 5
            painted = "\n".join(strip.text for strip in plot.render_lines(plot.region.reset_offset))
            assert painted.strip()
        assert "Cycle time (days) · median 2.0 · 85th 6.0" in "".join(
            s.text for s in screen.query_one("#cycle-time", PlotextPlot).render_lines(
                screen.query_one("#cycle-time", PlotextPlot).region.reset_offset))


async def test_escape_goes_back(host):
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReportsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ReportsScreen)


# -- through the board ---------------------------------------------------------


@pytest.fixture
def board(report_config, report_db, tmp_path):
    """TriageApp on the imported history, plus one card created just now (never stale)."""
    from app.tui.app import TriageApp

    database = open_database(report_db)
    service = Service(report_config, clock=lambda: NOW)
    import_file(service, write_import(tmp_path / "history.json"))
    service.create(title="Fresh request", by="desk")
    database.close()
    return TriageApp(report_config, report_db, clock=lambda: NOW, user="alice")


def painted(app, state: str) -> list[str]:
    column = app.board.column(state)
    return [column.render_line(y).text.rstrip() for y in range(column.scrollable_content_region.height)]


def card_heads(app, state: str) -> list[str]:
    """The first line of each card: "! " marks a stale one."""
    return [line.split()[0] + (" " + line.split()[1] if line.startswith("!") else "")
            for line in painted(app, state)[::2] if line.strip()]


async def test_board_marks_stale_cards_and_filters_them(board):
    async with board.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app = pilot.app
        # At Fri 20 Nov 12:00: SET-4 (since 28 Oct), SET-7 (since Mon 9 Nov 10:00), SET-5 (since Thu 12 Nov 10:00)
        # are past five working days; the card created now is not; closed cards never are.
        assert sorted(card_heads(app, "in_progress")) == ["! SET-4", "! SET-7"]
        assert card_heads(app, "ready") == ["! SET-5"]
        assert card_heads(app, "todo") == ["SET-9"]
        assert not any(head.startswith("!") for head in card_heads(app, "closed"))

        await pilot.press("exclamation_mark")
        await settle(pilot)
        counts = {column.state: column.count for column in app.board.columns}
        assert counts == {"todo": 0, "ready": 1, "in_progress": 2, "on_hold": 0, "resolved": 0, "closed": 0}
        assert "stale only" in app.board.sub_title

        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert app.board.column("todo").count == 1 and app.board.column("closed").count == 4 + 1


async def test_r_opens_the_reports_and_q_comes_back(board):
    async with board.run_test(size=SIZE) as pilot:
        await settle(pilot)
        help_rows = {(h.keys, h.description, h.binding_id) for h in pilot.app.board.key_help()}
        assert ("r", "Reports", "board.reports") in help_rows
        assert ("!", "Stale only", "board.stale") in help_rows
        await pilot.press("r")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        assert text(screen, "#period") == "Cycle 1 · Mon 16 Nov – Sun 29 Nov 2026 (current)"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert text(screen, "#period") == "Cycle 0 · Mon 02 Nov – Sun 15 Nov 2026"
        assert "Throughput  4 closed" in text(screen, "#figures")
        await pilot.press("q")
        await pilot.pause()
        assert pilot.app.screen is pilot.app.board


# -- the figures pane, as a user reads it (issue 19.12) ------------------------------


def figure_lines(screen) -> list[str]:
    """The figures pane as painted: what wraps is seen wrapped."""
    widget = screen.query_one("#figures", Static)
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_targets_met_shows_even_when_nothing_closed(host):
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        figures = text(pilot.app.screen, "#figures")
        assert "Throughput  0 closed" in figures
        assert "Targets met — (nothing closed)" in figures


async def test_a_past_cycle_shows_wip_at_its_end(host):
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "WIP now     3" in text(pilot.app.screen, "#figures")
        await pilot.press("left_square_bracket")
        await settle(pilot)
        figures = text(pilot.app.screen, "#figures")
        assert "WIP now" not in figures
        assert "WIP at end (Sun 15 Nov)" in figures


async def test_wip_column_counts_never_wrap_away_from_their_label(host):
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        titles = [screen.config.workflow.column(c).title for c in screen.result.report.wip_columns]
        lines = figure_lines(screen)
        lines = lines[:next(i for i, line in enumerate(lines) if line.startswith("Work type"))]
        for title in titles:
            holding = [line for line in lines if title in line]
            assert holding, (title, "\n".join(lines))
            assert all(re.search(re.escape(title) + r" \d+", line) for line in holding), (title, "\n".join(lines))


async def test_fairness_table_shows_each_persons_on_call_hours_and_the_spread(host):
    # Cycle 0's on-call hours are worked out in test_fairness.py: alice 504 ... grace 9, spread 495.
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        lines = figure_lines(pilot.app.screen)
        start = next(i for i, line in enumerate(lines) if line.startswith("Fairness"))
        rows = {line.split()[0]: line.split()[1:] for line in lines[start + 1:start + 9]}
        assert rows["alice"][0] == "504" and rows["grace"][0] == "9"
        assert rows["spread"][0] == "495"
        assert all(len(line) <= 46 for line in lines[start:start + 9])
