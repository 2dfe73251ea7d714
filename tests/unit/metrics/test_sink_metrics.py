"""Sink metrics and log context after real batches through `SinkHandler` and `MemoryWriter`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
import structlog
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from newsflow.kafka import InMemoryPublisher, Message
from newsflow.metrics import newsflow_version
from schemas import ArticleEvent, DeadLetter
from services.sink import BadEvent, MemoryWriter, SinkUnavailable
from services.sink.metrics import SinkMetrics, writer_label
from services.sink.worker import SinkHandler
from tests.unit.sink.factories import make_event

TOPIC = "articles.events"
DLQ = "pages.dlq"


class RefusingWriter(MemoryWriter):
    """A destination that refuses events whose title says so, as PostgreSQL refuses a NUL."""

    async def _write_batch(self, events: Sequence[ArticleEvent]) -> None:
        if any(event.title.startswith("refuse") for event in events):
            raise BadEvent("the destination refuses this event")
        await super()._write_batch(events)


def _message(value: bytes, offset: int) -> Message:
    return Message(TOPIC, 1, offset, None, value, timestamp_ms=0)


def _event_message(event: ArticleEvent, offset: int) -> Message:
    return _message(event.model_dump_json().encode(), offset)


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, f"no sample {name}{labels}"
    return value


def _handler(
    registry: CollectorRegistry, writer: MemoryWriter, publisher: InMemoryPublisher
) -> SinkHandler:
    metrics = SinkMetrics(registry, writer=writer_label(writer))
    return SinkHandler(writer, publisher, DLQ, metrics=metrics)


async def test_a_batch_moves_every_sink_metric() -> None:
    """Three events and one invalid record: written, consumed, dead-lettered and timed."""
    registry = CollectorRegistry()
    writer, publisher = MemoryWriter(), InMemoryPublisher()
    await writer.start()
    batch = [_event_message(make_event(n), offset=20 + n) for n in range(3)]
    batch.append(_message(b'{"event_id": "x"}', offset=23))
    await _handler(registry, writer, publisher)(batch)

    assert len(writer.events) == 3
    assert [r.topic for r in publisher.records] == [DLQ]
    assert _value(registry, "newsflow_sink_events_consumed_total") == 4
    assert _value(registry, "newsflow_sink_events_written_total", writer="memory") == 3
    assert _value(registry, "newsflow_sink_dead_letters_total", reason="invalid_page") == 1
    assert _value(registry, "newsflow_sink_dead_letters_total", reason="processing_error") == 0
    assert _value(registry, "newsflow_sink_write_seconds_count", writer="memory") == 1
    assert _value(registry, "newsflow_sink_write_seconds_sum", writer="memory") > 0
    assert _value(registry, "newsflow_sink_batch_records_count") == 1
    assert _value(registry, "newsflow_sink_batch_records_sum") == 4
    assert _value(registry, "newsflow_sink_batch_failures_total") == 0
    labels = {"service": "sink", "version": newsflow_version()}
    assert registry.get_sample_value("newsflow_build_info", labels) == 1
    assert _value(registry, "process_cpu_seconds_total") > 0


async def test_a_refused_event_is_a_dead_letter_and_the_rest_are_written() -> None:
    """One event the destination refuses is dead-lettered and logged with its ids, no body."""
    registry = CollectorRegistry()
    writer, publisher = RefusingWriter(), InMemoryPublisher()
    await writer.start()
    refused = make_event(7, title="refuse me, destination")
    batch = [_event_message(make_event(1), 30), _event_message(refused, 31)]
    batch.append(_event_message(make_event(2), 32))
    with (
        structlog.contextvars.bound_contextvars(service="sink"),
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        await _handler(registry, writer, publisher)(batch)

    assert refused.event_id not in writer.events
    assert len(writer.events) == 2
    [letter] = [DeadLetter.model_validate_json(r.value) for r in publisher.records]
    assert letter.page_id == refused.page_id
    assert _value(registry, "newsflow_sink_events_written_total", writer="memory") == 2
    assert _value(registry, "newsflow_sink_dead_letters_total", reason="processing_error") == 1
    [line] = [line for line in logs if line["event"] == "event refused by the sink"]
    assert line["service"] == "sink"
    assert (line["topic"], line["partition"], line["offset"]) == (TOPIC, 1, 31)
    assert (line["event_id"], line["page_id"]) == (refused.event_id, refused.page_id)
    assert all(refused.body[:40] not in repr(entry) for entry in logs)


async def test_an_unavailable_destination_fails_the_batch_and_counts_once_on_retry() -> None:
    """A destination that is down counts a failure and a timing; the retry counts the events."""
    registry = CollectorRegistry()
    writer, publisher = MemoryWriter(), InMemoryPublisher()
    await writer.start()
    handler = _handler(registry, writer, publisher)
    batch = [_event_message(make_event(n), offset=n) for n in range(4)]
    writer.fail_next = SinkUnavailable("disk full")
    with pytest.raises(SinkUnavailable):
        await handler(batch)
    assert _value(registry, "newsflow_sink_batch_failures_total") == 1
    assert _value(registry, "newsflow_sink_write_seconds_count", writer="memory") == 1
    assert _value(registry, "newsflow_sink_events_written_total", writer="memory") == 0
    await handler(batch)  # the consumer hands the same batch again; the chunk is still pending
    assert _value(registry, "newsflow_sink_events_written_total", writer="memory") == 4
    assert _value(registry, "newsflow_sink_events_consumed_total") == 4


def _stamped(event: ArticleEvent, offset: int, ingested_at_ms: bytes | None) -> Message:
    headers = () if ingested_at_ms is None else (("ingested_at_ms", ingested_at_ms),)
    value = event.model_dump_json().encode()
    return Message(TOPIC, 1, offset, None, value, timestamp_ms=0, headers=headers)


async def test_ingest_to_sink_latency_is_observed_for_each_durable_event_that_carries_it() -> None:
    """Events with the enrich header count, once each; refused and unstamped ones do not."""
    registry = CollectorRegistry()
    writer, publisher = RefusingWriter(), InMemoryPublisher()
    await writer.start()
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ten_seconds_ago = str(int(now.timestamp() * 1000) - 10_000).encode()
    batch = [
        _stamped(make_event(1), 40, ten_seconds_ago),
        _stamped(make_event(2), 41, ten_seconds_ago),
        _stamped(make_event(3, title="refuse this one"), 42, ten_seconds_ago),
        _stamped(make_event(4), 43, None),
        _stamped(make_event(5), 44, b"not a number"),
    ]
    metrics = SinkMetrics(registry, writer=writer_label(writer))
    await SinkHandler(writer, publisher, DLQ, clock=lambda: now, metrics=metrics)(batch)

    assert len(writer.events) == 4
    assert _value(registry, "newsflow_sink_ingest_to_sink_seconds_count") == 2
    assert _value(registry, "newsflow_sink_ingest_to_sink_seconds_sum") == 20.0
    assert _value(registry, "newsflow_sink_ingest_to_sink_seconds_bucket", le="5.0") == 0
    assert _value(registry, "newsflow_sink_ingest_to_sink_seconds_bucket", le="30.0") == 2
