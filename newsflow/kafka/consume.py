"""Consuming Kafka in batches with commit-last semantics: the only place newsflow builds a consumer.

One loop per service instance::

    getmany -> handler(batch) -> (its outputs are acknowledged) -> commit offset+1

A handler either returns once every output of the batch is acknowledged (None), or once its
outputs are on their way, with a `Completion` that waits for their acknowledgement; the
batch's offsets are committed only after that, so delivery is at-least-once either way.
With a completion the next batch is handled while the last one's outputs are acknowledged
and committed: at most one batch waits so, and commits keep the order of the batches. The
next batch is also taken (fetched, merged) while one is handled. An error with
`retriable=True` calls the handler (or the completion, which sends the same outputs again)
once more with backoff; any other error leaves `run()` with the batch uncommitted, so its
records come back to the next member of the group. On a rebalance the revoke callback waits
for the batches in flight (handled, acknowledged, committed) before the partitions go.

`TopicReader` (in `read.py`) is the groupless counterpart for tools (`newsflow tail`): it
assigns itself every partition of one topic, starts at its beginning or its end, and never
commits.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.protocol.group import LeaveGroupRequest

from newsflow.kafka.merge import OrderKey, PartitionMerge
from newsflow.settings import KafkaSettings
from newsflow.tasks import cancel_and_wait

_log = structlog.get_logger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Message:
    """One consumed record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...] = ()


class PartitionKey(NamedTuple):
    """A topic partition, as the key of `BatchConsumer.lag()`."""

    topic: str
    partition: int


Completion = Callable[[], Awaitable[None]]
"""What is left of a handled batch: returns once its outputs are acknowledged. After a
retriable error it is called again, and sends the same outputs again."""

Handler = Callable[[Sequence[Message]], Awaitable[Completion | None]]
"""Handles one batch; returns None once every output of the batch is acknowledged, or a
`Completion` to wait for that while the next batch is handled."""


_STARVED_S = 10.0
"""How long a merge waits for starved partitions before it hands out what it holds. Waiting
is normal: a partition just assigned has no position yet, a fetch can take a while."""


def _group_request_timeout_ms(settings: KafkaSettings) -> int:
    # Group requests (JoinGroup, SyncGroup) wait on the broker for the other members of a
    # rebalance; the short request timeout that makes a publish fail fast would abandon them
    # and restart the join forever on a loaded machine. aiokafka's own default is 40 s.
    return max(settings.request_timeout_ms, settings.session_timeout_ms + 10_000, 40_000)


