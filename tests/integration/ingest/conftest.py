"""Ingest integration fixtures: the real app under uvicorn on 127.0.0.1, and reading pages.raw back.

Each test gets its own pages topic on the session broker, so records never cross tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from newsflow.settings import KafkaSettings
from services.ingest.main import build_server
from services.ingest.settings import IngestSettings

START_S = 20.0
STOP_S = 20.0
READ_S = 30.0


@asynccontextmanager
async def serving(settings: IngestSettings, kafka_settings: KafkaSettings) -> AsyncIterator[str]:
    """Run ingest (publisher, lifespan, uvicorn) on a free loopback port; yield its base URL."""
    server = build_server(settings.model_copy(update={"http_port": 0}), kafka_settings)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(START_S):
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("ingest stopped during startup")
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, STOP_S)


async def read_records(
    kafka_settings: KafkaSettings, count: int, *, settle_ms: int = 300
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read `count` records of the pages topic from the start, then check no more arrive."""
    consumer = AIOKafkaConsumer(
        kafka_settings.topic_pages,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka_settings.client_kwargs(),
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(READ_S):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        for batch in (await consumer.getmany(timeout_ms=settle_ms)).values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def ingest_kafka(kafka_settings: KafkaSettings, unique_name: str) -> KafkaSettings:
    """The session broker's settings with a pages topic of this test's own."""
    return kafka_settings.model_copy(update={"topic_pages": f"pages.raw.{unique_name}"})


@pytest.fixture
def ingest_settings() -> IngestSettings:
    """Ingest settings for tests: loopback, no tokens, the default limits."""
    return IngestSettings(http_host="127.0.0.1", ingest_tokens=(), max_page_bytes=5 * 1024 * 1024)


@pytest.fixture
async def ingest_url(
    ingest_settings: IngestSettings, ingest_kafka: KafkaSettings
) -> AsyncIterator[str]:
    """Base URL of a running ingest publishing to this test's topic."""
    async with serving(ingest_settings, ingest_kafka) as url:
        yield url
