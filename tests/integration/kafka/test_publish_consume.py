"""A publisher and a batch consumer against the embedded broker: delivery, keys, commit-last."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest
from aiokafka.partitioner import DefaultPartitioner

from newsflow.kafka import BatchConsumer, KafkaPublisher, Message, Record, ensure_topics
from newsflow.settings import KafkaSettings
from tests.integration.kafka.records import Broken, Flaky, publish

WAIT_S = 30.0


async def _collect(settings: KafkaSettings, topic: str, group: str, expected: int) -> list[Message]:
    """Consume with a fresh member of `group` until `expected` records arrived, then stop."""
    received: list[Message] = []

    async def handler(batch: Sequence[Message]) -> None:
        received.extend(batch)
        if len(received) >= expected:
            consumer.request_stop()

    consumer = BatchConsumer(settings, [topic], group, handler)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()
    return received


async def test_every_published_record_arrives_with_its_key_value_and_headers(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Records published in one call all reach a consumer group, keys, values and headers intact."""
    topic = f"delivery-{unique_name}"
    await ensure_topics(kafka_settings, [topic])
    records = [
        Record(topic, f"k{i}".encode(), f"v{i}".encode(), (("n", str(i).encode()),))
        for i in range(300)
    ]
    await publish(kafka_settings, records)

    received = await _collect(kafka_settings, topic, f"g-{unique_name}", len(records))

    assert len(received) == len(records)
    got = {(m.key, m.value, m.headers) for m in received}
    assert got == {(r.key, r.value, r.headers) for r in records}
    assert {m.partition for m in received} == set(range(kafka_settings.partitions))


