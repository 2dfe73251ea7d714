"""The in-memory Publisher and the adapter's error tree."""

from __future__ import annotations

import pytest

from newsflow.kafka import (
    InMemoryPublisher,
    KafkaAdapterError,
    KafkaPublisher,
    Publisher,
    PublishRejected,
    PublishUnavailable,
    Record,
    TopicSetupFailed,
)
from newsflow.settings import KafkaSettings


async def test_in_memory_publisher_keeps_records_in_order() -> None:
    """InMemoryPublisher stores every published record, in publish order."""
    publisher: Publisher = InMemoryPublisher()
    first = [Record("articles.events", b"a", b"1"), Record("pages.dlq", None, b"2")]
    await publisher.publish(first)
    await publisher.publish([Record("articles.events", b"b", b"3", (("h", b"v"),))])
    assert isinstance(publisher, InMemoryPublisher)
    assert [r.value for r in publisher.records] == [b"1", b"2", b"3"]
    assert publisher.records[2].headers == (("h", b"v"),)


def test_retriable_is_read_from_the_class() -> None:
    """Only an unavailable broker is worth retrying; refusals are not."""
    assert PublishUnavailable("x").retriable is True
    assert PublishRejected("x").retriable is False
    assert TopicSetupFailed("x").retriable is False
    assert issubclass(PublishUnavailable, KafkaAdapterError)


async def test_publishing_before_start_is_unavailable() -> None:
    """A KafkaPublisher that was never started raises PublishUnavailable and is not ready."""
    publisher = KafkaPublisher(KafkaSettings(bootstrap_servers="127.0.0.1:9"))
    assert await publisher.ready() is False
    with pytest.raises(PublishUnavailable, match="not started"):
        await publisher.publish([Record("pages.raw", None, b"x")])
