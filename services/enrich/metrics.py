"""Prometheus metrics of the enrich service, on an injected `CollectorRegistry`.

Label values come from small fixed sets only: duplicate kinds, dead-letter reasons, store
operations, partition numbers. `TimedDedupeStore` wraps any `DedupeStore` to time its round
trips, so the worker measures the real store (Redis, SQLite) without knowing which it is.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram

from newsflow.metrics import (
    AGE_BUCKETS,
    COUNT_BUCKETS,
    SECOND_BUCKETS,
    lag_gauge,
    register_base_metrics,
)
from schemas import DeadLetterReason, DuplicateKind
from services.enrich.dedupe_store import (
    WINDOW_ONLY,
    DedupeStore,
    Registration,
    Retention,
    StoredSignature,
)
from services.enrich.fingerprint import Fingerprint


class EnrichMetrics:
    """The enrich service's metrics, registered on `registry` (with build and process info)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        register_base_metrics(registry, "enrich")
        self.pages_consumed = Counter(
            "newsflow_enrich_pages_consumed_total",
            "Records consumed from pages.raw and handled (valid pages or not).",
            registry=registry,
        )
        self.articles_emitted = Counter(
            "newsflow_enrich_articles_emitted_total",
            "Article events acknowledged on articles.events (duplicates only when emitted).",
            registry=registry,
        )
        self.duplicates = Counter(
            "newsflow_enrich_duplicates_total",
            "Articles judged duplicates of an earlier one, by kind (emitted or not).",
            ["kind"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "newsflow_enrich_dead_letters_total",
            "Pages sent to pages.dlq, by reason.",
            ["reason"],
            registry=registry,
        )
        self.batch_failures = Counter(
            "newsflow_enrich_batch_failures_total",
            "Batches whose handling raised (the consumer retries retriable ones).",
            registry=registry,
        )
        self.page_seconds = Histogram(
            "newsflow_enrich_page_seconds",
            "Processing time per page (parse, split, date, dedupe; not publish): each page of "
            "a batch observes the batch's time divided by its page count.",
            buckets=SECOND_BUCKETS,
            registry=registry,
        )
        self.batch_records = Histogram(
            "newsflow_enrich_batch_records",
            "Records per consumed batch.",
            buckets=COUNT_BUCKETS,
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "newsflow_enrich_publish_seconds",
            "Time for the broker to acknowledge one batch's events and dead letters.",
            buckets=SECOND_BUCKETS,
            registry=registry,
        )
        self.dedupe_store_seconds = Histogram(
            "newsflow_enrich_dedupe_store_seconds",
            "Latency of one dedupe store call, by operation (register, signatures).",
            ["operation"],
            buckets=SECOND_BUCKETS,
            registry=registry,
        )
        self.published_age_seconds = Histogram(
            "newsflow_enrich_published_age_seconds",
            "At emit, now minus published_at of each emitted event that has one (floored at 0).",
            buckets=AGE_BUCKETS,
            registry=registry,
        )
        self.fetched_age_seconds = Histogram(
            "newsflow_enrich_fetched_age_seconds",
            "At emit, now minus fetched_at of each emitted event (floored at 0).",
            buckets=AGE_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = lag_gauge(registry, "enrich")
        # Every label value exists from the start, so a rate over zero is 0, not "no data".
        for kind in DuplicateKind:
            self.duplicates.labels(kind.value)
        for reason in DeadLetterReason:
            self.dead_letters.labels(reason.value)
        for operation in ("register", "signatures"):
            self.dedupe_store_seconds.labels(operation)


class TimedDedupeStore:
    """A `DedupeStore` that times each call of the store it wraps."""

    def __init__(self, store: DedupeStore, metrics: EnrichMetrics) -> None:
        self._store = store
        self._register = metrics.dedupe_store_seconds.labels("register")
        self._signatures = metrics.dedupe_store_seconds.labels("signatures")

    async def register(
        self,
        fingerprints: Sequence[Fingerprint],
        *,
        window: timedelta,
        retention: Retention = WINDOW_ONLY,
        lanes: Mapping[str, datetime] | None = None,
    ) -> list[Registration]:
        """The wrapped store's `register`, timed."""
        started = time.perf_counter()
        try:
            return await self._store.register(
                fingerprints, window=window, retention=retention, lanes=lanes
            )
        finally:
            self._register.observe(time.perf_counter() - started)

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The wrapped store's `signatures`, timed."""
        started = time.perf_counter()
        try:
            return await self._store.signatures(event_ids)
        finally:
            self._signatures.observe(time.perf_counter() - started)
