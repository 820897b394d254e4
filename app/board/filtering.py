"""A filter-language query as a database condition, with the board's meaning of its terms.

The one place the parsed query (`app.board.query`) meets the compiler
(`data.search`): the board's `/` (`BoardSource.search_condition`) and `ticket
list --query` both come here, giving what only the app knows: the workflow's
first and last columns, the board's time zone, where "stale" starts (asked only when the query says
`is:stale`) and the clock `is:at-risk` reads the stored due instants with.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from app.board.query import parse
from app.board.workflow import Workflow
from data.search import SearchContext, where


def search_where(text: str, workflow: Workflow, *, tz: dt.tzinfo = dt.timezone.utc,
                 stale_before: Callable[[], dt.datetime | None] = lambda: None,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc), typing: bool = False,
                 paging: bool = False):
    """The condition `text` asks for (None: no terms). Raises `app.board.query.QueryError` (one line).
    `paging`: for one page of a column, not a count or a list (`data.search.where`)."""
    query = parse(text, states=workflow.keys, typing=typing)
    if not query.terms:
        return None
    context = SearchContext(initial=workflow.initial, final=workflow.final, tz=tz, stale_before=stale_before,
                            now=now)
    return where(query, context, paging=paging)


__all__ = ["search_where"]
