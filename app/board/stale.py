"""Stuck work: when a card has sat in its column too long (`report.stale_after`).

Seed 003 asks for tickets that get stuck to be pushed to completion. The
board marks them and the report lists them; both count the threshold on the
business calendar when the file has one. Kept apart from the metrics so the
board can mark cards without importing the reports.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from app.config.settings import Config


def stale_rule(config: Config) -> Callable[[dt.datetime], dt.datetime]:
    """`report.stale_after` on the business calendar (the repo's config counts working days)."""
    add_working = config.sla.calendar.add_working if config.sla is not None else None
    return config.report.stale_rule(add_working)


def is_stale(state_entered: dt.datetime, now: dt.datetime, rule: Callable[[dt.datetime], dt.datetime]) -> bool:
    """Has a card that entered its column at `state_entered` sat there too long at `now`?

    `rule` is `ReportSettings.stale_rule(...)`: "entered at" -> "stale from",
    all naive UTC. The board marks a card with it; the report lists the keys.
    """
    return rule(state_entered) < now


def stale_cutoff(now: dt.datetime, rule: Callable[[dt.datetime], dt.datetime]) -> dt.datetime:
    """The instant C such that a card that entered its column before C is stale at `now`.

    Lets a query ask "stale" as `state_entered < C` however the rule counts
    (working days skip nights, weekends and holidays). The rule never goes
    backwards, so the boundary is found by bisection, to the second.
    """
    low = now - dt.timedelta(days=30)
    while not is_stale(low, now, rule):
        low -= dt.timedelta(days=30)
    high = now  # rule(now) >= now: a card that just moved is never stale
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if is_stale(middle, now, rule):
            low = middle
        else:
            high = middle
    return high


__all__ = ["is_stale", "stale_cutoff", "stale_rule"]
