"""Handlers that return a completion: the next batch is handled while the last is acknowledged,
and a batch is committed only once its completion returned (against the embedded broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from newsflow.kafka import BatchConsumer, Completion, Message, Record, ensure_topics
from newsflow.settings import KafkaSettings
from tests.integration.kafka.records import Broken, Flaky, publish

WAIT_S = 30.0
_LAST = b"last"


async def _topic_of(settings: KafkaSettings, topic: str, count: int) -> set[bytes]:
    await ensure_topics(settings, [topic], partitions=1)
    keys = [f"k{i:03}".encode() for i in range(count)]
    await publish(settings, [Record(topic, key, b"v") for key in keys])
    return set(keys)


async def _uncommitted(settings: KafkaSettings, topic: str, group: str) -> set[bytes]:
    """The keys a fresh member of `group` gets before a record published now: everything
    after the group's commits (the topic has one partition)."""
    await publish(settings, [Record(topic, _LAST, b"v")])
    received: set[bytes] = set()

    async def handler(batch: Sequence[Message]) -> None:
        received.update(m.key for m in batch if m.key is not None)
        if _LAST in received:
            consumer.request_stop()

    consumer = BatchConsumer(settings, [topic], group, handler)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()
    return received - {_LAST}


async def test_the_next_batch_is_handled_while_the_last_is_acknowledged_then_all_commit(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """The first batch's completion returns only once the second batch was handled; every
    batch is committed in the end: a fresh member of the group gets nothing."""
    settings = kafka_settings.model_copy(update={"max_batch": 10})
    topic, group = f"overlap-{unique_name}", f"g-{unique_name}"
    keys = await _topic_of(settings, topic, 30)
    handled: list[set[bytes]] = []
    second_handled = asyncio.Event()

    async def handler(batch: Sequence[Message]) -> Completion:
        handled.append({m.key for m in batch if m.key is not None})
        if len(handled) == 2:
            second_handled.set()
        number = len(handled)

        async def acknowledged() -> None:
            if number == 1:
                async with asyncio.timeout(10.0):  # fails the run unless batches overlap
                    await second_handled.wait()
            if set().union(*handled) == keys:
                consumer.request_stop()

        return acknowledged

    consumer = BatchConsumer(settings, [topic], group, handler)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()
    assert set().union(*handled) == keys
    assert await _uncommitted(settings, topic, group) == set()


async def test_a_retriable_completion_error_sends_again_without_handling_again(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """A completion that fails retriably is called again, the handler is not; then commit."""
    settings = kafka_settings.model_copy(update={"max_batch": 1000})
    topic, group = f"resend-{unique_name}", f"g-{unique_name}"
    keys = await _topic_of(settings, topic, 20)
    handled: list[set[bytes]] = []
    sent: list[int] = []

    async def handler(batch: Sequence[Message]) -> Completion:
        handled.append({m.key for m in batch if m.key is not None})

        async def acknowledged() -> None:
            sent.append(len(handled))
            if len(sent) < 3:
                raise Flaky("not acknowledged yet")
            consumer.request_stop()

        return acknowledged

    consumer = BatchConsumer(settings, [topic], group, handler, retry_backoff_s=0.01)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()
    assert handled == [keys]
    assert sent == [1, 1, 1]
    assert await _uncommitted(settings, topic, group) == set()


async def test_a_failed_completion_leaves_its_batch_and_the_next_uncommitted(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """A completion's non-retriable error ends the run; its batch, and the one handled
    meanwhile, come back to the group; the batch acknowledged before them does not."""
    settings = kafka_settings.model_copy(update={"max_batch": 10})
    topic, group = f"unacked-{unique_name}", f"g-{unique_name}"
    keys = await _topic_of(settings, topic, 30)
    handled: list[set[bytes]] = []

    async def handler(batch: Sequence[Message]) -> Completion:
        handled.append({m.key for m in batch if m.key is not None})
        number = len(handled)

        async def acknowledged() -> None:
            if number == 2:
                await asyncio.sleep(0.3)  # the third batch is handled meanwhile
                raise Broken("refused")

        return acknowledged

    consumer = BatchConsumer(settings, [topic], group, handler)
    with pytest.raises(Broken):
        async with asyncio.timeout(WAIT_S):
            await consumer.run()
    assert len(handled) == 3
    assert await _uncommitted(settings, topic, group) == keys - handled[0]
