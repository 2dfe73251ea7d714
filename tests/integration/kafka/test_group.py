"""Two members of one consumer group against the embedded broker: split, hand-over, no loss."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from newsflow.kafka import BatchConsumer, Handler, KafkaPublisher, Message, Record, ensure_topics
from newsflow.kafka.consume import PartitionKey
from newsflow.kafka.lag import group_lag
from newsflow.settings import KafkaSettings

WAIT_S = 45.0


async def _until(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not condition():  # noqa: ASYNC110 - polls consumer state owned by aiokafka
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_two_members_split_the_partitions_and_the_survivor_takes_over(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Two members split the partitions; when one leaves mid-stream the other handles the rest."""
    settings = kafka_settings.model_copy(update={"max_batch": 20})
    topic = f"group-{unique_name}"
    group = f"g-{unique_name}"
    await ensure_topics(settings, [topic])
    every_partition = {PartitionKey(topic, p) for p in range(settings.partitions)}

    seen: dict[str, list[Message]] = {"a": [], "b": []}

    def handler_for(name: str, pause_s: float) -> Handler:
        async def handle(batch: Sequence[Message]) -> None:
            await asyncio.sleep(pause_s)
            seen[name].extend(batch)

        return handle

    member_a = BatchConsumer(settings, [topic], group, handler_for("a", 0.0))
    member_b = BatchConsumer(settings, [topic], group, handler_for("b", 0.05))
    tasks = [asyncio.create_task(member_a.run()), asyncio.create_task(member_b.run())]
    publisher = KafkaPublisher(settings)
    await publisher.start()
    try:
        await _until(
            lambda: (
                bool(member_a.assignment())
                and bool(member_b.assignment())
                and member_a.assignment() | member_b.assignment() == every_partition
            ),
            "both members to own partitions",
        )
        assert not member_a.assignment() & member_b.assignment()
        owned_by_b = {key.partition for key in member_b.assignment()}

        first = [Record(topic, f"k{i}".encode(), b"v") for i in range(600)]
        await publisher.publish(first)
        # B is slow: leave while it still has records fetched but not handled.
        await _until(lambda: len(seen["b"]) >= 20, "member b to handle a batch")
        await asyncio.wait_for(member_b.stop(), WAIT_S)
        assert {m.partition for m in seen["b"]} <= owned_by_b

        await _until(lambda: member_a.assignment() == every_partition, "a to own every partition")
        second = [Record(topic, f"k{i}".encode(), b"v") for i in range(600, 900)]
        await publisher.publish(second)

        expected = {r.key for r in first + second}
        await _until(
            lambda: {m.key for m in seen["a"] + seen["b"]} >= expected, "every record handled"
        )
    finally:
        await publisher.stop()
        member_a.request_stop()
        member_b.request_stop()
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT_S)

    handled = seen["a"] + seen["b"]
    assert {m.key for m in handled} == expected
    assert seen["b"], "member b handled nothing"
    assert {m.partition for m in seen["a"]} == set(range(settings.partitions))
    assert len(handled) >= len(expected)


STREAM_RECORDS = 25
"""Records a round of the steady stream below, one round every STREAM_PAUSE_S at most."""
STREAM_PAUSE_S = 0.05
MAX_ROUNDS = 1000
CHURNS = 3


async def test_members_joining_and_leaving_mid_stream_skip_no_record(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """While records stream in, a second member joins and leaves again and again: once the
    group has committed everything, every record was handled by someone.

    A rebalance that ends while a member waits for records hands it records of the new
    assignment; dropping them as if fetched before the rebalance moves the position past them,
    and the next commit skips them for good.
    """
    settings = kafka_settings.model_copy(update={"max_batch": 50})
    topic = f"churn-{unique_name}"
    group = f"g-{unique_name}"
    await ensure_topics(settings, [topic])
    handled: set[bytes | None] = set()
    churned = asyncio.Event()

    async def handle(batch: Sequence[Message]) -> None:
        handled.update(m.key for m in batch)

    async def stream() -> set[bytes | None]:
        sent: set[bytes | None] = set()
        for round_ in range(MAX_ROUNDS):
            if churned.is_set():
                break
            keys = [f"r{round_}-{i}".encode() for i in range(STREAM_RECORDS)]
            await publisher.publish([Record(topic, key, b"v") for key in keys])
            sent.update(keys)
            await asyncio.sleep(STREAM_PAUSE_S)
        return sent

    steady = BatchConsumer(settings, [topic], group, handle)
    steady_task = asyncio.create_task(steady.run())
    publisher = KafkaPublisher(settings)
    await publisher.start()
    try:
        await _until(lambda: bool(steady.assignment()), "the steady member to own partitions")
        producing = asyncio.create_task(stream())
        for _ in range(CHURNS):
            visitor = BatchConsumer(settings, [topic], group, handle)
            visiting = asyncio.create_task(visitor.run())
            await _until(lambda v=visitor: bool(v.assignment()), "the visitor to join")  # type: ignore[misc]
            await asyncio.wait_for(visitor.stop(), WAIT_S)
            await visiting
        churned.set()
        sent = await asyncio.wait_for(producing, WAIT_S)
        async with asyncio.timeout(WAIT_S):
            while await group_lag(settings, group, [topic]):  # noqa: ASYNC110 - polls the broker
                await asyncio.sleep(0.2)
    finally:
        churned.set()
        await publisher.stop()
        steady.request_stop()
        await asyncio.wait_for(steady_task, WAIT_S)

    assert len(sent) >= CHURNS * STREAM_RECORDS
    skipped = sent - handled
    assert not skipped, f"{len(skipped)} records committed past but never handled"
