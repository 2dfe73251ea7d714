"""The sink's writer seam: the `EventWriter` protocol and `BatchingWriter`, its one base.

The consumer shell calls `add(events)` for each consumed batch, then `flush()`, and commits
offsets only after `flush()` returns: a writer acknowledges events by making them durable
(fsynced file, committed transaction) before `flush()` returns, never before. A destination
is one subclass that implements `_open`, `_write_batch` and `_close`; buffering, chunking to
`batch_max`, in-batch dedupe and keeping events pending across a failed write live here.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from pydantic_core import PydanticSerializationError

from schemas import ArticleEvent, article_event_json
from services.sink.errors import BadEvent, SinkError


class EventWriter(Protocol):
    """Somewhere article events are stored durably, idempotently by event_id."""

    async def start(self) -> None:
        """Open the destination (connect, migrate, repair files); call once before `add`."""

    async def add(self, events: Sequence[ArticleEvent]) -> None:
        """Take events to write; they are durable only once `flush()` has returned."""

    async def flush(self) -> None:
        """Return once every event added so far is durable; raises a `SinkError` otherwise."""

    async def close(self) -> None:
        """Release the destination; events added but not flushed are dropped (never acked)."""


def event_json(event: ArticleEvent) -> bytes:
    """The event as `model_dump_json()` gives it, in UTF-8; BadEvent when it cannot be encoded."""
    try:
        return article_event_json(event)
    except PydanticSerializationError as exc:
        # A lone surrogate in a text field: no UTF-8 destination can store it.
        raise BadEvent(f"event {event.event_id!r} cannot be encoded: {exc}") from exc


def is_own_copy(event: ArticleEvent) -> bool:
    """Whether the event is an exact duplicate, which shares its original's event_id."""
    return event.duplicate_of == event.event_id


def unique_by_event_id(events: Sequence[ArticleEvent]) -> list[ArticleEvent]:
    """One event per event_id, in the order ids first appear.

    Events with one id hold the same article. With duplicates emitted, an exact duplicate
    shares its original's id and can be published before it (another worker judged the copy
    while the original was on its way): the original then takes the copy's place, as it
    does in a table that already holds the copy. Otherwise the first event of an id is kept.
    """
    kept: dict[str, ArticleEvent] = {}
    for event in events:
        held = kept.get(event.event_id)
        if held is None or (is_own_copy(held) and event.duplicate_of is None):
            kept[event.event_id] = event
    return list(kept.values())


class BatchingWriter(ABC):
    """Buffers added events and hands them to `_write_batch` in chunks of at most `batch_max`.

    `add` writes eagerly only when a full chunk is pending, so a writer's memory stays bounded
    even if the shell adds a lot before flushing. When `_write_batch` raises, the chunk stays
    pending and the next `flush()` retries it; subclasses must therefore write idempotently.
    """

    def __init__(self, *, batch_max: int) -> None:
        if batch_max < 1:
            raise ValueError(f"batch_max must be at least 1, got {batch_max}")
        self._batch_max = batch_max
        self._pending: list[ArticleEvent] = []
        # One write at a time: a second flush must not resend a chunk already in flight.
        self._write_lock = asyncio.Lock()
        self._started = False

    @property
    def pending(self) -> int:
        """How many added events are not durable yet."""
        return len(self._pending)

    async def start(self) -> None:
        """Open the destination; a second call is a no-op."""
        if not self._started:
            try:
                await self._open()
            except BaseException:
                await self._close()  # release what a half-done open acquired
                raise
            self._started = True

    async def add(self, events: Sequence[ArticleEvent]) -> None:
        """Take events; writes full chunks of `batch_max` right away, keeps the rest pending."""
        self._pending.extend(events)
        if len(self._pending) >= self._batch_max:
            await self._drain(keep_partial=True)

    async def flush(self) -> None:
        """Write every pending event; returns once all are durable."""
        await self._drain(keep_partial=False)

    def take_pending(self) -> list[ArticleEvent]:
        """Remove and return the events not written yet, e.g. to dead-letter a BadEvent batch."""
        taken, self._pending = self._pending, []
        return taken

    async def close(self) -> None:
        """Release the destination without writing what is pending (it was never acked)."""
        self._pending.clear()
        if self._started:
            self._started = False
            await self._close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _drain(self, *, keep_partial: bool) -> None:
        floor = self._batch_max if keep_partial else 1
        async with self._write_lock:
            if not self._started:
                raise RuntimeError("start() the writer before adding or flushing events")
            while len(self._pending) >= floor:
                chunk = self._pending[: self._batch_max]
                await self._write_batch(unique_by_event_id(chunk))
                # Events are only appended while we wait, so the chunk is still the prefix.
                del self._pending[: len(chunk)]

    @abstractmethod
    async def _open(self) -> None:
        """Connect to or prepare the destination."""

    @abstractmethod
    async def _write_batch(self, events: Sequence[ArticleEvent]) -> None:
        """Write events (unique event_ids) durably and idempotently, or raise a `SinkError`."""

    @abstractmethod
    async def _close(self) -> None:
        """Release what `_open` acquired."""


class MemoryWriter(BatchingWriter):
    """An in-memory destination for unit tests of code that drives an `EventWriter`."""

    def __init__(self, *, batch_max: int = 500) -> None:
        super().__init__(batch_max=batch_max)
        self.events: dict[str, ArticleEvent] = {}
        """What was written, by event_id (the first write of an id wins)."""
        self.batches: list[tuple[str, ...]] = []
        """The event_ids of each `_write_batch` call, in order."""
        self.fail_next: SinkError | None = None
        """Raised by the next write instead of writing, then cleared."""

    async def _open(self) -> None:
        return None

    async def _write_batch(self, events: Sequence[ArticleEvent]) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.batches.append(tuple(event.event_id for event in events))
        for event in events:
            self.events.setdefault(event.event_id, event)

    async def _close(self) -> None:
        return None
