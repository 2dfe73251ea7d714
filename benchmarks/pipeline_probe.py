"""What the pipeline benchmark observes from outside the services, without touching their code.

- `CommitWatch` polls one consumer group's committed offsets every few milliseconds and keeps
  when each partition's offset moved. Our services commit only after their outputs are
  acknowledged (enrich) or written and fsynced (sink), so "offset o of partition p was seen
  committed at t" bounds when that record's work was done: late by at most the poll
  interval plus one round trip.
- `read_records` reads a topic's records (partition, offset, timestamp, key, page_id header)
  with a group-less consumer; record timestamps are the producer's CreateTime, which the
  broker keeps.
- `ingest_to_sink` joins the two: an article event's latency is the time its sink commit
  was seen minus the CreateTime of its page's record on `pages.raw` (set by ingest when it
  publishes, just before its 202).
- `end_offsets` reads a topic's true end offsets from a fetch's high watermark, because the
  embedded broker's ListOffsets answer lags (see its docstring).

aiokafka is used directly here: newsflow's adapter has no reason to expose group offsets
polling or group-less reads, and this is measuring code, not a service.
"""

from __future__ import annotations

import asyncio
import bisect
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from newsflow.settings import KafkaSettings


async def topic_partitions(settings: KafkaSettings, topic: str) -> list[TopicPartition]:
    """The partitions of `topic`."""
    consumer = AIOKafkaConsumer(client_id="bench-meta", **settings.client_kwargs())
    await consumer.start()
    try:
        await consumer.topics()
        return [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
    finally:
        await consumer.stop()


async def end_offsets(
    settings: KafkaSettings, topic: str, timeout_s: float = 30.0
) -> dict[int, int]:
    """partition -> end offset (the next offset to be written) of `topic`.

    The embedded broker (Tansu) answers ListOffsets(latest) with the base offset of the last
    record batch + 1, not the last offset + 1 (10 records produced in one batch at offsets
    2..11 give 3), so that answer is only a lower bound. A fetch's high watermark is right:
    fetch the last batch and read it.
    """
    partitions = await topic_partitions(settings, topic)
    consumer = AIOKafkaConsumer(
        client_id="bench-meta", enable_auto_commit=False, **settings.client_kwargs()
    )
    await consumer.start()
    try:
        listed: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        ends = {tp.partition: 0 for tp, offset in listed.items() if offset == 0}
        pending = [tp for tp, offset in listed.items() if offset > 0]
        if pending:
            consumer.assign(pending)
            for tp in pending:
                consumer.seek(tp, listed[tp] - 1)
            async with asyncio.timeout(timeout_s):
                while any(consumer.highwater(tp) is None for tp in pending):
                    await consumer.getmany(*pending, timeout_ms=100, max_records=1)
            ends.update({tp.partition: consumer.highwater(tp) for tp in pending})
        return ends
    finally:
        await consumer.stop()


@dataclass
class CommitWatch:
    """Polls a group's committed offsets on one topic; remembers when each one moved."""

    settings: KafkaSettings
    group: str
    topic: str
    interval_s: float = 0.01
    times: dict[int, list[float]] = field(default_factory=dict)
    """partition -> wall-clock s at which each new committed offset was first seen."""
    offsets: dict[int, list[int]] = field(default_factory=dict)
    """partition -> the committed offsets, increasing, parallel to `times`."""
    polls: int = 0
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        partitions = await topic_partitions(self.settings, self.topic)
        admin = AIOKafkaAdminClient(client_id="bench-watch", **self.settings.client_kwargs())
        await admin.start()
        self._task = asyncio.create_task(self._poll(admin, partitions))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _poll(self, admin: AIOKafkaAdminClient, partitions: list[TopicPartition]) -> None:
        try:
            coordinator = await admin.find_coordinator(self.group)
            while True:
                committed = await admin.list_consumer_group_offsets(
                    self.group, coordinator, partitions
                )
                seen = time.time()
                self.polls += 1
                for tp, meta in committed.items():
                    # A partition enters both maps with its first commit (a short run may
                    # leave a partition without any).
                    offsets = self.offsets.get(tp.partition)
                    if meta.offset > 0 and (not offsets or meta.offset > offsets[-1]):
                        self.offsets.setdefault(tp.partition, []).append(meta.offset)
                        self.times.setdefault(tp.partition, []).append(seen)
                await asyncio.sleep(self.interval_s)
        finally:
            await admin.close()

    def committed(self) -> int:
        """Records committed so far, summed over partitions."""
        return sum(offsets[-1] for offsets in self.offsets.values() if offsets)

    def committed_at(self, partition: int, offset: int) -> float | None:
        """When the record at (`partition`, `offset`) was first seen committed, if it was."""
        offsets = self.offsets.get(partition, [])
        index = bisect.bisect_right(offsets, offset)
        return self.times[partition][index] if index < len(offsets) else None

    def first_and_last(self) -> tuple[float, int, float] | None:
        """Time and record count of the first commits seen, and the time of the last commit."""
        if not self.times:
            return None
        first = min(times[0] for times in self.times.values())
        counted = sum(
            offsets[bisect.bisect_right(self.times[p], first) - 1]
            for p, offsets in self.offsets.items()
            if self.times[p][0] <= first
        )
        return first, counted, max(times[-1] for times in self.times.values())

    async def wait_for(self, total: int, timeout_s: float) -> bool:
        """True once `total` records are committed, within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self.committed() < total:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(self.interval_s)
        return True


async def wait_group_stable(
    settings: KafkaSettings, group: str, members: int, timeout_s: float, poll_s: float = 0.05
) -> float | None:
    """Wall-clock time at which `group` was first seen Stable with `members` members, or None."""
    admin = AIOKafkaAdminClient(client_id="bench-group", **settings.client_kwargs())
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            described = await admin.describe_consumer_groups([group])
            # DescribeGroups v2 group: (error_code, group, state, protocol_type, protocol, members)
            state = described[0].groups[0]
            if state[2] == "Stable" and len(state[5]) == members:
                return time.time()
            await asyncio.sleep(poll_s)
        return None
    finally:
        await admin.close()


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """What the benchmark needs of one record."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes
    page_id: str | None
    """The `page_id` header (article events carry it)."""


async def read_records(settings: KafkaSettings, topic: str, timeout_s: float) -> list[TopicRecord]:
    """Every record of `topic` up to its current end, read without a group."""
    ends = await end_offsets(settings, topic)
    consumer = AIOKafkaConsumer(
        client_id="bench-read", enable_auto_commit=False, **settings.client_kwargs()
    )
    await consumer.start()
    records: list[TopicRecord] = []
    try:
        partitions = [TopicPartition(topic, p) for p, end in ends.items() if end > 0]
        if not partitions:
            return records
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        remaining = {tp.partition: ends[tp.partition] for tp in partitions}
        async with asyncio.timeout(timeout_s):
            while remaining:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                for tp, batch in batches.items():
                    for r in batch:
                        headers = dict(r.headers)
                        page_id = headers.get("page_id")
                        records.append(
                            TopicRecord(
                                r.partition,
                                r.offset,
                                r.timestamp,
                                r.key or b"",
                                page_id.decode() if page_id is not None else None,
                            )
                        )
                    if batch and batch[-1].offset + 1 >= remaining.get(tp.partition, 0):
                        remaining.pop(tp.partition, None)
    finally:
        await consumer.stop()
    return records


@dataclass(frozen=True, slots=True)
class Latencies:
    """Per article event, in milliseconds: page publish -> event publish -> sink commit seen."""

    total_ms: list[float]
    enrich_ms: list[float]
    """Page record's CreateTime to the event record's CreateTime (enrich's fetch, work, publish)."""
    sink_ms: list[float]
    """Event record's CreateTime to its sink commit seen (sink's fetch, write, fsync, commit)."""
    missing: int
    """Events whose page or commit was not found (should be 0)."""


def ingest_to_sink(
    pages: Iterable[TopicRecord], events: Iterable[TopicRecord], sink: CommitWatch
) -> Latencies:
    """Join article events with their pages' records and the sink's commits."""
    page_ms = {record.key.decode(): record.timestamp_ms for record in pages}
    total, enrich, sink_part = [], [], []
    missing = 0
    for event in events:
        published = page_ms.get(event.page_id or "")
        landed = sink.committed_at(event.partition, event.offset)
        if published is None or landed is None:
            missing += 1
            continue
        total.append(landed * 1000 - published)
        enrich.append(float(event.timestamp_ms - published))
        sink_part.append(landed * 1000 - event.timestamp_ms)
    return Latencies(total, enrich, sink_part, missing)


def quantiles(values: Sequence[float]) -> str:
    """'p50=… p95=… p99=…' in milliseconds, or 'n/a'."""
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50={cuts[49]:.0f}ms p95={cuts[94]:.0f}ms p99={cuts[98]:.0f}ms"
