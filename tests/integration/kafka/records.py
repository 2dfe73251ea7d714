"""What the Kafka adapter's tests share: publishing records, and handler errors of both kinds."""

from __future__ import annotations

from collections.abc import Sequence

from newsflow.kafka import KafkaPublisher, Record
from newsflow.settings import KafkaSettings


class Broken(Exception):
    """A handler error the consumer does not retry."""

    retriable = False


class Flaky(Exception):
    """A handler error the consumer retries."""

    retriable = True


async def publish(settings: KafkaSettings, records: Sequence[Record]) -> None:
    """Publish `records` with a producer of their own, acknowledged when this returns."""
    publisher = KafkaPublisher(settings)
    await publisher.start()
    try:
        await publisher.publish(records)
    finally:
        await publisher.stop()
