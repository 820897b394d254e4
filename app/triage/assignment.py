"""Fair assignment: whom to ask next.

2i2c (seed 002): "try not to ask the same person for support help many times
in a row - we should spread the work ... across the team". Sourcegraph
(seed 004): spread ad-hoc work evenly. So the suggestion is the available
member with the least open work who was not the last one asked, ties broken
alphabetically by handle. Pure: the service supplies the counts (one query)
and the last person asked (from the history, so fairness holds across
sessions and across everyone's boards).
"""

from __future__ import annotations

from typing import Iterable, Mapping


def suggest_assignee(available: Iterable[str], open_work: Mapping[str, int],
                     last_asked: str | None = None) -> str | None:
    """The handle to ask, or None when nobody is available.

    `available` are the handles that may be asked (config `available: true`);
    `open_work` counts each one's assigned tickets not yet in the final
    column (absent means none). The last one asked is skipped unless they
    are the only one available: asking them again beats asking nobody.
    """
    candidates = sorted(set(available))
    if not candidates:
        return None
    if len(candidates) > 1 and last_asked in candidates:
        candidates.remove(last_asked)
    return min(candidates, key=lambda handle: (open_work.get(handle, 0), handle))
