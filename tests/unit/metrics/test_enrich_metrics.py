"""Enrich metrics and log context after real batches through the real `PageProcessor`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
import structlog
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from newsflow.kafka import InMemoryPublisher, Message, PublishUnavailable, Record
from newsflow.metrics import newsflow_version
from schemas import RawPage
from services.enrich.dedupe import Deduper, InMemoryDedupeStore
from services.enrich.metrics import EnrichMetrics, TimedDedupeStore
from services.enrich.process import PageProcessor
from services.enrich.worker import EnrichHandler, EnrichTopics
from tests.unit.metrics.pages import FETCHED_AT, NEWS_BODY, news_page, widgets_page

TOPIC = "pages.raw"
TOPICS = EnrichTopics(events="articles.events", dead_letters="pages.dlq")
NOW = FETCHED_AT + timedelta(minutes=10)


def _message(value: bytes, offset: int, partition: int = 3) -> Message:
    return Message(TOPIC, partition, offset, None, value, timestamp_ms=0)


def _page_message(page: RawPage, offset: int) -> Message:
    return _message(page.model_dump_json().encode(), offset)


def _batch() -> list[Message]:
    """Page a, page b (the same articles again), a widgets-only page and a non-JSON record."""
    return [
        _page_message(news_page("page-a"), 10),
        _page_message(news_page("page-b"), 11),
        _page_message(widgets_page("page-w"), 12),
        _message(b"{not json", 13),
    ]


class FlakyPublisher(InMemoryPublisher):
    """Refuses the first publish as a broker outage would, then keeps records."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def publish(self, records: Sequence[Record]) -> None:
        if self.failures:
            self.failures -= 1
            raise PublishUnavailable("broker down")
        await super().publish(records)


def _handler(
    registry: CollectorRegistry,
    publisher: InMemoryPublisher,
    *,
    emit_duplicates: bool = False,
) -> EnrichHandler:
    metrics = EnrichMetrics(registry)
    deduper = Deduper(TimedDedupeStore(InMemoryDedupeStore(), metrics))
    return EnrichHandler(
        PageProcessor(deduper),
        publisher,
        TOPICS,
        emit_duplicates=emit_duplicates,
        clock=lambda: NOW,
        metrics=metrics,
    )


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, f"no sample {name}{labels}"
    return value


async def test_a_batch_moves_every_enrich_metric() -> None:
    """Four records give their counts, duplicates, dead letters, timings and freshness."""
    registry = CollectorRegistry()
    publisher = InMemoryPublisher()
    await _handler(registry, publisher).handle(_batch())

    events = [r for r in publisher.records if r.topic == TOPICS.events]
    assert len(events) == 2  # page b's two articles are exact duplicates, not emitted
    assert _value(registry, "newsflow_enrich_pages_consumed_total") == 4
    assert _value(registry, "newsflow_enrich_articles_emitted_total") == 2
    assert _value(registry, "newsflow_enrich_duplicates_total", kind="exact") == 2
    assert _value(registry, "newsflow_enrich_duplicates_total", kind="near") == 0
    assert _value(registry, "newsflow_enrich_dead_letters_total", reason="no_articles") == 1
    assert _value(registry, "newsflow_enrich_dead_letters_total", reason="malformed_json") == 1
    assert _value(registry, "newsflow_enrich_dead_letters_total", reason="invalid_page") == 0
    assert _value(registry, "newsflow_enrich_batch_failures_total") == 0
    assert _value(registry, "newsflow_enrich_page_seconds_count") == 4
    assert _value(registry, "newsflow_enrich_page_seconds_sum") > 0
    assert _value(registry, "newsflow_enrich_batch_records_count") == 1
    assert _value(registry, "newsflow_enrich_batch_records_sum") == 4
    assert _value(registry, "newsflow_enrich_publish_seconds_count") == 1
    register = {"operation": "register"}
    assert _value(registry, "newsflow_enrich_dedupe_store_seconds_count", **register) == 1
    # Fetched 10 minutes before the injected now; published 2 h and 5 h before the fetch.
    assert _value(registry, "newsflow_enrich_fetched_age_seconds_count") == 2
    assert _value(registry, "newsflow_enrich_fetched_age_seconds_sum") == 2 * 600
    assert _value(registry, "newsflow_enrich_fetched_age_seconds_bucket", le="600.0") == 2
    assert _value(registry, "newsflow_enrich_published_age_seconds_count") == 2
    assert _value(registry, "newsflow_enrich_published_age_seconds_sum") == (
        (2 * 3600 + 600) + (5 * 3600 + 600)
    )


