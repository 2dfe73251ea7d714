"""The enrich shell's records: what goes on articles.events for an event."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from newsflow.kafka import InMemoryPublisher, Message
from schemas import ArticleEvent, DeadLetter, DeadLetterReason, RawPage
from schemas.headers import ACCEPTED_NS
from services.enrich.dedupe import Deduper, InMemoryDedupeStore
from services.enrich.process import PageProcessor
from services.enrich.worker import EnrichHandler, EnrichTopics, event_record
from tests.unit.metrics.pages import FETCHED_AT, news_page
from tests.unit.sink.factories import make_event


def test_an_event_record_holds_the_event_json_keyed_by_its_id() -> None:
    """The value is model_dump_json() in UTF-8 (non-ASCII text included), keyed by event_id."""
    event = make_event(3)
    assert not event.body.isascii()
    record = event_record("articles.events", event)
    assert record.value == event.model_dump_json().encode()
    assert record.key == event.event_id.encode()
    assert ArticleEvent.model_validate_json(record.value) == event


def test_an_event_record_carries_its_page_and_when_ingest_published_the_page() -> None:
    """Headers: the page id always, the page record's timestamp when known."""
    event = make_event(4)
    stamped = dict(event_record("articles.events", event, 1_750_000_000_123).headers)
    assert stamped["page_id"] == event.page_id.encode()
    assert stamped["ingested_at_ms"] == b"1750000000123"
    assert "ingested_at_ms" not in dict(event_record("articles.events", event).headers)
    assert "ingested_at_ms" not in dict(event_record("articles.events", event, -1).headers)


def _page_record(page_id: str, partition: int, offset: int, **order: int) -> Message:
    headers = ((ACCEPTED_NS, str(order["ns"]).encode()),) if "ns" in order else ()
    value = news_page(page_id).model_dump_json().encode()
    stamp = order.get("ms", 0)
    return Message("pages.raw", partition, offset, None, value, stamp, headers)


def _handler(publisher: InMemoryPublisher, deduper: Deduper | None = None) -> EnrichHandler:
    return EnrichHandler(
        PageProcessor(deduper or Deduper(InMemoryDedupeStore())),
        publisher,
        EnrichTopics(events="articles.events", dead_letters="pages.dlq"),
    )


async def _owners(batch: list[Message]) -> set[str]:
    # The pages the batch's published events came from (duplicates are not published).
    publisher = InMemoryPublisher()
    await _handler(publisher).handle(batch)
    return {dict(record.headers)["page_id"].decode() for record in publisher.records}


@pytest.mark.parametrize("order", ["ns", "ms"])
async def test_a_batch_is_judged_in_the_order_ingest_accepted_its_pages(order: str) -> None:
    """Two pages with the same articles, on partitions 0 and 3: the one ingest accepted first
    is the original, whichever partition the batch lists first."""
    first_accepted, then = {order: 1_000}, {order: 2_000}
    later_listed_first = [
        _page_record("page-later", 0, 7, **then),
        _page_record("page-first", 3, 2, **first_accepted),
    ]
    assert await _owners(later_listed_first) == {"page-first"}
    assert await _owners(later_listed_first[::-1]) == {"page-first"}


OTHER_BODY = "\n".join(
    [
        "Related Articles",
        "Lake Gazette",
        "1 hour ago",
        "- Lake Gazette",
        "Library extends opening hours for exam season",
        "The central library will stay open until midnight on weekdays through June, the city"
        " said on Friday, after students asked for more quiet places to revise.",
    ]
)


def _record(page: RawPage, partition: int, offset: int) -> Message:
    return Message("pages.raw", partition, offset, None, page.model_dump_json().encode(), 0)


async def test_a_partition_behind_another_still_meets_the_articles_it_duplicates() -> None:
    """Partition 1 reaching 12 days on does not make dedupe forget what partition 0's next
    page, fetched 6 days on, duplicates: the shell tells dedupe which partition each page
    comes from, and the store keeps what the slowest partition needs."""
    publisher = InMemoryPublisher()
    handler = _handler(publisher, Deduper(InMemoryDedupeStore(), min_records=0))
    ahead = RawPage(
        page_id="page-ahead",
        source="Lake Gazette",
        fetched_at=FETCHED_AT + timedelta(days=12),
        body=OTHER_BODY,
    )
    await handler.handle([_record(news_page("page-first"), 0, 0)])
    await handler.handle([_record(ahead, 1, 0)])
    await handler.handle(
        [_record(news_page("page-again", fetched_at=FETCHED_AT + timedelta(days=6)), 0, 1)]
    )
    published = [dict(record.headers)["page_id"].decode() for record in publisher.records]
    assert published == ["page-first", "page-first", "page-ahead"]


async def test_a_page_dated_in_year_one_is_a_dead_letter_and_the_rest_of_its_batch_lands() -> None:
    """A record on the raw topic whose fetched_at is year 1 (ingest refuses it; another producer
    may not) becomes an invalid_page dead letter; before, dedupe's window arithmetic raised
    OverflowError and the batch failed on every attempt."""
    broken = news_page("page-broken").model_dump(mode="json")
    broken["fetched_at"] = "0001-01-01T00:05:00Z"
    batch = [
        _page_record("page-before", 0, 1, ns=1_000),
        Message("pages.raw", 0, 2, None, orjson.dumps(broken), 0, ((ACCEPTED_NS, b"2000"),)),
        _record(
            RawPage(
                page_id="page-other", source="Lake Gazette", fetched_at=FETCHED_AT, body=OTHER_BODY
            ),
            1,
            5,
        ),
    ]
    publisher = InMemoryPublisher()

    await _handler(publisher).handle(batch)

    letters = [r for r in publisher.records if r.topic == "pages.dlq"]
    events = [r for r in publisher.records if r.topic == "articles.events"]
    assert [DeadLetter.model_validate_json(r.value).reason for r in letters] == [
        DeadLetterReason.INVALID_PAGE
    ]
    assert "fetched_at" in DeadLetter.model_validate_json(letters[0].value).message
    assert DeadLetter.model_validate_json(letters[0].value).page_id == "page-broken"
    assert letters[0].key == b"page-broken"
    assert {dict(r.headers)["page_id"] for r in events} == {b"page-before", b"page-other"}
