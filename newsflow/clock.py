"""The one place that reads the wall clock; the core takes times as arguments instead."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Stamps:
    """Nanoseconds since the epoch, strictly increasing for one `Stamps` even when the wall
    clock repeats or steps back: the order in which one process did things, comparable (to
    within clock skew) with the stamps of other processes."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._last = 0

    def __call__(self) -> int:
        """The next stamp."""
        return self.reserve(1)

    def reserve(self, count: int) -> int:
        """The first of `count` consecutive stamps, all later than any given before."""
        if count < 1:
            raise ValueError("count must be at least 1")
        first = max(self._now_ns(), self._last + 1)
        self._last = first + count - 1
        return first
