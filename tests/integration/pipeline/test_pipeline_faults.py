"""The pipeline under worker failures: a SIGKILLed enrich worker or sink, a worker joining and
leaving.

With several workers (Redis and PostgreSQL, as in a deployment on several machines, or the
default stores) the pages have exact duplicates but no near duplicates, so the set of originals
does not depend on which worker handles which page when: the sink must hold exactly offline's
event ids, each once, every one an original. With one worker, `newsflow run`'s default, the
pages have near duplicates too, and the originals must be offline's all the same.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from newsflow.run import Pipeline, RunOptions
from schemas import ArticleEvent, DuplicateKind, RawPage
from services.enrich.dedupe_redis import RedisDedupeStore
from services.enrich.process import PageProcessor
from services.enrich.settings import EnrichSettings
from tests.integration.pipeline.harness import (
    drained,
    file_events,
    group_members,
    push,
    running,
    start_service,
    table_rows,
    until,
)
from tests.integration.pipeline.pages import (
    Offline,
    Page,
    corpus_pages,
    offline,
    pages_without_near_duplicates,
    similar_pairs,
    write_pages,
)

CHUNK = 16
read_event = ArticleEvent.model_validate
HELD_BACK = 4
"""Chunks pushed only after the extra worker has left, so every fault happens mid-stream."""
REBALANCE_S = 45.0
ENRICH_GROUP = "newsflow-enrich"


async def _stream(
    pipeline: Pipeline, chunks: Sequence[Path], release: asyncio.Event
) -> tuple[int, int]:
    """Push chunk after chunk, a little apart; the last HELD_BACK wait for `release`."""
    accepted = rejected = 0
    for index, chunk in enumerate(chunks):
        if index == len(chunks) - HELD_BACK:
            async with asyncio.timeout(120):
                await release.wait()
        summary = await push(pipeline, chunk, batch_size=CHUNK)
        accepted += summary.accepted
        rejected += summary.rejected_total
        await asyncio.sleep(0.2)
    return accepted, rejected


@asynccontextmanager
async def _streaming(
    pipeline: Pipeline, chunks: Sequence[Path]
) -> AsyncIterator[Callable[[], Awaitable[tuple[int, int]]]]:
    """Stream the chunks in the background; the yielded call releases the held-back chunks
    (the faults are done) and returns (accepted, rejected) once every chunk is pushed."""
    release = asyncio.Event()
    stream = asyncio.create_task(_stream(pipeline, chunks, release))

    async def finish() -> tuple[int, int]:
        assert not stream.done(), "the stream ended before the faults"
        release.set()
        return await asyncio.wait_for(stream, 120)

    try:
        yield finish
    finally:
        release.set()
        stream.cancel()


def _chunks(directory: Path, pages: Sequence[Page]) -> list[Path]:
    return [
        write_pages(directory / f"chunk-{i:03d}.jsonl", pages[i : i + CHUNK])
        for i in range(0, len(pages), CHUNK)
    ]


async def _files_through_kills(
    chunks: Sequence[Path], data_dir: Path, *, workers: int, victims: Sequence[str]
) -> tuple[int, int, list[ArticleEvent]]:
    """Stream the chunks to a pipeline with the default stores (SQLite dedupe, JSONL files
    under `data_dir`), SIGKILL `victims` once lines land, let the supervisor restart them,
    drain; (accepted, rejected, the events in the files)."""
    env = {"NEWSFLOW_DATA_DIR": str(data_dir), "NEWSFLOW_EMIT_DUPLICATES": "false"}

    async def landed() -> int:
        return len(file_events(data_dir))

    async with (
        running(env, enrich_workers=workers) as pipeline,
        _streaming(pipeline, chunks) as finish,
    ):
        at_kill = await until(landed, lambda n: n > 0, timeout=REBALANCE_S, what="first lines")
        killed = [pipeline.supervisor.children[name] for name in victims]
        for child in killed:
            assert child.process is not None
            os.kill(child.process.pid, signal.SIGKILL)
        # The held-back chunks go in after the kills: on a slow machine the first lines can
        # land when everything pushed so far is through, and only they can then land next.
        accepted, rejected = await finish()
        await until(
            landed, lambda n: n > at_kill, timeout=REBALANCE_S, what="lines after the kills"
        )
        await drained(pipeline)
        events = list(map(read_event, file_events(data_dir)))
    assert [child.restarts for child in killed] == [1] * len(victims)
    # A killed enrich worker is restarted only once its group has dropped it: sooner, it
    # would share the partitions with its ghost and take its share ahead of the rest.
    session_s = pipeline.kafka.session_timeout_ms / 1000
    workers_killed = [child for child in killed if child.name.startswith("enrich")]
    assert [min(child.delays) > session_s for child in workers_killed] == [True] * len(
        workers_killed
    )
    return accepted, rejected, events


def _assert_offline_ids_once_as_originals(
    landed: Sequence[tuple[str, str, int, str | None]], expected: Offline
) -> None:
    """(event_id, page_id, position, duplicate_of) of what landed: offline's ids, each once,
    every one an original found where offline found it."""
    assert sorted(event_id for event_id, *_ in landed) == sorted(expected.event_ids)
    assert [row for row in landed if row[3] is not None] == []
    slots = expected.slots
    assert [row for row in landed if (row[1], row[2]) not in slots[row[0]]] == []


async def test_a_killed_worker_and_a_worker_joining_and_leaving_lose_and_double_nothing(
    tmp_path: Path, postgres_dsn: str, pg_schema: str, redis_url: str, redis_prefix: str
) -> None:
    """Through a SIGKILL, a join and a leave, the table holds offline's ids once, as originals."""
    pages = list(pages_without_near_duplicates(400, 5))
    expected = await offline(pages)
    assert expected.count(DuplicateKind.EXACT) > 0
    assert expected.count(DuplicateKind.NEAR) == 0
    assert similar_pairs(expected.events) == []
    chunks = _chunks(tmp_path, pages)
    env = {
        "NEWSFLOW_DATA_DIR": str(tmp_path / "data"),
        "NEWSFLOW_SINK": "postgres",
        "NEWSFLOW_POSTGRES_DSN": postgres_dsn,
        "NEWSFLOW_POSTGRES_SCHEMA": pg_schema,
        "NEWSFLOW_DEDUPE_STORE": "redis",
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_REDIS_PREFIX": redis_prefix,
        "NEWSFLOW_EMIT_DUPLICATES": "false",
    }

    async def landed() -> int:
        return len(await table_rows(postgres_dsn, pg_schema))

    async def members() -> frozenset[str]:
        return await group_members(pipeline.kafka, ENRICH_GROUP)

    async with running(env) as pipeline, _streaming(pipeline, chunks) as finish:
        first = await until(members, lambda m: len(m) == 2, timeout=REBALANCE_S, what="2 workers")
        at_kill = await until(landed, lambda n: n > 0, timeout=REBALANCE_S, what="first rows")
        victim = pipeline.supervisor.children["enrich-0"]
        assert victim.process is not None
        os.kill(victim.process.pid, signal.SIGKILL)
        # The dead member is expelled and the restarted one joins: two members again, not
        # the same two (a busy survivor may also rejoin under a new id, so no more is said).
        await until(
            members,
            lambda m: len(m) == 2 and m != first,
            timeout=REBALANCE_S,
            what="enrich-0 restarted and rejoined",
        )
        extra = await start_service(pipeline, "enrich-2", "enrich")
        await until(
            members, lambda m: len(m) == 3, timeout=REBALANCE_S, what="the extra worker joined"
        )
        await pipeline.supervisor.stop(["enrich-2"])
        await until(
            members, lambda m: len(m) == 2, timeout=REBALANCE_S, what="the extra worker left"
        )
        accepted, rejected = await finish()
        await drained(pipeline)
        rows = await table_rows(postgres_dsn, pg_schema)

    assert (accepted, rejected) == (len(pages), 0)
    assert 0 < at_kill < len(expected.event_ids)
    assert victim.restarts == 1
    assert extra.process is not None
    assert extra.process.returncode == 0
    _assert_offline_ids_once_as_originals(
        [(row.event_id, row.page_id, row.position, row.duplicate_of) for row in rows], expected
    )