class BatchConsumer:
    """A consumer-group member that hands batches to `handler` and commits after it returns."""

    def __init__(
        self,
        settings: KafkaSettings,
        topics: Sequence[str],
        group_id: str,
        handler: Handler,
        *,
        client_id: str = "newsflow",
        poll_timeout_ms: int = 200,
        retry_backoff_s: float = 0.1,
        max_retry_backoff_s: float = 5.0,
        on_assigned: Callable[[frozenset[PartitionKey]], None] | None = None,
        order: Callable[[Message], OrderKey] | None = None,
    ) -> None:
        """`on_assigned` is called on the loop after each join of the group, with the
        partitions this member now owns (possibly none: the member has still joined).

        `order`: hand batches out in this order across the member's partitions (a
        `PartitionMerge`), not fetch by fetch; None for fetch order."""
        self._settings = settings
        self._topics = list(topics)
        self._group_id = group_id
        self._handler = handler
        self._client_id = client_id
        self._poll_timeout_ms = poll_timeout_ms
        self._retry_backoff_s = retry_backoff_s
        self._max_retry_backoff_s = max_retry_backoff_s
        self._on_assigned = on_assigned
        self._consumer: AIOKafkaConsumer | None = None
        self._batch_lock = asyncio.Lock()
        self._stop_requested = asyncio.Event()
        self._interrupt = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._generation = 0
        self._next_offsets: dict[TopicPartition, int] = {}
        self._merge = PartitionMerge[TopicPartition, Message](order) if order else None
        self._starved_since = time.monotonic()
        self._held_polled_ms = 0
        """When the fetcher polled the records the merge holds (the latest, wall-clock ms)."""
        self._acknowledging: asyncio.Task[None] | None = None
        """The last handled batch's completion, then its commit."""

    async def run(self) -> None:
        """Join the group and handle batches until `stop()`; leave the group on the way out."""
        if self._running:
            raise RuntimeError("this consumer is already running")
        self._running = True
        self._stopped.clear()
        s = self._settings
        consumer = AIOKafkaConsumer(
            client_id=self._client_id,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            fetch_max_bytes=s.fetch_max_bytes,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            **{**s.client_kwargs(), "request_timeout_ms": _group_request_timeout_ms(s)},
        )
        consumer.subscribe(self._topics, listener=_Listener(self))
        ahead: asyncio.Task[tuple[list[Message], int]] | None = None
        try:
            await consumer.start()
            self._consumer = consumer
            while not self._stop_requested.is_set():
                if ahead is None:
                    ahead = asyncio.create_task(self._next_batch(consumer))
                messages, generation = await ahead
                ahead = None
                if self._acknowledging is not None and self._acknowledging.done():
                    await self._acknowledged()  # its error, if any, stops the loop now
                if messages:
                    # Take the next batch while this one is handled: its fetch waits on the
                    # broker, not on this process. It is only handed out after this batch
                    # is handled, and only if the group has not moved on meanwhile.
                    ahead = asyncio.create_task(self._next_batch(consumer))
                    await self._process(consumer, messages, generation)
            await self._acknowledged()
        finally:
            if self._acknowledging is not None:
                # Left early: what was not committed comes back from the committed offsets.
                await cancel_and_wait(self._acknowledging)
                self._acknowledging = None
            if ahead is not None:
                # Taken but never handled: its records come back from the committed offsets.
                await cancel_and_wait(ahead)
            self._consumer = None
            self._next_offsets.clear()
            if self._merge is not None:
                self._merge.clear()
            member = _generation_zero_member(consumer)
            # Leaves the group without committing: anything unhandled is redelivered.
            await consumer.stop()
            if member is not None:
                await _leave_group(s, self._group_id, member)
            self._running = False
            self._stop_requested.clear()
            self._interrupt.clear()
            self._stopped.set()

    def request_stop(self) -> None:
        """Ask `run()` to finish the current batch, commit, leave the group and return."""
        self._stop_requested.set()
        self._interrupt.set()

    async def stop(self) -> None:
        """Request a stop and wait until `run()` has left the group (not from the handler)."""
        self.request_stop()
        if self._running:
            await self._stopped.wait()

    def install_signal_handlers(self) -> None:
        """Make SIGTERM and SIGINT request a graceful stop (call from the running loop)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

    def assignment(self) -> frozenset[PartitionKey]:
        """The partitions this member owns right now (empty before joining and after leaving)."""
        consumer = self._consumer
        if consumer is None:
            return frozenset()
        return frozenset(PartitionKey(tp.topic, tp.partition) for tp in consumer.assignment())

    def lag(self) -> dict[PartitionKey, int]:
        """Records behind the highwater per assigned partition this member has handled so far."""
        consumer = self._consumer
        if consumer is None:
            return {}
        lags: dict[PartitionKey, int] = {}
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            position = self._next_offsets.get(tp)
            if high is not None and position is not None:
                lags[PartitionKey(tp.topic, tp.partition)] = max(high - position, 0)
        return lags

    async def _next_batch(self, consumer: AIOKafkaConsumer) -> tuple[list[Message], int]:
        # The next batch and the generation it belongs to, possibly empty.
        if self._merge is not None:
            return await self._merged(consumer, self._merge)
        batches = await consumer.getmany(
            timeout_ms=self._poll_timeout_ms, max_records=self._settings.max_batch
        )
        # Read after getmany, not before: a rebalance that ends while getmany waits hands it
        # records of the new assignment (aiokafka waits for the assignment and drops what was
        # fetched before), and the position has moved past them.
        generation = self._generation
        return [message_of(r) for records in batches.values() for r in records], generation

    async def _merged(
        self, consumer: AIOKafkaConsumer, merge: PartitionMerge[TopicPartition, Message]
    ) -> tuple[list[Message], int]:
        # The next batch in `order` across the owned partitions: fetch for the partitions the
        # merge waits for (or for all when nothing waits), then take what the merge allows.
        # Starved partitions that bring nothing for _STARVED_S (their records are gone, or
        # the broker is stuck) let the waiting records go in key order anyway.
        s = self._settings
        owned = consumer.assignment()
        caught_up = await _caught_up(consumer, owned, self._held_polled_ms)
        starved = merge.starved(owned, caught_up.__contains__)
        fetched = False
        if starved or not len(merge):
            if not len(merge):
                self._held_polled_ms = 0
            batches = await consumer.getmany(
                *starved, timeout_ms=self._poll_timeout_ms, max_records=s.max_batch
            )
            for tp, records in batches.items():
                merge.add(tp, map(message_of, records))
                if records:
                    fetched = True
                    # The fetcher does not fetch a partition again while it holds some of
                    # its records: its last poll is when these were fetched.
                    polled = consumer.last_poll_timestamp(tp) or 0
                    self._held_polled_ms = max(self._held_polled_ms, polled)
            owned = consumer.assignment()
            caught_up = await _caught_up(consumer, owned, self._held_polled_ms)
        generation = self._generation  # after getmany, as in run()
        messages = merge.take(s.max_batch, owned, caught_up.__contains__)
        now = time.monotonic()
        if messages or fetched or not starved:
            self._starved_since = now
        elif now - self._starved_since > _STARVED_S:
            # Nothing came for the starved partitions in all that time (a position being
            # reset, records gone): better records out of order than none at all.
            _log.warning("partitions starved, handing out records out of order")
            messages = merge.take_any(s.max_batch, owned)
        return messages, generation

    async def _process(
        self, consumer: AIOKafkaConsumer, messages: Sequence[Message], generation: int
    ) -> None:
        offsets: dict[TopicPartition, int] = {}
        for message in messages:
            tp = TopicPartition(message.topic, message.partition)
            offsets[tp] = max(offsets.get(tp, 0), message.offset + 1)
        first = messages[0]
        async with self._batch_lock:
            if generation != self._generation:
                # A rebalance began after getmany returned: the new assignment starts from
                # the committed offsets, so these records come back to whoever owns them.
                return
            with structlog.contextvars.bound_contextvars(
                topic=first.topic,
                partition=first.partition,
                offset=first.offset,
                batch_size=len(messages),
            ):
                handled, completion = await self._attempt(
                    lambda: self._handler(messages), generation
                )
                # The batch before this one is acknowledged and committed first: commits
                # keep the batches' order, and at most one batch waits for its outputs.
                await self._acknowledged()
                if not handled:
                    return
                if completion is None:
                    await self._commit(consumer, offsets)
                else:
                    # Runs in the context bound above: its log lines name this batch.
                    self._acknowledging = asyncio.create_task(
                        self._complete(consumer, completion, offsets, generation)
                    )

    async def _complete(
        self,
        consumer: AIOKafkaConsumer,
        completion: Completion,
        offsets: dict[TopicPartition, int],
        generation: int,
    ) -> None:
        acknowledged, _ = await self._attempt(completion, generation)
        if acknowledged:
            await self._commit(consumer, offsets)

    async def _acknowledged(self) -> None:
        # Waits for the last handled batch's completion and commit; raises its error.
        acknowledging, self._acknowledging = self._acknowledging, None
        if acknowledging is not None:
            await acknowledging

    async def _attempt(
        self, call: Callable[[], Awaitable[_T]], generation: int
    ) -> tuple[bool, _T | None]:
        # (True, its result) once `call` succeeds; (False, None) when the batch is abandoned.
        # The first call is made whatever the generation: a rebalance waits for the batches
        # in flight, and whatever they have sent by then is acknowledged and committed.
        delay = self._retry_backoff_s
        retrying = False
        while True:
            if retrying and generation != self._generation:
                _log.warning("batch abandoned uncommitted after a rebalance")
                return False, None
            retrying = True
            try:
                return True, await call()
            except Exception as exc:
                if getattr(exc, "retriable", False) is not True:
                    raise
                if self._stop_requested.is_set() or generation != self._generation:
                    _log.warning("batch abandoned uncommitted", error=repr(exc))
                    return False, None
                _log.warning("batch handler failed, retrying", error=repr(exc), retry_in=delay)
                try:
                    async with asyncio.timeout(delay):
                        await self._interrupt.wait()
                except TimeoutError:
                    pass
                delay = min(delay * 2, self._max_retry_backoff_s)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on: the new owner re-reads from the last commit (at-least-once).
            _log.warning("commit refused after a rebalance", error=repr(exc))
            return
        self._next_offsets.update(offsets)

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._generation += 1
        self._interrupt.set()
        if self._merge is not None:
            # Their new owner, maybe this member again, fetches them from the committed offsets.
            self._merge.forget(revoked)
        async with self._batch_lock:
            acknowledging = self._acknowledging
            if acknowledging is not None:
                # Its error, if any, is raised by the loop, which awaits it next.
                await asyncio.wait([acknowledging])
            for tp in revoked:
                self._next_offsets.pop(tp, None)
        if not self._stop_requested.is_set():
            self._interrupt.clear()


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, owner: BatchConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        _log.info("partitions assigned", partitions=sorted(tp.partition for tp in assigned))
        if self._owner._on_assigned is not None:
            self._owner._on_assigned(
                frozenset(PartitionKey(tp.topic, tp.partition) for tp in assigned)
            )


async def _caught_up(
    consumer: AIOKafkaConsumer, owned: Iterable[TopicPartition], polled_since_ms: int
) -> set[TopicPartition]:
    # The owned partitions whose every record up to their highwater was handed out, by a
    # highwater polled no earlier than `polled_since_ms`: when the records waiting in the
    # merge were fetched. An older highwater is not enough: the fetcher holds off a
    # partition while other partitions' records wait to be taken, and at a highwater that
    # old, records stored long before those waiting would be handed out after them. (End
    # offsets asked for at once would do, but the embedded broker answers some one short.)
    caught_up: set[TopicPartition] = set()
    for tp in owned:
        try:
            high = consumer.highwater(tp)
            polled = consumer.last_poll_timestamp(tp)
            if (
                high is not None
                and polled is not None
                and polled >= polled_since_ms
                and await consumer.position(tp) >= high
            ):
                caught_up.add(tp)
        except (IllegalStateError, AssertionError):
            continue  # revoked meanwhile: the generation check drops whatever was taken
    return caught_up


def _generation_zero_member(consumer: AIOKafkaConsumer) -> str | None:
    # aiokafka only sends LeaveGroup for generation > 0 (Apache Kafka starts at 1), but the
    # embedded broker starts groups at 0: without our own LeaveGroup the next member waits
    # a whole session timeout for this one.
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or coordinator.generation != 0 or not coordinator.member_id:
        return None
    member_id: str = coordinator.member_id
    return member_id


async def _leave_group(settings: KafkaSettings, group_id: str, member_id: str) -> None:
    client = AIOKafkaClient(client_id="newsflow-leave", **settings.client_kwargs())
    try:
        async with asyncio.timeout(settings.request_timeout_ms / 1000):
            await client.bootstrap()
            node_id = await client.coordinator_lookup(CoordinationType.GROUP, group_id)
            await client.send(node_id, LeaveGroupRequest(group_id, member_id))
    except (KafkaError, OSError, TimeoutError) as exc:
        # Best effort, as in aiokafka: the session timeout removes the member anyway.
        _log.warning("leaving the group failed", error=repr(exc))
    finally:
        await client.close()


def message_of(record: ConsumerRecord[bytes, bytes]) -> Message:
    return Message(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value if record.value is not None else b"",
        timestamp_ms=record.timestamp,
        headers=tuple(record.headers),
    )
