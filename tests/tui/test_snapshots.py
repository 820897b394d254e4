"""Snapshots of the board as a user sees it (issue 19, "Cards you can read"): pytest-textual-snapshot.

The board is the demo's day of work (`app.board.demo.seed`, its fixed random seed) at a fixed
instant, on the board's own clock, so the pictures are the same on any day and on both
backends; the cursor does not blink (tests/tui/conftest.py) and the preferences file is
the test's own (tests/conftest.py `ui_state`). The tests are synchronous, as the plugin
needs: what the user does happens in `run_before`.

After a deliberate change to what the board draws, look at the new pictures and accept them:

    python -m pytest tests/tui/test_snapshots.py --snapshot-update

(`__snapshots__/test_snapshots/*.svg`; open one in a browser, or read its text.)
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from app.board.demo import seed

from tests.tui.screen import settle

NOW = dt.datetime(2026, 11, 3, 14, 0)  # a Tuesday afternoon in London (naive UTC, as the service keeps instants)


@pytest.fixture
def demo_app(config, db, make_app):
    seed(config, 60, rng=random.Random(7), now=NOW)
    return make_app(clock=lambda: NOW, demo=True)


def after(*keys: str):
    """A `run_before` that lets the board load, presses `keys` one at a time, and lets each land."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(160, 45), (100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_board(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, run_before=after())


def test_board_with_the_triage_panel(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(160, 45), run_before=after("t"))


def test_board_with_the_roster(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(160, 45), run_before=after("o"))


def test_board_compact(snap_compare, demo_app):
    """`D`: one line a card, twice the cards in view."""
    assert snap_compare(demo_app, terminal_size=(160, 45), run_before=after("D"))


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_narrow_after_a_step_right(snap_compare, demo_app, size):
    """A narrow terminal: the wide column follows the cursor (here to Ready)."""
    assert snap_compare(demo_app, terminal_size=size, run_before=after("l"))
