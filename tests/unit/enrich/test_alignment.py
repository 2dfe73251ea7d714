"""Workers' partitions kept within half the maximum skew of each other."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from services.enrich.alignment import Aligner, lead
from services.enrich.dedupe import Deduper, InMemoryDedupeStore, Lane
from services.enrich.fingerprint import Fingerprint
from tests.unit.enrich.test_dedupe import FERRY, FETCHED, POWER, STORM, TRAM, fp

DAY = timedelta(days=1)
NOW = 1_750_000_000.0


def test_lead_is_how_far_the_batch_is_ahead_of_the_slowest_other_lane() -> None:
    """The slowest lane of the batch against the slowest other lane seen lately."""
    lanes = {
        "raw/0": Lane(FETCHED + 5 * DAY, NOW),
        "raw/1": Lane(FETCHED + 7 * DAY, NOW),
        "raw/2": Lane(FETCHED + DAY, NOW - 3),
        "raw/3": Lane(FETCHED + 2 * DAY, NOW - 1),
    }
    assert lead(["raw/0", "raw/1"], lanes, now=NOW, idle_s=10) == 4 * DAY
    assert lead(["raw/2", "raw/3"], lanes, now=NOW, idle_s=10) == timedelta(0)  # behind
    assert lead(["raw/1"], lanes, now=NOW, idle_s=10) == 6 * DAY


def test_idle_lanes_and_unknown_ones_hold_nothing_back() -> None:
    """A lane not seen within idle_s does not count; nor do lanes the store never saw."""
    lanes = {"raw/0": Lane(FETCHED + 5 * DAY, NOW), "raw/1": Lane(FETCHED, NOW - 11)}
    assert lead(["raw/0"], lanes, now=NOW, idle_s=10) == timedelta(0)
    assert lead(["raw/0"], lanes, now=NOW, idle_s=12) == 5 * DAY
    assert lead(["raw/9"], lanes, now=NOW, idle_s=12) == timedelta(0)
    assert lead(["raw/0", "raw/1"], lanes, now=NOW, idle_s=12) == timedelta(0)


def _page(article: tuple[str, str], owner: str, days: float) -> list[Fingerprint]:
    return [fp(article, owner, FETCHED + days * DAY)]


async def test_a_batch_ahead_waits_until_the_slower_lane_catches_up() -> None:
    """A worker whose partition is 3 days ahead of another's, with 1 day allowed, waits
    until the other registers a batch that brings it within a day."""
    store = InMemoryDedupeStore()
    deduper = Deduper(store)
    await deduper.judge(_page(TRAM, "slow#0", 0), {"raw/1": FETCHED})
    await deduper.judge(_page(STORM, "fast#0", 3), {"raw/0": FETCHED + 3 * DAY})
    aligner = Aligner(store, max_lead=DAY, max_wait_s=30, poll_s=0.01)
    waiting = asyncio.create_task(aligner.wait(["raw/0"]))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await deduper.judge(_page(POWER, "slow#1", 1.5), {"raw/1": FETCHED + 1.5 * DAY})
    await asyncio.sleep(0.3)
    assert not waiting.done()  # still 1.5 days ahead
    await deduper.judge(_page(FERRY, "slow#2", 2.5), {"raw/1": FETCHED + 2.5 * DAY})
    waited = await asyncio.wait_for(waiting, 10)
    assert waited >= 0.6


async def test_a_dead_lane_stops_holding_back_and_waits_are_bounded() -> None:
    """A slower lane not seen within idle_s lets the batch go at once; one seen lately holds
    it for max_wait_s at most."""
    store = InMemoryDedupeStore()
    deduper = Deduper(store)
    await deduper.judge(_page(TRAM, "slow#0", 0), {"raw/1": FETCHED})
    await deduper.judge(_page(STORM, "fast#0", 3), {"raw/0": FETCHED + 3 * DAY})
    later = Aligner(store, max_lead=DAY, idle_s=10, clock=lambda: time.time() + 60)
    assert await asyncio.wait_for(later.wait(["raw/0"]), 5) < 1
    bounded = Aligner(store, max_lead=DAY, max_wait_s=0.3, poll_s=0.01)
    assert 0.3 <= await asyncio.wait_for(bounded.wait(["raw/0"]), 5) < 5
    within = Aligner(store, max_lead=3 * DAY, max_wait_s=30)
    assert await asyncio.wait_for(within.wait(["raw/0"]), 5) < 1
