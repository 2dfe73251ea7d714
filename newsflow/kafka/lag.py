"""Consumer-group lag seen from outside the group: how many records it has not committed yet.

`newsflow run` drains with it (stop intake, wait until every group's lag is zero, then stop
the workers), and tests use it to wait for the pipeline to settle.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from newsflow.settings import KafkaSettings


async def _end_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    # ListOffsets is what Kafka clients use, but the embedded broker answers it with the base
    # offset of the last stored batch plus one (11 for a partition holding 13 records when the
    # last 3 came in one batch); a fetch reports the true high watermark, so read one record
    # near the end of each partition and keep the larger of the two.
    ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, max(ends[tp] - 1, 0))
    await consumer.getmany(*partitions, timeout_ms=500, max_records=len(partitions))
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is not None:
            ends[tp] = max(ends[tp], highwater)
    return ends


async def group_lag(settings: KafkaSettings, group_id: str, topics: Sequence[str]) -> int:
    """Sum over the topics' partitions of end offset minus the group's committed offset."""
    consumer = AIOKafkaConsumer(client_id="newsflow-lag", **settings.client_kwargs())
    admin = AIOKafkaAdminClient(client_id="newsflow-lag", **settings.client_kwargs())
    try:
        await consumer.start()
        await admin.start()
        await consumer.topics()  # loads the cluster metadata partitions_for_topic reads
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return 0
        ends = await _end_offsets(consumer, partitions)
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        lag = 0
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag += max(ends.get(tp, 0) - done, 0)
        return lag
    finally:
        await admin.close()
        await consumer.stop()
