"""A limit on attempts per key in a sliding window: failed logins, fresh-link mails.

In memory, per `serve` process: enough to make guessing a password over the
network hopeless (a handful of tries per quarter hour per address and per
handle) without a store of its own.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable


class RateLimit:
    def __init__(self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if not seen:
            self._seen.pop(key, None)
        return seen

    def blocked(self, *keys: str) -> float:
        """Seconds until every key may try again (0: none is over its limit)."""
        wait = 0.0
        for key in keys:
            seen = self._recent(key)
            if len(seen) >= self.attempts:
                wait = max(wait, seen[0] + self.window - self.clock())
        return wait

    def hit(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key)
            self._seen.setdefault(key, deque()).append(now)

    def clear(self, *keys: str) -> None:
        for key in keys:
            self._seen.pop(key, None)