async def test_with_the_default_stores_a_killed_worker_and_a_killed_sink_lose_and_double_nothing(
    tmp_path: Path,
) -> None:
    """SQLite dedupe and JSONL files, as `newsflow run` starts by default: an enrich worker and
    the sink SIGKILLed mid-stream and restarted, the files hold offline's ids once, as originals.
    """
    pages = list(pages_without_near_duplicates(300, 11))
    expected = await offline(pages)
    assert expected.count(DuplicateKind.EXACT) > 0
    assert similar_pairs(expected.events) == []
    chunks = _chunks(tmp_path, pages)
    data_dir = tmp_path / "data"
    accepted, rejected, events = await _files_through_kills(
        chunks, data_dir, workers=2, victims=("enrich-1", "sink")
    )

    assert (accepted, rejected) == (len(pages), 0)
    _assert_offline_ids_once_as_originals(
        [(e.event_id, e.page_id, e.position, e.duplicate_of) for e in events], expected
    )


async def test_an_original_published_after_its_exact_duplicate_still_lands_as_the_original(
    tmp_path: Path, postgres_dsn: str, pg_schema: str, redis_url: str, redis_prefix: str
) -> None:
    """An original whose exact duplicate was published first still lands, not marked a duplicate."""
    pages = corpus_pages(80, 3)
    found = await offline(pages)
    originals = {e.event_id: e for e in found.events if e.duplicate_of is None}
    duplicate = next(
        e
        for e in found.events
        if e.duplicate_kind is DuplicateKind.EXACT and e.page_id != originals[e.event_id].page_id
    )
    original = originals[duplicate.event_id]
    by_id = {page["page_id"]: page for page in pages}
    first, second = by_id[original.page_id], by_id[duplicate.page_id]
    settings = EnrichSettings()
    client = Redis.from_url(redis_url)
    try:
        # What a worker leaves behind when SIGKILL hits between the dedupe step and publishing.
        deduper = settings.deduper(RedisDedupeStore(client, prefix=redis_prefix))
        await PageProcessor(deduper).process([RawPage.model_validate(first)])
    finally:
        await client.aclose()
    env = {
        "NEWSFLOW_DATA_DIR": str(tmp_path / "data"),
        "NEWSFLOW_SINK": "postgres",
        "NEWSFLOW_POSTGRES_DSN": postgres_dsn,
        "NEWSFLOW_POSTGRES_SCHEMA": pg_schema,
        "NEWSFLOW_DEDUPE_STORE": "redis",
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_REDIS_PREFIX": redis_prefix,
        "NEWSFLOW_EMIT_DUPLICATES": "true",
    }
    async with running(env, enrich_workers=1) as pipeline:
        for name, page in (("second", second), ("first", first)):
            summary = await push(pipeline, write_pages(tmp_path / f"{name}.jsonl", [page]))
            assert summary.accepted == 1
            await drained(pipeline)
        rows = {row.event_id: row for row in await table_rows(postgres_dsn, pg_schema)}

    row = rows[original.event_id]
    assert row.duplicate_of != row.event_id
    assert (row.page_id, row.position, row.duplicate_of) == (
        original.page_id,
        original.position,
        None,
    )


