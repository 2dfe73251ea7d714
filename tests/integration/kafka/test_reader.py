"""The groupless `TopicReader` against the embedded broker: every partition, start points, stop."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient

from newsflow.kafka import Message, PartitionKey, Record, ensure_topics
from newsflow.kafka.read import TopicReader
from newsflow.settings import KafkaSettings
from tests.integration.kafka.records import publish

WAIT_S = 30.0


async def _read(reader: TopicReader, expected: int) -> list[Message]:
    """Iterate a started reader until `expected` records came, then stop it."""
    received: list[Message] = []
    async with asyncio.timeout(WAIT_S):
        async for batch in reader:
            received.extend(batch)
            if len(received) >= expected:
                reader.request_stop()
    return received


async def _groups(settings: KafkaSettings) -> set[str]:
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        return {group for group, _ in await admin.list_consumer_groups()}
    finally:
        await admin.close()


async def test_from_the_beginning_every_partition_is_read_in_order_without_a_group(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Two readers each get every record of all three partitions, in offset order per
    partition, and no consumer group appears on the broker."""
    topic = f"read-all-{unique_name}"
    await ensure_topics(kafka_settings, [topic], partitions=3)
    records = [Record(topic, f"k{i % 7}".encode(), f"v{i}".encode()) for i in range(120)]
    await publish(kafka_settings, records)
    groups_before = await _groups(kafka_settings)

    async with (
        TopicReader(kafka_settings, topic, from_beginning=True) as first,
        TopicReader(kafka_settings, topic, from_beginning=True) as second,
    ):
        everything = {PartitionKey(topic, p) for p in range(3)}
        assert first.assignment() == second.assignment() == everything
        got_first = await _read(first, len(records))
        got_second = await _read(second, len(records))

    for got in (got_first, got_second):
        assert sorted(m.value for m in got) == sorted(r.value for r in records)
        assert {m.partition for m in got} == {0, 1, 2}
        for partition in range(3):
            offsets = [m.offset for m in got if m.partition == partition]
            assert offsets == sorted(offsets)
            assert offsets[0] == 0
    assert await _groups(kafka_settings) == groups_before


async def test_from_the_end_only_records_published_after_start_are_read(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Records already on the topic when `start()` returned are skipped; later ones arrive."""
    topic = f"read-end-{unique_name}"
    await ensure_topics(kafka_settings, [topic], partitions=3)
    await publish(kafka_settings, [Record(topic, f"k{i}".encode(), b"old") for i in range(30)])

    async with TopicReader(kafka_settings, topic, from_beginning=False) as reader:
        new = [Record(topic, f"k{i}".encode(), f"new-{i}".encode()) for i in range(9)]
        await publish(kafka_settings, new)
        got = await _read(reader, len(new))

    assert sorted(m.value for m in got) == sorted(r.value for r in new)


async def test_a_topic_created_after_the_start_is_waited_for(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Started on a topic that does not exist yet, the reader positions once it appears."""
    topic = f"read-later-{unique_name}"
    reader = TopicReader(kafka_settings, topic, from_beginning=True, poll_timeout_ms=100)
    starting = asyncio.create_task(reader.start())
    try:
        await asyncio.sleep(0.5)
        assert not starting.done()
        await ensure_topics(kafka_settings, [topic], partitions=2)
        await publish(kafka_settings, [Record(topic, b"k", b"first")])
        async with asyncio.timeout(WAIT_S):
            await starting
        assert reader.assignment() == {PartitionKey(topic, 0), PartitionKey(topic, 1)}
        assert [m.value for m in await _read(reader, 1)] == [b"first"]
    finally:
        starting.cancel()
        await reader.stop()


async def test_request_stop_ends_an_idle_iteration_and_an_unfinished_start(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """With nothing to read, the iteration ends within a poll of the request; a start still
    waiting for its topic returns, and the iteration then yields nothing."""
    topic = f"read-idle-{unique_name}"
    await ensure_topics(kafka_settings, [topic], partitions=1)
    async with TopicReader(kafka_settings, topic, from_beginning=True) as reader:
        asyncio.get_running_loop().call_later(0.3, reader.request_stop)
        async with asyncio.timeout(5.0):
            batches = [batch async for batch in reader]
    assert batches == []

    missing = TopicReader(kafka_settings, f"never-{unique_name}", from_beginning=True)
    asyncio.get_running_loop().call_later(0.3, missing.request_stop)
    async with asyncio.timeout(5.0), missing:
        assert missing.assignment() == frozenset()
        assert [batch async for batch in missing] == []
