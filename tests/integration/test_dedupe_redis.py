"""The Redis dedupe store on the real Redis: the dedupe scenarios, two workers, a crash.

Redis at 127.0.0.1:6379 is required: the ``redis_url`` fixture fails the test when it is
down. Each test works under its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from schemas import DuplicateKind
from services.enrich.dedupe import ORIGINAL, Deduper, Verdict, to_micros
from services.enrich.dedupe_redis import RedisDedupeStore
from services.enrich.errors import DedupeStoreError
from tests.unit.enrich.test_dedupe import (
    FETCHED,
    POWER,
    SCENARIOS,
    STORM,
    TRAM,
    band_members_come_oldest_first,
    crash_then_reprocess,
    fp,
    in_turn,
    near_duplicate_groups,
    partitions_at_different_speeds,
    trimmed,
    two_workers,
    with_update,
)

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the real Redis."""
    redis = Redis.from_url(redis_url)
    yield redis
    await redis.aclose()


@pytest_asyncio.fixture
async def prefix(client: Redis, unique_name: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"newsflow-test:dedupe:{unique_name}"
    yield name
    keys = [key async for key in client.scan_iter(match=f"{{{name}}}*", count=1000)]
    if keys:
        await client.delete(*keys)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario_on_redis(
    scenario: Callable[[Deduper], Awaitable[None]], client: Redis, prefix: str
) -> None:
    """Each dedupe scenario holds over Redis."""
    await scenario(Deduper(RedisDedupeStore(client, prefix=prefix)))


async def test_band_members_come_oldest_first_on_redis(client: Redis, prefix: str) -> None:
    """Redis answers a registration's earlier band members oldest first."""
    await band_members_come_oldest_first([RedisDedupeStore(client, prefix=prefix)])


@pytest.mark.parametrize("seed", range(4))
async def test_two_workers_share_one_redis(
    seed: int, redis_url: str, client: Redis, prefix: str
) -> None:
    """Two workers with their own clients find one original per near-duplicate group."""
    other = Redis.from_url(redis_url)
    try:
        await two_workers(
            in_turn(Deduper(RedisDedupeStore(client, prefix=prefix))),
            in_turn(Deduper(RedisDedupeStore(other, prefix=prefix))),
            seed,
        )
    finally:
        await other.aclose()


async def test_partitions_at_different_speeds_on_redis(
    redis_url: str, client: Redis, prefix: str
) -> None:
    """Two workers' clients keep what the slower one's partition needs."""
    other = Redis.from_url(redis_url)
    try:
        await partitions_at_different_speeds(
            Deduper(RedisDedupeStore(client, prefix=prefix), min_records=0),
            Deduper(RedisDedupeStore(other, prefix=prefix), min_records=0),
        )
    finally:
        await other.aclose()


async def test_crash_then_reprocess_on_redis(redis_url: str, client: Redis, prefix: str) -> None:
    """After a crash, a new client repeats the verdicts the lost run computed."""
    restarted = Redis.from_url(redis_url)
    try:
        await crash_then_reprocess(
            Deduper(RedisDedupeStore(client, prefix=prefix)),
            Deduper(RedisDedupeStore(restarted, prefix=prefix)),
        )
    finally:
        await restarted.aclose()


async def test_every_key_expires_within_the_window(client: Redis, prefix: str) -> None:
    """All the store's keys sit under the prefix, with a TTL of at most window + lateness +
    max skew."""
    window, lateness, skew = timedelta(days=3), timedelta(days=1), timedelta(hours=5)
    store = RedisDedupeStore(client, prefix=prefix)
    deduper = Deduper(store, window=window, lateness=lateness, max_skew=skew)
    await deduper.judge([f for group in near_duplicate_groups() for f in group])
    keys = [key async for key in client.scan_iter(match=f"{{{prefix}}}*", count=1000)]
    # counter, horizon, lanes, records of 6 groups x 4 variants, bands
    assert len(keys) > 3 + 6 * 4
    assert {f"{{{prefix}}}:{name}".encode() for name in ("seq", "horizon", "lanes")} <= set(keys)
    for key in keys:
        ttl_ms = await client.pttl(key)
        assert 0 < ttl_ms <= (window + lateness + skew) / timedelta(milliseconds=1), key


async def test_band_members_older_than_the_window_are_dropped(client: Redis, prefix: str) -> None:
    """Touching a band drops its members fetched more than the window (no lateness here)
    before the newest of the earlier batches."""
    store = RedisDedupeStore(client, prefix=prefix)
    deduper = Deduper(store, window=timedelta(days=1), lateness=timedelta(0), min_records=0)
    old = fp(STORM, "page-a#0")
    recent = fp(trimmed(STORM), "page-b#0", old.fetched_at + timedelta(hours=12))
    lifted = with_update(STORM, "Update: The warning was lifted on Sunday morning.")
    later = fp(lifted, "page-c#0", old.fetched_at + timedelta(days=2))
    shared = set(old.bands) & set(recent.bands) & set(later.bands)
    band = f"{{{prefix}}}:band:{min(shared)}"
    assert await deduper.judge([old, recent]) == [
        ORIGINAL,
        Verdict(old.event_id, DuplicateKind.NEAR),
    ]
    assert set(await client.zrange(band, 0, -1)) == {
        old.event_id.encode(),
        recent.event_id.encode(),
    }
    assert await deduper.judge([later]) == [ORIGINAL]
    # The batch of `later` moved the horizon past old and recent; the next touch drops them.
    assert await deduper.judge([later]) == [ORIGINAL]
    assert await client.zrange(band, 0, -1) == [later.event_id.encode()]


async def test_the_newest_min_records_stay(client: Redis, prefix: str) -> None:
    """Beyond the window and the lateness, the newest min_records records stay (with those
    fetched at the same moment as the last of them)."""
    store = RedisDedupeStore(client, prefix=prefix)
    deduper = Deduper(store, window=timedelta(days=2), lateness=timedelta(days=1), min_records=20)
    for day in range(10):
        at = FETCHED + timedelta(days=day)
        await deduper.judge(
            [fp((f"Day {day} item {i}", POWER[1]), f"p{day}#{i}", at) for i in range(3)]
        )
    # Days 3 to 9: the 20th newest is one of day 3's three items.
    assert await client.zcard(f"{{{prefix}}}:by_time") == 7 * 3
    horizon = await client.get(f"{{{prefix}}}:horizon")
    assert horizon == str(to_micros(FETCHED + timedelta(days=3))).encode()


async def test_a_lost_script_cache_is_reloaded(client: Redis, prefix: str) -> None:
    """When the server does not know the script (a restart), it is loaded and the batch rerun."""
    store = RedisDedupeStore(client, prefix=prefix)
    store._script.sha = "0" * 40  # a script the server has never seen, as after a restart
    page = [fp(TRAM, "page-a#0"), fp(TRAM, "page-a#1", noisy=True)]
    assert await Deduper(store).judge(page) == [
        ORIGINAL,
        Verdict(page[0].event_id, DuplicateKind.EXACT),
    ]
    assert store._script.sha != "0" * 40


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_redis_is_a_retriable_store_error() -> None:
    """A Redis that does not answer raises DedupeStoreError, which retry code retries."""
    down = Redis(port=_free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(DedupeStoreError) as caught:
            await Deduper(RedisDedupeStore(down, prefix="unreachable")).judge([fp(TRAM, "p#0")])
    finally:
        await down.aclose()
    assert caught.value.retriable


async def test_a_decoding_client_is_refused(redis_url: str) -> None:
    """Signatures are bytes, so a client that decodes responses is refused up front."""
    decoding = Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            RedisDedupeStore(decoding)
    finally:
        await decoding.aclose()
