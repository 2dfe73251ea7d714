"""Consumer-group lag, and the wait `newsflow run` drains with, which reads it."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from newsflow.broker import free_port
from newsflow.kafka import KafkaPublisher, Record, ensure_topics
from newsflow.kafka.lag import group_lag
from newsflow.run import wait_until_drained
from newsflow.settings import KafkaSettings


async def test_lag_counts_every_record_of_the_last_batch(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Lag is end minus committed, also when the partition's last write was a batch of several."""
    settings = kafka_settings.model_copy(update={"partitions": 1})
    topic, group = settings.topic_pages, f"group-{unique_name}"
    await ensure_topics(settings, [topic], partitions=1)
    publisher = KafkaPublisher(settings)
    await publisher.start()
    try:
        await publisher.publish([Record(topic, b"k", b"first %d" % i) for i in range(10)])
        await publisher.publish([Record(topic, b"k", b"last %d" % i) for i in range(3)])
    finally:
        await publisher.stop()
    assert await group_lag(settings, group, [topic]) == 13
    committer = AIOKafkaConsumer(
        group_id=group, enable_auto_commit=False, **settings.client_kwargs()
    )
    await committer.start()
    try:
        partition = TopicPartition(topic, 0)
        committer.assign([partition])
        await committer.commit({partition: 11})
        assert await group_lag(settings, group, [topic]) == 2
        await committer.commit({partition: 13})
        assert await group_lag(settings, group, [topic]) == 0
    finally:
        await committer.stop()


async def test_the_drain_wait_rides_out_an_unreachable_cluster_until_its_deadline() -> None:
    """No listener at the address: no error, False once the timeout has run out."""
    nowhere = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert not await wait_until_drained(nowhere, timeout=1.5, settle=0.1)
    assert time.monotonic() - started >= 1.5


async def test_the_drain_wait_gives_up_at_once_when_the_broker_is_gone(
    kafka_settings: KafkaSettings,
) -> None:
    """An embedded broker that exited holds nothing any more: nothing to wait for."""
    started = time.monotonic()
    assert not await wait_until_drained(kafka_settings, timeout=60, broker_alive=lambda: False)
    assert time.monotonic() - started < 5
