"""The enrich shell's records: what goes on articles.events for an event."""

from __future__ import annotations

from schemas import ArticleEvent
from services.enrich.worker import event_record
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
