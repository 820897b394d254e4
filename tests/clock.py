"""A controlled clock for tests that drive the service: naive UTC, as the service stores instants."""

from __future__ import annotations

import datetime as dt


class Clock:
    """Returns `now`; tests move it by hand.

    `set(2026, 11, 16, 9, 5)` takes the fields of a naive UTC datetime;
    `set(aware)` takes any aware datetime (say London wall time) and keeps it as naive UTC.
    """

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, *when: int | dt.datetime) -> None:
        if len(when) == 1 and isinstance(when[0], dt.datetime):
            moment = when[0]
            if moment.tzinfo is None:
                raise TypeError("Clock.set: pass an aware datetime, or the fields of a UTC one as ints")
            self.now = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
        else:
            self.now = dt.datetime(*when)

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)
