"""The SQLite dedupe store on a real file: the dedupe scenarios, two workers, two processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from schemas import DuplicateKind
from services.enrich.dedupe import Deduper, InMemoryDedupeStore, Verdict
from services.enrich.dedupe_sqlite import SqliteDedupeStore
from services.enrich.errors import DedupeStoreError
from services.enrich.fingerprint import Fingerprint
from tests.unit.enrich.test_dedupe import (
    FETCHED,
    POWER,
    SCENARIOS,
    TRAM,
    TRAM_UPDATE,
    band_members_come_oldest_first,
    crash_then_reprocess,
    fp,
    in_turn,
    partitions_at_different_speeds,
    two_workers,
    variants,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario_on_sqlite(
    scenario: Callable[[Deduper], Awaitable[None]], tmp_path: Path
) -> None:
    """Each dedupe scenario holds over a SQLite file."""
    async with await SqliteDedupeStore.open(tmp_path / "dedupe.sqlite3") as store:
        await scenario(Deduper(store))


@pytest.mark.parametrize("seed", range(4))
async def test_two_workers_share_one_file(seed: int, tmp_path: Path) -> None:
    """Two workers with their own connections to one file find one original per group."""
    path = tmp_path / "dedupe.sqlite3"
    async with (
        await SqliteDedupeStore.open(path) as first,
        await SqliteDedupeStore.open(path) as second,
    ):
        await two_workers(in_turn(Deduper(first)), in_turn(Deduper(second)), seed)


async def test_partitions_at_different_speeds_on_sqlite(tmp_path: Path) -> None:
    """Two workers' connections to one file keep what the slower one's partition needs."""
    path = tmp_path / "dedupe.sqlite3"
    async with (
        await SqliteDedupeStore.open(path) as slow,
        await SqliteDedupeStore.open(path) as fast,
    ):
        await partitions_at_different_speeds(
            Deduper(slow, min_records=0), Deduper(fast, min_records=0)
        )


def _judge_in_process(path: str, batches: list[list[Fingerprint]]) -> list[Verdict]:
    async def run() -> list[Verdict]:
        async with await SqliteDedupeStore.open(path) as store:
            return await in_turn(Deduper(store))(batches)

    return asyncio.run(run())


async def test_two_processes_share_one_file(tmp_path: Path) -> None:
    """Two worker processes on one file find one original per near-duplicate group."""
    path = str(tmp_path / "dedupe.sqlite3")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:

        def worker(batches: list[list[Fingerprint]]) -> asyncio.Future[list[Verdict]]:
            return loop.run_in_executor(pool, _judge_in_process, path, batches)

        await two_workers(worker, worker, seed=7)


async def test_crash_then_reprocess_on_sqlite(tmp_path: Path) -> None:
    """After a crash, a new connection to the file repeats the verdicts the lost run computed."""
    path = tmp_path / "dedupe.sqlite3"
    async with (
        await SqliteDedupeStore.open(path) as crashed,
        await SqliteDedupeStore.open(path) as restarted,
    ):
        await crash_then_reprocess(Deduper(crashed), Deduper(restarted))


@pytest.mark.parametrize(("min_records", "kept"), [(0, 4 * 3), (20, 20)])
async def test_rows_older_than_the_window_are_evicted(
    min_records: int, kept: int, tmp_path: Path
) -> None:
    """The file keeps only the articles within the window and lateness of the newest fetch,
    or the newest min_records when that is more."""
    path = tmp_path / "dedupe.sqlite3"
    async with await SqliteDedupeStore.open(path) as store:
        deduper = Deduper(
            store, window=timedelta(days=2), lateness=timedelta(days=1), min_records=min_records
        )
        for day in range(10):
            at = FETCHED + timedelta(days=day)
            await deduper.judge(
                [fp((f"Day {day} item {i}", POWER[1]), f"p{day}#{i}", at) for i in range(3)]
            )
    with sqlite3.connect(path) as db:
        events = db.execute("SELECT count(*) FROM dedupe_events").fetchone()[0]
    db.close()
    assert events == kept  # days 6 to 9; or those and the newest of days 3 to 5


async def test_a_failed_batch_leaves_nothing_behind_in_file_or_mirror(tmp_path: Path) -> None:
    """A batch rolled back (the file locked too long) is not remembered; retried, it counts."""
    path = tmp_path / "dedupe.sqlite3"
    tram_update = (TRAM[0], f"{TRAM[1]}\n\n{TRAM_UPDATE}")
    async with (
        await SqliteDedupeStore.open(path, busy_timeout=0.2) as store,
        await SqliteDedupeStore.open(path) as other,
    ):
        deduper = Deduper(store)
        power, tram = fp(POWER, "p1#0"), fp(TRAM, "p3#0")
        [first] = await deduper.judge([power])
        assert first.duplicate_of is None
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(DedupeStoreError):
            await deduper.judge([fp(TRAM, "p2#0")])
        blocker.execute("ROLLBACK")
        blocker.close()
        # Another worker registers the tram article first: the failed batch left no trace.
        [elsewhere] = await Deduper(other).judge([tram])
        assert elsewhere.duplicate_of is None
        retried = await deduper.judge([fp(TRAM, "p2#0"), fp(tram_update, "p4#0")])
        assert [v.duplicate_of for v in retried] == [tram.event_id, tram.event_id]
        [again] = await deduper.judge([fp(POWER, "p5#0", noisy=True)])
        assert again.duplicate_of == power.event_id


async def test_an_unusable_file_is_a_retriable_store_error(tmp_path: Path) -> None:
    """A store that cannot be opened raises DedupeStoreError, which retry code retries."""
    with pytest.raises(DedupeStoreError) as caught:
        await SqliteDedupeStore.open(tmp_path / "missing" / "dedupe.sqlite3")
    assert caught.value.retriable
    path = tmp_path / "dedupe.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(DedupeStoreError):
        await SqliteDedupeStore.open(path)


async def test_a_closed_store_fails_as_a_store_error(tmp_path: Path) -> None:
    """Using a closed store raises DedupeStoreError rather than a raw sqlite3 error."""
    store = await SqliteDedupeStore.open(tmp_path / "dedupe.sqlite3")
    await store.close()
    with pytest.raises(DedupeStoreError):
        await Deduper(store).judge([fp(TRAM, "p#0")])


async def test_band_members_come_oldest_first_on_sqlite(tmp_path: Path) -> None:
    """Two stores on one file (each absorbing the other's rows) answer oldest first."""
    path = tmp_path / "dedupe.sqlite3"
    async with (
        await SqliteDedupeStore.open(path) as first,
        await SqliteDedupeStore.open(path) as second,
    ):
        await band_members_come_oldest_first([first, second])


@pytest.mark.parametrize("seed", range(3))
async def test_batch_registration_equals_one_by_one_and_memory(seed: int, tmp_path: Path) -> None:
    """A batch registered at once gets the verdicts of one-by-one registration and of memory."""
    articles = variants(seed)
    memory = await Deduper(InMemoryDedupeStore()).judge(articles)
    async with await SqliteDedupeStore.open(tmp_path / "batch.sqlite3") as store:
        assert await Deduper(store).judge(articles) == memory
    async with await SqliteDedupeStore.open(tmp_path / "single.sqlite3") as store:
        deduper = Deduper(store)
        assert [(await deduper.judge([article]))[0] for article in articles] == memory


async def test_two_threads_register_batches_on_one_file(tmp_path: Path) -> None:
    """Two connections registering whole batches at once never take each other as earlier."""
    path = tmp_path / "dedupe.sqlite3"
    articles = variants(5)
    async with (
        await SqliteDedupeStore.open(path) as first,
        await SqliteDedupeStore.open(path) as second,
    ):
        left, right = await asyncio.gather(
            Deduper(first).judge(articles[0::2]), Deduper(second).judge(articles[1::2])
        )
    verdicts = dict(zip(articles[0::2], left, strict=True)) | dict(
        zip(articles[1::2], right, strict=True)
    )
    near = {
        (f.event_id, v.duplicate_of) for f, v in verdicts.items() if v.kind is DuplicateKind.NEAR
    }
    assert not {(b, a) for a, b in near} & near  # never a pair of mutual duplicates
    originals = {f.event_id for f, v in verdicts.items() if v.duplicate_of is None}
    assert {original for _, original in near} <= originals
