"""The enrich shell: a batch of `pages.raw` records in, events and dead letters published out.

The handler returns only once every record it produced is acknowledged by the broker; the
`BatchConsumer` commits the batch's offsets after that (commit last). A record that is not a
valid page, or a page with no article, becomes a dead letter on `pages.dlq`; a failing dedupe
store fails the batch (retriable), so it is handled again and, thanks to the store's ordering,
gets the same verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from newsflow.clock import Clock, utc_now
from newsflow.kafka import Message, Publisher, Record
from schemas import ArticleEvent, DeadLetter, RawPage
from services.enrich.envelope import parse_page, raw_text
from services.enrich.process import PageProcessor, Rejection, dead_letter

log = structlog.get_logger("newsflow.enrich")


@dataclass(frozen=True, slots=True)
class EnrichTopics:
    """Where enrich writes."""

    events: str
    dead_letters: str


def _origin(message: Message) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


def event_record(topic: str, event: ArticleEvent) -> Record:
    """An ArticleEvent as a record keyed by event id (so a key's events stay in order)."""
    return Record(
        topic=topic,
        key=event.event_id.encode(),
        value=event.model_dump_json().encode(),
        headers=(("page_id", event.page_id.encode()), ("content-type", b"application/json")),
    )


def dead_letter_record(topic: str, letter: DeadLetter) -> Record:
    """A DeadLetter as a record keyed by page id when known."""
    return Record(
        topic=topic,
        key=letter.page_id.encode() if letter.page_id else None,
        value=letter.model_dump_json().encode(),
        headers=(("reason", letter.reason.value.encode()),),
    )


class EnrichHandler:
    """Handles one consumed batch of raw pages (a `newsflow.kafka.Handler`)."""

    def __init__(
        self,
        processor: PageProcessor,
        publisher: Publisher,
        topics: EnrichTopics,
        *,
        emit_duplicates: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        self._processor = processor
        self._publisher = publisher
        self._topics = topics
        self._emit_duplicates = emit_duplicates
        self._clock = clock

    async def __call__(self, messages: Sequence[Message]) -> None:
        records: list[Record] = []
        pages: list[RawPage] = []
        sources: list[Message] = []
        for message in messages:
            parsed = parse_page(message.value)
            if isinstance(parsed, Rejection):
                records.append(self._letter(parsed, message, page_id=None))
                log.warning(
                    "page rejected", reason=parsed.reason.value, partition=message.partition,
                    offset=message.offset,
                )
                continue
            pages.append(parsed)
            sources.append(message)
        outcomes = await self._processor.process(pages)
        for outcome, message in zip(outcomes, sources, strict=True):
            if outcome.rejection is not None:
                records.append(self._letter(outcome.rejection, message, outcome.page.page_id))
                log.warning(
                    "page rejected", reason=outcome.rejection.reason.value,
                    page_id=outcome.page.page_id, partition=message.partition,
                    offset=message.offset,
                )
                continue
            for event in outcome.events:
                if event.duplicate_of is None or self._emit_duplicates:
                    records.append(event_record(self._topics.events, event))
            log.debug(
                "page enriched", page_id=outcome.page.page_id, articles=len(outcome.events),
                originals=len(outcome.originals), partition=message.partition,
                offset=message.offset,
            )
        await self._publisher.publish(records)

    def _letter(self, rejection: Rejection, message: Message, page_id: str | None) -> Record:
        letter = dead_letter(
            rejection, raw=raw_text(message.value), page_id=page_id,
            failed_at=self._clock(), origin=_origin(message),
        )
        return dead_letter_record(self._topics.dead_letters, letter)