async def test_records_land_where_kafkas_partitioner_puts_their_keys_in_order(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Each keyed record is on the partition Kafka's default partitioner (murmur2) gives its
    key, as a Java producer or any other client would place it; a partition key sends a
    record to its key's partition instead; records without a key go somewhere; and within a
    partition the records keep the order of the call, across record batches that filled
    up (records of 40 KiB; a batch holds 1 MiB)."""
    topic = f"placed-{unique_name}"
    await ensure_topics(kafka_settings, [topic])
    body = b"x" * (40 << 10)
    keyed = [Record(topic, f"k{i}".encode(), b"%d:" % i + body) for i in range(150)]
    grouped = [Record(topic, b"any", b"g%d" % i, partition_key=b"request-7") for i in range(5)]
    keyless = [Record(topic, None, b"n%d" % i) for i in range(5)]
    records = keyed + grouped + keyless
    await publish(kafka_settings, records)

    received = await _collect(kafka_settings, topic, f"g-{unique_name}", len(records))

    partitions = list(range(kafka_settings.partitions))
    by_value = {m.value: m for m in received}
    assert len(by_value) == len(records)
    for record in keyed:
        assert record.key is not None
        expected = DefaultPartitioner()(record.key, partitions, partitions)
        assert by_value[record.value].partition == expected
    expected_group = DefaultPartitioner()(b"request-7", partitions, partitions)
    assert {by_value[r.value].partition for r in grouped} == {expected_group}
    assert all(by_value[r.value].partition in partitions for r in keyless)
    for partition in partitions:
        offsets = [
            by_value[r.value].offset for r in keyed if by_value[r.value].partition == partition
        ]
        assert offsets == sorted(offsets)


async def test_a_failed_batch_is_not_committed_and_comes_back_to_the_group(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Offsets are committed only after the handler returns: a failed batch is redelivered."""
    settings = kafka_settings.model_copy(update={"max_batch": 10})
    topic = f"commit-{unique_name}"
    group = f"g-{unique_name}"
    await ensure_topics(settings, [topic])
    keys = {f"k{i}".encode() for i in range(60)}
    await publish(settings, [Record(topic, key, b"v") for key in sorted(keys)])

    handled: list[bytes | None] = []
    failed: list[bytes | None] = []

    async def first_ok_then_broken(batch: Sequence[Message]) -> None:
        if not handled:
            handled.extend(m.key for m in batch)
            return
        failed.extend(m.key for m in batch)
        raise Broken("cannot handle this batch")

    consumer = BatchConsumer(settings, [topic], group, first_ok_then_broken)
    with pytest.raises(Broken):
        async with asyncio.timeout(WAIT_S):
            await consumer.run()
    assert handled
    assert failed

    rest = await _collect(settings, topic, group, len(keys) - len(handled))
    again = {m.key for m in rest}
    assert again == keys - set(handled)
    assert set(failed) <= again


async def test_a_retriable_handler_error_retries_the_same_batch_then_commits(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """A retriable handler error re-handles the identical batch, committed once it succeeds."""
    settings = kafka_settings.model_copy(update={"max_batch": 1000})
    topic = f"retry-{unique_name}"
    group = f"g-{unique_name}"
    await ensure_topics(settings, [topic], partitions=1)
    await publish(settings, [Record(topic, f"k{i}".encode(), b"v") for i in range(20)])

    attempts: list[tuple[int, ...]] = []

    async def flaky(batch: Sequence[Message]) -> None:
        attempts.append(tuple(m.offset for m in batch))
        if len(attempts) < 3:
            raise Flaky("not now")
        consumer.request_stop()

    consumer = BatchConsumer(settings, [topic], group, flaky, retry_backoff_s=0.01)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()

    assert len(attempts) == 3
    assert attempts[0] == attempts[1] == attempts[2]
    assert attempts[0] == tuple(range(20))

    # Everything was committed: a new record is the only thing the group sees next.
    await publish(settings, [Record(topic, b"late", b"v")])
    received = await _collect(settings, topic, group, 1)
    assert [m.key for m in received] == [b"late"]


@pytest.mark.parametrize("ordered", [False, True])
async def test_a_stop_leaves_the_batch_taken_ahead_to_the_next_member(
    kafka_settings: KafkaSettings, unique_name: str, ordered: bool
) -> None:
    """The next batch is taken while one is handled; a stop after that one commits it alone,
    so the group's next member gets every record after it, none skipped, none twice."""
    settings = kafka_settings.model_copy(update={"max_batch": 10})
    topic = f"ahead-{unique_name}"
    group = f"g-{unique_name}"
    await ensure_topics(settings, [topic], partitions=2)
    records = [Record(topic, f"k{n}".encode(), b"v", (("n", str(n).encode()),)) for n in range(80)]
    await publish(settings, records)
    handled: list[Message] = []

    async def once(batch: Sequence[Message]) -> None:
        handled.extend(batch)
        await asyncio.sleep(0.5)  # long enough for the next batch to be taken meanwhile
        consumer.request_stop()

    def number(message: Message) -> tuple[int]:
        return (int(dict(message.headers)["n"]),)

    consumer = BatchConsumer(settings, [topic], group, once, order=number if ordered else None)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()
    assert 0 < len(handled) <= 10

    rest = await _collect(settings, topic, group, len(records) - len(handled))
    numbers = [number(m)[0] for m in [*handled, *rest]]
    assert sorted(numbers) == list(range(len(records)))


@pytest.mark.parametrize("fetch_max_bytes", [64 * 1024, 256 * 1024])
async def test_a_lagging_consumer_takes_its_backlog_a_bounded_fetch_at_a_time(
    kafka_settings: KafkaSettings, unique_name: str, fetch_max_bytes: int
) -> None:
    """However long the backlog, one batch holds about `fetch_max_bytes` of it, not all of it."""
    settings = kafka_settings.model_copy(
        update={"max_batch": 100_000, "fetch_max_bytes": fetch_max_bytes}
    )
    topic = f"backlog-{unique_name}"
    await ensure_topics(settings, [topic], partitions=1)
    value = b"x" * 1024
    for chunk in range(40):  # 40 record batches of 50 KiB: a 2 MiB backlog
        await publish(settings, [Record(topic, f"{chunk}-{i}".encode(), value) for i in range(50)])

    sizes: list[int] = []

    async def handler(batch: Sequence[Message]) -> None:
        sizes.append(sum(len(m.value) for m in batch))
        if len(sizes) == 3 or sum(sizes) == 40 * 50 * len(value):
            consumer.request_stop()

    consumer = BatchConsumer(settings, [topic], f"g-{unique_name}", handler)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()

    # A fetch may end with one whole record batch past the bound (as Kafka's own brokers do).
    assert max(sizes) <= fetch_max_bytes + 50 * len(value)


async def test_a_record_larger_than_one_fetch_still_arrives_whole(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """A 5 MiB page (ingest's limit) gets through a consumer that fetches 1 MiB at a time."""
    assert kafka_settings.fetch_max_bytes == 1024 * 1024  # the default under test
    topic = f"large-{unique_name}"
    await ensure_topics(kafka_settings, [topic], partitions=1)
    large = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    await publish(
        kafka_settings,
        [Record(topic, b"small-1", b"a"), Record(topic, b"large", large)],
    )
    await publish(kafka_settings, [Record(topic, b"small-2", b"b")])

    received = await _collect(kafka_settings, topic, f"g-{unique_name}", 3)

    assert [m.key for m in received] == [b"small-1", b"large", b"small-2"]
    assert received[1].value == large


@pytest.mark.parametrize("max_batch", [7, 200])
async def test_with_an_order_batches_follow_it_across_partitions_fetched_one_at_a_time(
    kafka_settings: KafkaSettings, unique_name: str, max_batch: int
) -> None:
    """Records numbered in the order they were published, spread over three partitions,
    come out in that order across partitions, though each fetch holds about one partition's
    records (a small `fetch_max_bytes`): batches of a few records out of a fetch, or batches
    of whole fetches, where a partition not fetched yet (its position still unknown at the
    start) must be waited for, not skipped."""
    settings = kafka_settings.model_copy(
        update={"max_batch": max_batch, "fetch_max_bytes": 8 * 1024}
    )
    topic = f"ordered-{unique_name}"
    await ensure_topics(settings, [topic], partitions=3)
    value = b"x" * 512
    records = [
        Record(topic, f"key-{n % 17}".encode(), value, (("n", str(n).encode()),))
        for n in range(300)
    ]
    for start in range(0, len(records), 30):
        await publish(settings, records[start : start + 30])

    received: list[Message] = []
    sizes: list[int] = []

    async def handler(batch: Sequence[Message]) -> None:
        sizes.append(len(batch))
        received.extend(batch)
        if len(received) >= len(records):
            consumer.request_stop()

    def number(message: Message) -> tuple[int]:
        return (int(dict(message.headers)["n"]),)

    consumer = BatchConsumer(settings, [topic], f"g-{unique_name}", handler, order=number)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()

    assert len({m.partition for m in received}) == 3
    assert len(sizes) > 1
    assert max(sizes) <= max_batch
    assert [number(m)[0] for m in received] == list(range(300))


async def test_with_an_order_records_published_while_consuming_come_out_in_it(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Requests of 100 records, each request on one partition as ingest publishes them,
    published one after the other while the member consumes and handles slowly: every
    record comes out in publication order. The fetcher holds off a partition while other
    partitions' records wait to be taken, so its last highwater is old; taken as its end,
    records published long before those handed out came after them."""
    settings = kafka_settings.model_copy(update={"max_batch": 200})
    topic = f"live-{unique_name}"
    await ensure_topics(settings, [topic], partitions=6)
    total = 6000
    received: list[int] = []
    partitions: set[int] = set()
    joined = asyncio.Event()

    async def handler(batch: Sequence[Message]) -> None:
        time.sleep(0.0015 * len(batch))  # noqa: ASYNC251  # CPU-bound work holds the loop
        received.extend(number(m)[0] for m in batch)
        partitions.update(m.partition for m in batch)
        if len(received) >= total:
            consumer.request_stop()

    def number(message: Message) -> tuple[int]:
        return (int(dict(message.headers)["n"]),)

    consumer = BatchConsumer(
        settings, [topic], f"g-{unique_name}", handler, order=number,
        on_assigned=lambda _: joined.set(),
    )  # fmt: skip
    consuming = asyncio.create_task(consumer.run())
    publisher = KafkaPublisher(settings)
    await publisher.start()
    try:
        async with asyncio.timeout(WAIT_S):
            await joined.wait()
        value = b"x" * 3000
        for start in range(0, total, 100):
            request = f"page-{start}".encode()
            await publisher.publish(
                [
                    Record(
                        topic,
                        f"page-{n}".encode(),
                        value,
                        (("n", str(n).encode()),),
                        partition_key=request,
                    )
                    for n in range(start, start + 100)
                ]
            )
    finally:
        await publisher.stop()
    async with asyncio.timeout(WAIT_S * 2):
        await consuming

    assert len(partitions) > 3
    assert received == list(range(total))
