"""The enrich shell: a batch of `pages.raw` records in, events and dead letters published out.

The handler reads and judges a batch, then hands the `BatchConsumer` a completion that
publishes the batch's records and returns once the broker acknowledged every one; the
consumer commits the batch's offsets after that (commit last), and reads the next batch
meanwhile. A record that is not a valid page, or a page with no article, becomes a dead
letter on `pages.dlq`; a failing dedupe store fails the batch (retriable), so it is handled
again and, thanks to the store's ordering, gets the same verdicts; a failed publish
(retriable) publishes the same records again. Counts move only once the batch is
acknowledged, so a retried batch counts once (latencies are observed on every attempt). Log
lines about one record carry its topic, partition, offset and page_id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from prometheus_client import CollectorRegistry

from newsflow.clock import Clock, utc_now
from newsflow.kafka import Completion, Message, Publisher, Record
from newsflow.logs import bound_to_record
from schemas import ArticleEvent, DeadLetter, DeadLetterReason, RawPage, article_event_json
from schemas.headers import INGESTED_AT_MS, PAGE_ID, accepted_order
from services.enrich.envelope import parse_page, raw_text
from services.enrich.metrics import EnrichMetrics
from services.enrich.process import PageProcessor, Rejection, dead_letter

log = structlog.get_logger("newsflow.enrich")


@dataclass(frozen=True, slots=True)
class EnrichTopics:
    """Where enrich writes."""

    events: str
    dead_letters: str


def _lanes(pages: Sequence[RawPage], sources: Sequence[Message]) -> dict[str, datetime]:
    # Each partition's newest fetched_at in the batch: dedupe keeps what the slowest needs.
    lanes: dict[str, datetime] = {}
    for page, message in zip(pages, sources, strict=True):
        lane = f"{message.topic}/{message.partition}"
        if lane not in lanes or page.fetched_at > lanes[lane]:
            lanes[lane] = page.fetched_at
    return lanes


def accepted_key(message: Message) -> tuple[int, int, int]:
    """A `pages.raw` record's place in the order ingest accepted pages (`accepted_order`):
    the consumer merges its partitions in it, and each batch is judged in it."""
    return accepted_order(message.headers, message.timestamp_ms, message.partition, message.offset)


def _origin(message: Message) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


def event_record(topic: str, event: ArticleEvent, ingested_at_ms: int | None = None) -> Record:
    """An ArticleEvent as a record keyed by event id (so a key's events stay in order).

    `ingested_at_ms`, the timestamp of the page's record on `pages.raw`, travels as a header
    so that the sink can measure ingest-to-sink latency.
    """
    headers = [(PAGE_ID, event.page_id.encode()), ("content-type", b"application/json")]
    if ingested_at_ms is not None and ingested_at_ms >= 0:
        headers.append((INGESTED_AT_MS, str(ingested_at_ms).encode()))
    return Record(
        topic=topic, key=event.event_id.encode(), value=article_event_json(event),
        headers=tuple(headers),
    )  # fmt: skip


def dead_letter_record(topic: str, letter: DeadLetter) -> Record:
    """A DeadLetter as a record keyed by page id when known."""
    return Record(
        topic=topic,
        key=letter.page_id.encode() if letter.page_id else None,
        value=letter.model_dump_json().encode(),
        headers=(("reason", letter.reason.value.encode()),),
    )


@dataclass(slots=True)
class _Batch:
    """What one batch turned into, before it is published and counted."""

    records: list[Record]
    emitted: list[ArticleEvent]
    duplicates: list[ArticleEvent]
    reasons: list[DeadLetterReason]


class EnrichHandler:
    """Handles one consumed batch of raw pages (a `newsflow.kafka.Handler`).

    `metrics` defaults to metrics on a registry of their own, which nothing exports.
    """

    def __init__(
        self,
        processor: PageProcessor,
        publisher: Publisher,
        topics: EnrichTopics,
        *,
        emit_duplicates: bool = False,
        clock: Clock = utc_now,
        metrics: EnrichMetrics | None = None,
    ) -> None:
        self._processor = processor
        self._publisher = publisher
        self._topics = topics
        self._emit_duplicates = emit_duplicates
        self._clock = clock
        self._metrics = metrics if metrics is not None else EnrichMetrics(CollectorRegistry())

    async def __call__(self, messages: Sequence[Message]) -> Completion:
        """Read and judge the batch; the completion publishes its records and waits for their
        acknowledgement (again when called again), then counts the batch."""
        started = time.perf_counter()
        try:
            batch = await self._enrich(messages)
        except Exception:
            self._metrics.batch_failures.inc()
            raise
        processing = time.perf_counter() - started

        async def acknowledged() -> None:
            try:
                await self._deliver(messages, batch, processing)
            except Exception:
                self._metrics.batch_failures.inc()
                raise

        return acknowledged

    async def handle(self, messages: Sequence[Message]) -> None:
        """The whole batch at once: returns once its records are acknowledged."""
        await (await self(messages))()

    async def _deliver(self, messages: Sequence[Message], batch: _Batch, processing: float) -> None:
        m = self._metrics
        publishing = time.perf_counter()
        try:
            await self._publisher.publish(batch.records)
        finally:
            m.publish_seconds.observe(time.perf_counter() - publishing)
        m.batch_records.observe(len(messages))
        m.pages_consumed.inc(len(messages))
        per_page = processing / len(messages)
        for _ in messages:
            m.page_seconds.observe(per_page)
        for reason in batch.reasons:
            m.dead_letters.labels(reason.value).inc()
        for event in batch.duplicates:
            assert event.duplicate_kind is not None  # set with duplicate_of by build_event
            m.duplicates.labels(event.duplicate_kind.value).inc()
        m.articles_emitted.inc(len(batch.emitted))
        now = self._clock()
        fetched_age, published_age = m.fetched_age_seconds.observe, m.published_age_seconds.observe
        for event in batch.emitted:
            fetched_age(max((now - event.fetched_at).total_seconds(), 0.0))
            if event.published_at is not None:
                published_age(max((now - event.published_at).total_seconds(), 0.0))

    async def _enrich(self, messages: Sequence[Message]) -> _Batch:
        batch = _Batch(records=[], emitted=[], duplicates=[], reasons=[])
        pages: list[RawPage] = []
        sources: list[Message] = []
        # Dedupe sees a batch's pages in the order ingest accepted them, as offline enrich
        # sees a file's pages in the file's order. The consumer's merge hands them out in
        # that order across partitions; pages of two requests that reached one partition out of
        # their arrival order are put back in it here, within the batch.
        for message in sorted(messages, key=accepted_key):
            parsed = parse_page(message.value)
            if isinstance(parsed, Rejection):
                with bound_to_record(message, page_id=parsed.page_id):
                    self._reject(batch, parsed, message, page_id=parsed.page_id)
                continue
            pages.append(parsed)
            sources.append(message)
        outcomes = await self._processor.process(pages, _lanes(pages, sources))
        # Binding a record's context costs more than the rest of the shell's work on a page:
        # only for the lines that are logged (rejections always, the per-page line at DEBUG).
        per_page_lines = log.is_enabled_for(logging.DEBUG)
        for outcome, message in zip(outcomes, sources, strict=True):
            if outcome.rejection is not None:
                with bound_to_record(message, page_id=outcome.page.page_id):
                    self._reject(batch, outcome.rejection, message, outcome.page.page_id)
                continue
            for event in outcome.events:
                if event.duplicate_of is not None:
                    batch.duplicates.append(event)
                if event.duplicate_of is None or self._emit_duplicates:
                    batch.records.append(
                        event_record(self._topics.events, event, message.timestamp_ms)
                    )
                    batch.emitted.append(event)
            if per_page_lines:
                with bound_to_record(message, page_id=outcome.page.page_id):
                    log.debug(
                        "page enriched",
                        articles=len(outcome.events),
                        originals=len(outcome.originals),
                    )
        return batch

    def _reject(
        self, batch: _Batch, rejection: Rejection, message: Message, page_id: str | None
    ) -> None:
        letter = dead_letter(
            rejection, raw=raw_text(message.value), page_id=page_id,
            failed_at=self._clock(), origin=_origin(message),
        )  # fmt: skip
        batch.records.append(dead_letter_record(self._topics.dead_letters, letter))
        batch.reasons.append(rejection.reason)
        # The reason only: a rejection's message can quote the page.
        log.warning("page rejected", reason=rejection.reason.value)
