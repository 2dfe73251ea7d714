"""Keeping a worker's partitions from running far ahead of the others', by fetched_at.

Dedupe stores keep what the slowest partition needs, up to a maximum skew behind the
fastest (``Retention``). In a backlog every worker goes through its partitions at its own
speed, so the gap between them grows with the backlog; past the maximum skew the store
follows the faster partitions, and pages of the slower ones lose the articles they
duplicate. So before a batch the enrich shell waits while the partitions of the batch are
more than half the maximum skew ahead of the slowest partition registered by others
(``lead``), polling the store. Waiting is bounded, and a partition from which nothing was
registered for ``IDLE_S`` (its worker died, it gets no pages) no longer counts. Two workers
never wait for each other: each waits only for partitions behind its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import Final

from services.enrich.dedupe_store import DedupeStore, Lane

IDLE_S: Final = 10.0
"""A lane from which no batch was registered for this long does not hold others back."""
MAX_WAIT_S: Final = 10.0
"""The longest a batch waits (well under the consumer's poll interval limit)."""
POLL_S: Final = 0.05


def lead(
    batch: Collection[str], lanes: Mapping[str, Lane], *, now: float, idle_s: float
) -> timedelta:
    """How far the slowest of the batch's lanes already is ahead of the slowest other lane
    seen within ``idle_s`` of ``now``; zero when either is unknown or it is behind."""
    own = [lanes[name].newest for name in batch if name in lanes]
    others = [
        lane.newest
        for name, lane in lanes.items()
        if name not in batch and now - lane.seen <= idle_s
    ]
    if not own or not others:
        return timedelta(0)
    return max(min(own) - min(others), timedelta(0))


class Aligner:
    """Waits, before a batch, until its lanes are at most ``max_lead`` ahead of the others."""

    def __init__(
        self,
        store: DedupeStore,
        *,
        max_lead: timedelta,
        idle_s: float = IDLE_S,
        max_wait_s: float = MAX_WAIT_S,
        poll_s: float = POLL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._max_lead = max_lead
        self._idle_s = idle_s
        self._max_wait_s = max_wait_s
        self._poll_s = poll_s
        self._clock = clock

    async def wait(self, batch: Collection[str]) -> float:
        """Wait until the batch's lanes may go on, or the longest wait passed; the seconds
        waited. Raises DedupeStoreError (retriable) when the store fails."""
        started = time.monotonic()
        while True:
            lanes = await self._store.lanes()
            ahead = lead(batch, lanes, now=self._clock(), idle_s=self._idle_s)
            waited = time.monotonic() - started
            if ahead <= self._max_lead or waited >= self._max_wait_s:
                return waited
            await asyncio.sleep(self._poll_s)