async def test_emitted_duplicates_are_counted_as_emitted() -> None:
    """With emit_duplicates the duplicates are published and counted among emitted articles."""
    registry = CollectorRegistry()
    publisher = InMemoryPublisher()
    await _handler(registry, publisher, emit_duplicates=True).handle(_batch())
    assert _value(registry, "newsflow_enrich_articles_emitted_total") == 4
    assert _value(registry, "newsflow_enrich_duplicates_total", kind="exact") == 2
    assert _value(registry, "newsflow_enrich_fetched_age_seconds_count") == 4


@pytest.mark.parametrize("again", ["handled", "sent"])
async def test_a_failed_batch_counts_once_when_handled_or_sent_again(again: str) -> None:
    """A publish failure counts a batch failure and nothing else; the retry counts the pages,
    whether the batch is handled again or its completion sends the same records again."""
    registry = CollectorRegistry()
    publisher = FlakyPublisher()
    handler = _handler(registry, publisher)
    acknowledged = await handler(_batch())
    with pytest.raises(PublishUnavailable):
        await acknowledged()
    assert _value(registry, "newsflow_enrich_batch_failures_total") == 1
    assert _value(registry, "newsflow_enrich_pages_consumed_total") == 0
    assert _value(registry, "newsflow_enrich_publish_seconds_count") == 1
    if again == "handled":
        await handler.handle(_batch())
    else:
        await acknowledged()
    assert len(publisher.records) == 4  # two events and two dead letters, once
    assert _value(registry, "newsflow_enrich_pages_consumed_total") == 4
    assert _value(registry, "newsflow_enrich_articles_emitted_total") == 2
    assert _value(registry, "newsflow_enrich_dead_letters_total", reason="no_articles") == 1


async def test_build_info_and_process_metrics_are_on_the_registry() -> None:
    """The enrich registry carries newsflow_build_info = 1 and the process collectors."""
    registry = CollectorRegistry()
    EnrichMetrics(registry)
    labels = {"service": "enrich", "version": newsflow_version()}
    assert registry.get_sample_value("newsflow_build_info", labels) == 1
    assert _value(registry, "process_cpu_seconds_total") > 0
    assert _value(registry, "process_resident_memory_bytes") > 0
    assert any(s.name == "python_info" for m in registry.collect() for s in m.samples)


async def test_log_lines_carry_the_record_position_and_page_id_but_no_body() -> None:
    """Per-record lines carry topic, partition, offset and page_id; no line quotes a page."""
    registry = CollectorRegistry()
    with (
        structlog.contextvars.bound_contextvars(service="enrich"),
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        await _handler(registry, InMemoryPublisher()).handle(_batch())
    rejected = [line for line in logs if line["event"] == "page rejected"]
    assert [(line["offset"], line.get("page_id"), line["reason"]) for line in rejected] == [
        (13, None, "malformed_json"),
        (12, "page-w", "no_articles"),
    ]
    enriched = [line for line in logs if line["event"] == "page enriched"]
    assert [(line["offset"], line["page_id"]) for line in enriched] == [
        (10, "page-a"),
        (11, "page-b"),
    ]
    for line in rejected + enriched:
        assert line["service"] == "enrich"
        assert line["topic"] == TOPIC
        assert line["partition"] == 3
    words = NEWS_BODY.split("\n")[5][:40]  # the start of an article body
    assert all(words not in repr(line) for line in logs)
    assert structlog.contextvars.get_contextvars() == {}
