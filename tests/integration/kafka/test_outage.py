"""The publisher across a broker outage: readiness drops, publish fails fast, then it recovers."""

from __future__ import annotations

import asyncio
import time

import pytest

from newsflow.broker import EmbeddedBroker
from newsflow.kafka import KafkaPublisher, PublishUnavailable, Record, ensure_topics
from newsflow.settings import KafkaSettings

TOPIC = "outage"
WAIT_S = 30.0


async def _ready_becomes(publisher: KafkaPublisher, wanted: bool) -> float:
    """Seconds until `publisher.ready()` returns `wanted` (bounded by WAIT_S)."""
    start = time.monotonic()
    async with asyncio.timeout(WAIT_S):
        while await publisher.ready() is not wanted:  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.1)
    return time.monotonic() - start


async def test_publish_fails_fast_while_the_broker_is_down_and_recovers_after() -> None:
    """Without the broker ready() is False and publish fails fast; after a restart publish works."""
    broker = EmbeddedBroker()
    await broker.start()
    try:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers,
            request_timeout_ms=1000,
            delivery_timeout_ms=3000,
        )
        await ensure_topics(settings, [TOPIC])
        publisher = KafkaPublisher(settings)
        await publisher.start()
        try:
            await publisher.publish([Record(TOPIC, b"before", b"v")])
            assert await publisher.ready()

            await broker.stop()
            assert await _ready_becomes(publisher, False) < 5.0
            start = time.monotonic()
            with pytest.raises(PublishUnavailable) as caught:
                await publisher.publish([Record(TOPIC, b"during", b"v")])
            assert time.monotonic() - start < 5.0
            assert caught.value.retriable is True

            await broker.start()  # same port: the producer reconnects by itself
            await ensure_topics(settings, [TOPIC])  # the embedded broker's data was in memory
            assert await _ready_becomes(publisher, True) < WAIT_S
            async with asyncio.timeout(WAIT_S):
                while True:
                    try:
                        await publisher.publish([Record(TOPIC, b"after", b"v")])
                        break
                    except PublishUnavailable:
                        await asyncio.sleep(0.2)
        finally:
            await publisher.stop()
    finally:
        await broker.stop()
    assert not broker.running
