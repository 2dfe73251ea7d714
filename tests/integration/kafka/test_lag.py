"""Consumer-group lag as `newsflow run` reads it to know the pipeline has drained."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from newsflow.kafka import KafkaPublisher, Record, ensure_topics
from newsflow.kafka.lag import group_lag
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