async def test_one_worker_killed_mid_stream_still_lands_offline_originals_near_duplicates_included(
    tmp_path: Path,
) -> None:
    """`newsflow run`'s default, one enrich worker, with the default stores: pages with near
    duplicates streamed in chunks, the worker and the sink SIGKILLed and restarted mid-stream,
    and the files hold exactly offline's originals, each once. With one worker the copy of a
    near duplicate that is the original is offline's: the worker takes the pages in the order
    they were accepted, and handles a batch again after a crash with the same verdicts."""
    pages = list(corpus_pages(240, 13))
    expected = await offline(pages)
    assert expected.count(DuplicateKind.NEAR) > 0
    originals = {event.event_id for event in expected.events if event.duplicate_of is None}
    chunks = _chunks(tmp_path, pages)
    data_dir = tmp_path / "data"
    workers = RunOptions().enrich_workers
    assert workers == 1
    accepted, rejected, events = await _files_through_kills(
        chunks, data_dir, workers=workers, victims=("enrich-0", "sink")
    )

    assert (accepted, rejected) == (len(pages), 0)
    in_files = [event.event_id for event in events]
    assert sorted(in_files) == sorted(originals)
    slots = expected.slots
    assert [e.event_id for e in events if (e.page_id, e.position) not in slots[e.event_id]] == []
