"""The process starts with the garbage collector off (app.launch) and the board turns it back on.

A board left with the collector off would grow without bound over a day's
session; one that froze objects it did not start with would keep them alive.
"""

from __future__ import annotations

import gc

from app.launch import started
from tests.tui.screen import lines


def test_started_leaves_a_running_collector_and_its_objects_alone():
    frozen = gc.get_freeze_count()
    started()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


async def test_the_board_turns_the_collector_back_on_once_it_has_painted(make_app, seed):
    seed("A card")
    app = make_app()
    gc.disable()  # as `triageboard` (app.launch.main) starts
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            assert "SET-1" in lines(app, "todo")[0]
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0  # what start-up made is out of later collections
    finally:
        gc.unfreeze()
        gc.enable()
