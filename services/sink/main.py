"""Running the sink service: writer, dead-letter producer, consumer group, signals."""

from __future__ import annotations

import structlog

from newsflow.kafka import BatchConsumer, KafkaPublisher
from newsflow.settings import KafkaSettings
from services.sink import make_writer
from services.sink.settings import SinkSettings
from services.sink.worker import SinkHandler

log = structlog.get_logger("newsflow.sink")


async def serve(settings: SinkSettings, kafka: KafkaSettings) -> None:
    """Consume `articles.events` until SIGTERM/SIGINT; every batch is durable before its commit."""
    writer = make_writer(settings)
    publisher = KafkaPublisher(kafka, client_id="newsflow-sink")
    await writer.start()
    try:
        await publisher.start()
        try:
            handler = SinkHandler(writer, publisher, kafka.topic_dead_letters)
            consumer = BatchConsumer(
                kafka, [kafka.topic_events], settings.consumer_group, handler, client_id="newsflow-sink"
            )
            consumer.install_signal_handlers()
            log.info("sink started", writer=settings.sink, topic=kafka.topic_events)
            await consumer.run()
        finally:
            await publisher.stop()
    finally:
        await writer.close()
        log.info("sink stopped")
