"""The whole pipeline in a test, and reading back what it produced.

`running` starts `newsflow.run.Pipeline` (its own embedded broker, the topics, ingest, enrich
workers and the sink as child processes) on a free loopback port and kills everything on the
way out. The readers return the JSONL files' events, the PostgreSQL table's rows and the
records of a topic, so tests assert on the real outputs.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple, TypeVar

import orjson
import psycopg
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from psycopg import sql

from newsflow.broker import free_port
from newsflow.push import PushSummary, push_paths
from newsflow.run import Child, Pipeline, RunOptions, wait_until_drained
from newsflow.settings import KafkaSettings
from schemas import ArticleEvent

START_S = 60.0
DRAIN_S = 90.0
SESSION_TIMEOUT_MS = 6000
"""A killed worker's partitions move after this; shorter expels busy workers on 2 loaded cores."""
HEARTBEAT_MS = 1000
MAX_BATCH = 50
"""Records per batch. Enrich holds its event loop for a whole batch (~16 ms a page), so a
500-page batch outlasts the session timeout and a rebalance then drops the worker."""

T = TypeVar("T")


def kafka_env() -> dict[str, str]:
    """Consumer-group timing and batch size for the services."""
    return {
        "NEWSFLOW_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        "NEWSFLOW_KAFKA_HEARTBEAT_INTERVAL_MS": str(HEARTBEAT_MS),
        "NEWSFLOW_KAFKA_MAX_BATCH": str(MAX_BATCH),
        "NEWSFLOW_LOG_LEVEL": "WARNING",
        # Free ports for every worker's /metrics: tests run beside each other and other runs.
        "NEWSFLOW_METRICS_PORT": "0",
    }


@asynccontextmanager
async def running(env: Mapping[str, str], *, enrich_workers: int = 2) -> AsyncIterator[Pipeline]:
    """A started pipeline with `env` for its services; every child and the broker die after."""
    kafka = KafkaSettings(
        bootstrap_servers=None,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_MS,
    )
    options = RunOptions(
        enrich_workers=enrich_workers,
        http_port=free_port(),
        drain_timeout=DRAIN_S,
        env={**kafka_env(), **env},
        metrics_port=0,
    )
    pipeline = Pipeline(kafka, options)
    try:
        async with asyncio.timeout(START_S):
            await pipeline.start()
        yield pipeline
    finally:
        await pipeline.kill()


async def start_service(
    pipeline: Pipeline, name: str, service: str, env: Mapping[str, str] | None = None
) -> Child:
    """Start one more supervised `newsflow <service>` against the pipeline's broker."""
    assert pipeline.kafka.bootstrap_servers is not None
    full = {
        **os.environ,
        **pipeline.options.env,
        **(env or {}),
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka.bootstrap_servers,
    }
    argv = [sys.executable, "-m", "newsflow.cli", service]
    return await pipeline.supervisor.start(name, argv, full)


async def drained(pipeline: Pipeline, sink_groups: Sequence[str] = ("newsflow-sink",)) -> None:
    """Wait until enrich and every named sink group have committed everything."""
    done = await wait_until_drained(
        pipeline.kafka,
        timeout=DRAIN_S,
        enrich_group=pipeline.options.enrich_group,
        sink_groups=sink_groups,
    )
    assert done, f"the pipeline did not drain within {DRAIN_S} s"


async def push(pipeline: Pipeline, path: Path, *, batch_size: int = 20) -> PushSummary:
    """Push a JSONL file of pages to the pipeline's ingest, as `newsflow push` does."""
    return await push_paths(
        [path],
        base_url=pipeline.base_url,
        token=None,
        concurrency=2,
        source=None,
        fetched_at=None,
        batch_size=batch_size,
        max_retries=8,
        progress=False,
        timeout_s=30.0,
    )


def file_events(data_dir: Path) -> list[dict[str, object]]:
    """Every complete event line of the JSONL sink's files, in file then line order."""
    events = []
    for path in sorted((data_dir / "articles").rglob("*.jsonl")):
        for line in path.read_bytes().splitlines(keepends=True):
            if line.endswith(b"\n"):
                events.append(orjson.loads(line))
    return events


def file_bytes(data_dir: Path) -> dict[str, bytes]:
    """The JSONL sink's files by relative path, as bytes."""
    root = data_dir / "articles"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.jsonl"))}


class Row(NamedTuple):
    """The identifying columns of one `articles` row."""

    event_id: str
    page_id: str
    position: int
    duplicate_of: str | None
    duplicate_kind: str | None


async def table_rows(dsn: str, schema: str) -> list[Row]:
    """Every row of `<schema>.articles`; empty while the sink has not created the table."""
    query = sql.SQL(
        "SELECT event_id, page_id, position, duplicate_of, duplicate_kind FROM {} ORDER BY 1"
    ).format(sql.Identifier(schema, "articles"))
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        try:
            cursor = await conn.execute(query)
        except psycopg.errors.UndefinedTable:
            return []
        return [Row(*row) for row in await cursor.fetchall()]


async def table_events(dsn: str, schema: str) -> list[ArticleEvent]:
    """Every event stored in `<schema>.articles`, read back from its payload column."""
    query = sql.SQL("SELECT payload::text FROM {} ORDER BY event_id").format(
        sql.Identifier(schema, "articles")
    )
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cursor = await conn.execute(query)
        return [ArticleEvent.model_validate_json(payload) for (payload,) in await cursor.fetchall()]


async def read_topic(
    kafka: KafkaSettings,
    topic: str,
    enough: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    timeout: float = 20.0,
    settle_ms: int = 300,
) -> list[ConsumerRecord[bytes, bytes]]:
    """A topic's records from the start, once `enough` holds (bounded), plus any that follow."""
    consumer = AIOKafkaConsumer(
        topic,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka.client_kwargs(),
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        while not enough(records) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        for batch in (await consumer.getmany(timeout_ms=settle_ms)).values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def group_members(kafka: KafkaSettings, group_id: str) -> frozenset[str]:
    """The member ids of a consumer group once it is stable; empty while it rebalances."""
    admin = AIOKafkaAdminClient(client_id="newsflow-test", **kafka.client_kwargs())
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group_id])
    finally:
        await admin.close()
    [group] = response.groups
    _error, _group_id, state, _protocol_type, _protocol, members = group[:6]
    if state != "Stable":
        return frozenset()
    return frozenset(member[0] for member in members)


async def until(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout: float, what: str
) -> T:
    """Poll `probe` every 0.2 s until `done` holds for its answer; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await probe()
        if done(answer):
            return answer
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s (last: {answer!r})"
        await asyncio.sleep(0.2)
