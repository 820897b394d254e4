"""What a board test reads off the screen, and how it waits for the board to be still.

Shared by every pilot test so they all read the screen the same way; the board paints
some parts (the response-target countdown, the untriaged count) from thread workers,
so a test that reads a line must first let those workers land.
"""

from __future__ import annotations

import re


async def workers_done(app) -> None:
    """Wait until the app's workers have finished. One cancelled meanwhile is no failure: an exclusive
    worker (the at-risk walk, a recount) is cancelled whenever a newer one replaces it, and Textual's
    `wait_for_complete` raises for it, leaving the others unwaited; so wait again."""
    from textual.worker import WorkerCancelled

    while True:
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def settle(pilot) -> None:
    """Wait for the board's thread workers and the messages they post (twice: a write can queue another)."""
    for _ in range(2):
        await workers_done(pilot.app)
        await pilot.pause()


def lines(app, state: str) -> list[str]:
    """The text a column paints now, line by line (trailing blanks dropped)."""
    column = app.board.column(state)
    painted = [column.render_line(y).text.rstrip() for y in range(column.scrollable_content_region.height)]
    while painted and not painted[-1]:
        painted.pop()
    return painted


def title_of(line: str) -> str:
    """A card's title line without the response-target countdown that may end it ("8h left")."""
    return re.sub(r"\s{2,}\S.*$", "", line.strip())


def toasts(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]



def timeline(screen) -> list[str]:
    """The detail view's conversation as painted, line by line (a mail's frame included)."""
    return screen.query_one("#timeline").plain_lines()
