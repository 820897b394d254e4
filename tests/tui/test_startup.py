"""The process starts with the garbage collector off (app.cli.launch) and the board turns it back on.

A board left with the collector off would grow without bound over a day's
session; one that froze objects it did not start with would keep them alive.
"""

from __future__ import annotations

import gc

from app.cli.collector import started
from tests.tui.screen import lines


def test_started_leaves_a_running_collector_and_its_objects_alone():
    frozen = gc.get_freeze_count()
    started()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


async def test_the_board_turns_the_collector_back_on_once_it_has_painted(make_app, seed):
    seed("A card")
    app = make_app()
    gc.disable()  # as `triageboard` (app.cli.launch.main) starts
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            assert "SET-1" in lines(app, "todo")[0]
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0  # what start-up made is out of later collections
    finally:
        gc.unfreeze()
        gc.enable()


async def test_the_first_frame_shows_the_whole_board(make_app, seed):
    """The first frame written to the terminal has the cards, the bottom borders' "in view" ranges,
    the status line and the line of keys: nothing fills in a frame later (Textual's own footer did,
    180 ms after the board with 100,000 tickets)."""
    from textual.app import App

    for n in range(30):
        seed(f"Card {n}")
    app = make_app()
    frames: list[list[str]] = []
    display = app._display

    def first_frame(screen, update) -> None:
        if not frames:
            frames.append([strip.text for strip in screen._compositor.render_strips()])
        display(screen, update)

    app._display = first_frame
    assert isinstance(app, App)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
    frame = frames[0]
    assert "SET-1 P2" in frame[2]
    assert "1–20 of 30" in frame[-3]  # the column knew its height when it drew its border
    assert frame[-2].strip().startswith("SET-1 P2 Open · Card 0")
    for key in ("u Undo", "H Move left", "L Move right", "? Help", "^p palette"):
        assert key in frame[-1]
