"""A groupless reader of one topic: every partition, no group, no commits (`newsflow tail`).

Part of the consume direction of the Kafka adapter (with `consume.py`): aiokafka is imported
here and in the adapter's other modules only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from newsflow.kafka.consume import Message, PartitionKey, message_of
from newsflow.settings import KafkaSettings

_log = structlog.get_logger(__name__)


class TopicReader:
    """Reads every partition of one topic without a consumer group: no join, no commits.

    Used as ``async with TopicReader(...) as reader: async for batch in reader: ...``.
    `start()` returns once every partition is positioned (at the beginning, or at the end
    as of that moment), so a record published after it returns is always read. A topic
    that does not exist yet is waited for; partitions added after the start are not read.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        topic: str,
        *,
        from_beginning: bool,
        client_id: str = "newsflow-reader",
        poll_timeout_ms: int = 200,
    ) -> None:
        self._settings = settings
        self._topic = topic
        self._from_beginning = from_beginning
        self._client_id = client_id
        self._poll_timeout_ms = poll_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._stop_requested = asyncio.Event()

    async def start(self) -> None:
        """Connect, assign all the topic's partitions and seek (returns early when stopped)."""
        if self._consumer is not None:
            raise RuntimeError("this reader is already started")
        s = self._settings
        consumer = AIOKafkaConsumer(
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if self._from_beginning else "latest",
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            fetch_max_bytes=s.fetch_max_bytes,
            **s.client_kwargs(),
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        partitions = await self._partitions(consumer)
        if not partitions:
            return
        consumer.assign(partitions)
        seek = consumer.seek_to_beginning if self._from_beginning else consumer.seek_to_end
        # Both wait for the broker's offsets (up to the request timeout) and say whether
        # they came; until they do the start position is not fixed yet, so ask again.
        while not await seek(*partitions):
            if self._stop_requested.is_set():
                return
            _log.warning("seeking the topic timed out, retrying", topic=self._topic)
        if not self._from_beginning:
            await self._settle_at_end(consumer, partitions)

    async def stop(self) -> None:
        """Close the connection; the iteration, if any, ends."""
        self._stop_requested.set()
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    def request_stop(self) -> None:
        """Make the iteration end within one poll (`poll_timeout_ms`); safe before `start`."""
        self._stop_requested.set()

    def assignment(self) -> frozenset[PartitionKey]:
        """The partitions being read (empty until started and the topic was found)."""
        consumer = self._consumer
        if consumer is None:
            return frozenset()
        return frozenset(PartitionKey(tp.topic, tp.partition) for tp in consumer.assignment())

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def __aiter__(self) -> AsyncIterator[list[Message]]:
        """Batches of records in offset order per partition, until stopped."""
        while not self._stop_requested.is_set():
            consumer = self._consumer
            if consumer is None:
                raise RuntimeError("the reader is not started")
            batches = await consumer.getmany(
                timeout_ms=self._poll_timeout_ms, max_records=self._settings.max_batch
            )
            messages = [message_of(record) for records in batches.values() for record in records]
            if messages:
                yield messages

    async def _settle_at_end(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
    ) -> None:
        # The embedded broker answers "latest offset" with the last batch's base offset + 1,
        # inside that batch when it holds several records; the high watermark of a fetch
        # response is right. So fetch until every partition has answered once, drop what came
        # (published before start() returns), and move up to the watermark where behind.
        # Against Apache Kafka nothing comes back: this costs one empty fetch.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.request_timeout_ms / 1000
        while any(consumer.highwater(tp) is None for tp in partitions):
            if self._stop_requested.is_set() or loop.time() > deadline:
                break
            await consumer.getmany(timeout_ms=self._poll_timeout_ms)
        for tp in partitions:
            high = consumer.highwater(tp)
            if high is not None and high > await consumer.position(tp):
                consumer.seek(tp, high)

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        while not self._stop_requested.is_set():
            ids = consumer.partitions_for_topic(self._topic)
            if ids:
                return [TopicPartition(self._topic, p) for p in sorted(ids)]
            _log.info("waiting for the topic to exist", topic=self._topic)
            try:
                async with asyncio.timeout(self._poll_timeout_ms / 1000):
                    await self._stop_requested.wait()
            except TimeoutError:
                pass
            # The client only holds the metadata it fetched at start; aiokafka has no public
            # call that refreshes it without a subscription.
            await consumer._client.force_metadata_update()
        return []
