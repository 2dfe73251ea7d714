"""The sink shell: a batch of `articles.events` records in, written and flushed, then committed.

The handler adds the batch's events to the writer and flushes; it returns only once they
are durable, and the `BatchConsumer` commits the offsets after that. A record that is not
an ArticleEvent, or an event the destination refuses (`BadEvent`), becomes a dead letter on
`pages.dlq` (stage `sink`) so one bad record never blocks the partition. A destination that is
down (`SinkUnavailable`, retriable) fails the batch, which the consumer handles again.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from pydantic import ValidationError

from newsflow.clock import Clock, utc_now
from newsflow.kafka import Message, Publisher, Record
from schemas import ArticleEvent, DeadLetter, DeadLetterReason, Stage
from services.sink.errors import BadEvent
from services.sink.writer import BatchingWriter

log = structlog.get_logger("newsflow.sink")


class SinkHandler:
    """Handles one consumed batch of article events (a `newsflow.kafka.Handler`)."""

    def __init__(
        self,
        writer: BatchingWriter,
        publisher: Publisher,
        dead_letter_topic: str,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._writer = writer
        self._publisher = publisher
        self._topic = dead_letter_topic
        self._clock = clock

    async def __call__(self, messages: Sequence[Message]) -> None:
        events: list[ArticleEvent] = []
        letters: list[Record] = []
        raw_by_id: dict[str, Message] = {}
        for message in messages:
            try:
                event = ArticleEvent.model_validate_json(message.value)
            except ValidationError as error:
                letters.append(
                    self._letter(message, None, DeadLetterReason.INVALID_PAGE, str(error))
                )
                continue
            events.append(event)
            raw_by_id[event.event_id] = message
        try:
            await self._writer.add(events)
            await self._writer.flush()
        except BadEvent:
            # Write one by one to find the events the destination refuses; the rest land.
            for event in self._writer.take_pending():
                try:
                    await self._writer.add([event])
                    await self._writer.flush()
                except BadEvent as error:
                    self._writer.take_pending()
                    letters.append(
                        self._letter(
                            raw_by_id[event.event_id], event.page_id,
                            DeadLetterReason.PROCESSING_ERROR, f"refused by the sink: {error}",
                        )
                    )
        if letters:
            await self._publisher.publish(letters)
        log.debug("batch written", events=len(events), dead_letters=len(letters))

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
