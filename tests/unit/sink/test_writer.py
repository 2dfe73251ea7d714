"""BatchingWriter: buffering, chunking, in-batch dedupe and keeping events across failures."""

from __future__ import annotations

import pytest

from services.sink import BadEvent, MemoryWriter, SinkUnavailable
from services.sink.writer import unique_by_event_id
from tests.unit.sink.factories import make_event


async def test_add_buffers_until_flush() -> None:
    """Events below batch_max are only written by flush, in one batch."""
    async with MemoryWriter(batch_max=10) as writer:
        await writer.add([make_event(n) for n in range(4)])
        assert writer.batches == []
        assert writer.pending == 4
        await writer.flush()
        assert writer.batches == [tuple(make_event(n).event_id for n in range(4))]
        assert writer.pending == 0


async def test_add_writes_full_chunks_eagerly() -> None:
    """Adding more than batch_max writes full chunks at once and keeps the remainder pending."""
    async with MemoryWriter(batch_max=3) as writer:
        await writer.add([make_event(n) for n in range(7)])
        assert [len(batch) for batch in writer.batches] == [3, 3]
        assert writer.pending == 1
        await writer.flush()
        assert [len(batch) for batch in writer.batches] == [3, 3, 1]
        assert set(writer.events) == {make_event(n).event_id for n in range(7)}


async def test_failed_write_keeps_events_for_the_next_flush() -> None:
    """A write that raises leaves its events pending; the retried flush writes them all."""
    async with MemoryWriter(batch_max=10) as writer:
        await writer.add([make_event(n) for n in range(5)])
        writer.fail_next = SinkUnavailable("down")
        with pytest.raises(SinkUnavailable):
            await writer.flush()
        assert writer.pending == 5
        await writer.flush()
        assert writer.pending == 0
        assert len(writer.events) == 5


async def test_take_pending_hands_back_a_refused_batch() -> None:
    """After a BadEvent the shell can take the unwritten events; the writer carries on."""
    async with MemoryWriter() as writer:
        events = [make_event(n) for n in range(3)]
        await writer.add(events)
        writer.fail_next = BadEvent("refused")
        with pytest.raises(BadEvent):
            await writer.flush()
        assert writer.take_pending() == events
        await writer.flush()
        assert writer.batches == []


async def test_duplicates_in_a_batch_are_written_once() -> None:
    """The same event_id twice in one batch reaches the destination once."""
    async with MemoryWriter() as writer:
        await writer.add([make_event(1), make_event(2), make_event(1)])
        await writer.flush()
        assert writer.batches == [(make_event(1).event_id, make_event(2).event_id)]


async def test_close_drops_unflushed_events() -> None:
    """Closing does not write pending events: they were never acknowledged."""
    writer = MemoryWriter()
    await writer.start()
    await writer.add([make_event(1)])
    await writer.close()
    assert writer.pending == 0
    assert writer.batches == []


async def test_writing_before_start_is_refused() -> None:
    """flush() on a writer that was never started raises instead of losing events."""
    writer = MemoryWriter()
    await writer.add([make_event(1)])
    with pytest.raises(RuntimeError, match="start"):
        await writer.flush()


def test_unique_by_event_id_keeps_first_in_order() -> None:
    """The first event of each id is kept, in the original order."""
    first = make_event(1)
    later = make_event(1, title="changed")
    assert unique_by_event_id([make_event(2), first, later]) == [make_event(2), first]


def test_unique_by_event_id_prefers_the_original_to_its_exact_copy() -> None:
    """An exact duplicate published before its original gives way to it, in its place."""
    original = make_event(2)
    copy = make_event(
        2, page_id="p-other", position=7, duplicate_of=original.event_id, duplicate_kind="exact"
    )
    other = make_event(4)
    assert unique_by_event_id([copy, other, original]) == [original, other]
    assert unique_by_event_id([original, other, copy]) == [original, other]
    assert unique_by_event_id([copy, other, copy]) == [copy, other]


def test_batch_max_must_be_positive() -> None:
    """A batch size below one is a configuration error."""
    with pytest.raises(ValueError, match="batch_max"):
        MemoryWriter(batch_max=0)
