"""Prometheus metrics of the sink service, on an injected `CollectorRegistry`.

Label values come from small fixed sets only: the writer (`jsonl`, `postgres`, `memory` in
tests, `other` for any further class), dead-letter reasons and partition numbers.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

from newsflow.metrics import (
    COUNT_BUCKETS,
    PIPELINE_BUCKETS,
    SECOND_BUCKETS,
    lag_gauge,
    register_base_metrics,
)
from schemas import DeadLetterReason
from services.sink.jsonl import JsonlWriter
from services.sink.postgres import PostgresWriter
from services.sink.writer import BatchingWriter, MemoryWriter

SINK_DEAD_LETTER_REASONS: Final = (DeadLetterReason.INVALID_PAGE, DeadLetterReason.PROCESSING_ERROR)
"""The reasons the sink dead-letters with: not an ArticleEvent, or refused by the destination."""


def writer_label(writer: BatchingWriter) -> str:
    """The `writer` label value of a writer: jsonl, postgres, memory or other."""
    if isinstance(writer, JsonlWriter):
        return "jsonl"
    if isinstance(writer, PostgresWriter):
        return "postgres"
    if isinstance(writer, MemoryWriter):
        return "memory"
    return "other"


class SinkMetrics:
    """The sink service's metrics for one writer, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry, *, writer: str) -> None:
        register_base_metrics(registry, "sink")
        self.writer = writer
        """The `writer` label value of this process (jsonl, postgres or memory)."""
        self.events_consumed = Counter(
            "newsflow_sink_events_consumed_total",
            "Records consumed from articles.events and handled (valid events or not).",
            registry=registry,
        )
        self.events_written = Counter(
            "newsflow_sink_events_written_total",
            "Events made durable by the writer (replays the writer skips included), by writer.",
            ["writer"],
            registry=registry,
        ).labels(writer)
        self.write_seconds = Histogram(
            "newsflow_sink_write_seconds",
            "Time to add one batch's events to the writer and flush them durably, by writer.",
            ["writer"],
            buckets=SECOND_BUCKETS,
            registry=registry,
        ).labels(writer)
        self.ingest_to_sink_seconds = Histogram(
            "newsflow_sink_ingest_to_sink_seconds",
            "Per event: from ingest publishing its page (the page record's timestamp) to the "
            "event being durable in the sink; includes clock differences between machines.",
            buckets=PIPELINE_BUCKETS,
            registry=registry,
        )
        self.batch_records = Histogram(
            "newsflow_sink_batch_records",
            "Records per consumed batch.",
            buckets=COUNT_BUCKETS,
            registry=registry,
        )
        self.dead_letters = Counter(
            "newsflow_sink_dead_letters_total",
            "Records sent to pages.dlq, by reason.",
            ["reason"],
            registry=registry,
        )
        self.batch_failures = Counter(
            "newsflow_sink_batch_failures_total",
            "Batches whose handling raised, e.g. destination down (the consumer retries those).",
            registry=registry,
        )
        self.consumer_lag = lag_gauge(registry, "sink")
        for reason in SINK_DEAD_LETTER_REASONS:
            self.dead_letters.labels(reason.value)
