"""The sink shell: a batch of `articles.events` records in, written and flushed, then committed.

The handler adds the batch's events to the writer and flushes; it returns only once they
are durable, and the `BatchConsumer` commits the offsets after that. A record that is not
an ArticleEvent, or an event the destination refuses (`BadEvent`), becomes a dead letter on
`pages.dlq` (stage `sink`) so one bad record never blocks the partition. A destination that is
down (`SinkUnavailable`, retriable) fails the batch, which the consumer handles again.
Counts move only once the batch is done, so a retried batch counts once (latencies are
observed on every attempt).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from newsflow.clock import Clock, utc_now
from newsflow.kafka import Message, Publisher, Record
from newsflow.logs import bound_to_record
from schemas import ArticleEvent, DeadLetter, DeadLetterReason, Stage
from schemas.headers import INGESTED_AT_MS
from services.sink.errors import BadEvent
from services.sink.metrics import SinkMetrics, writer_label
from services.sink.writer import BatchingWriter

log = structlog.get_logger("newsflow.sink")


def ingested_at_ms(message: Message) -> float | None:
    """When ingest published the page of an event record (its `ingested_at_ms` header)."""
    for name, value in message.headers:
        if name == INGESTED_AT_MS:
            try:
                return float(int(value))
            except ValueError:
                return None
    return None


class SinkHandler:
    """Handles one consumed batch of article events (a `newsflow.kafka.Handler`).

    `metrics` defaults to metrics on a registry of their own, which nothing exports.
    """

    def __init__(
        self,
        writer: BatchingWriter,
        publisher: Publisher,
        dead_letter_topic: str,
        *,
        clock: Clock = utc_now,
        metrics: SinkMetrics | None = None,
    ) -> None:
        self._writer = writer
        self._publisher = publisher
        self._topic = dead_letter_topic
        self._clock = clock
        self._metrics = (
            metrics
            if metrics is not None
            else SinkMetrics(CollectorRegistry(), writer=writer_label(writer))
        )

    async def __call__(self, messages: Sequence[Message]) -> None:
        try:
            await self._handle(messages)
        except Exception:
            self._metrics.batch_failures.inc()
            raise

    async def _handle(self, messages: Sequence[Message]) -> None:
        m = self._metrics
        events: list[ArticleEvent] = []
        letters: list[Record] = []
        reasons: list[DeadLetterReason] = []
        raw_by_id: dict[str, Message] = {}
        for message in messages:
            try:
                event = ArticleEvent.model_validate_json(message.value)
            except ValidationError as error:
                with bound_to_record(message):
                    reason = DeadLetterReason.INVALID_PAGE
                    letters.append(self._letter(message, None, reason, str(error)))
                    reasons.append(reason)
                    log.warning("record is not an article event", reason=reason.value)
                continue
            events.append(event)
            raw_by_id[event.event_id] = message
        started = time.perf_counter()
        try:
            durable = await self._write(events, raw_by_id, letters, reasons)
        finally:
            m.write_seconds.observe(time.perf_counter() - started)
        now_ms = self._clock().timestamp() * 1000
        observe = m.ingest_to_sink_seconds.observe
        for event in durable:
            ingested = ingested_at_ms(raw_by_id[event.event_id])
            if ingested is not None:
                observe(max(now_ms - ingested, 0.0) / 1000)
        if letters:
            await self._publisher.publish(letters)
        m.batch_records.observe(len(messages))
        m.events_consumed.inc(len(messages))
        m.events_written.inc(len(durable))
        for reason in reasons:
            m.dead_letters.labels(reason.value).inc()
        log.debug("batch written", events=len(durable), dead_letters=len(letters))

    async def _write(
        self,
        events: list[ArticleEvent],
        raw_by_id: dict[str, Message],
        letters: list[Record],
        reasons: list[DeadLetterReason],
    ) -> list[ArticleEvent]:
        """Write and flush `events`; dead-letter the ones the destination refuses.

        Returns the events that are durable.
        """
        try:
            await self._writer.add(events)
            await self._writer.flush()
        except BadEvent:
            # Write one by one to find the events the destination refuses; the rest land.
            pending = self._writer.take_pending()
            waiting = {id(event) for event in pending}
            # The chunks written before the refusal.
            written = [event for event in events if id(event) not in waiting]
            for event in pending:
                message = raw_by_id[event.event_id]
                with bound_to_record(message, page_id=event.page_id, event_id=event.event_id):
                    try:
                        await self._writer.add([event])
                        await self._writer.flush()
                    except BadEvent as error:
                        self._writer.take_pending()
                        reason = DeadLetterReason.PROCESSING_ERROR
                        text = f"refused by the sink: {error}"
                        letters.append(self._letter(message, event.page_id, reason, text))
                        reasons.append(reason)
                        # The error's class only: its text can quote the event.
                        log.warning("event refused by the sink", error=type(error).__name__)
                    else:
                        written.append(event)
            return written
        return events

    def _letter(
        self, message: Message, page_id: str | None, reason: DeadLetterReason, text: str
    ) -> Record:
        letter = DeadLetter(
            page_id=page_id,
            stage=Stage.SINK,
            reason=reason,
            message=text,
            raw=message.value.decode("utf-8", errors="backslashreplace"),
            failed_at=self._clock(),
            origin=f"{message.topic}/{message.partition}/{message.offset}",
        )
        return Record(
            topic=self._topic,
            key=page_id.encode() if page_id else None,
            value=letter.model_dump_json().encode(),
            headers=(("reason", reason.value.encode()),),
        )
