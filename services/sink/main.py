"""Running the sink service: writer, dead-letter producer, consumer group, /metrics, probes."""

from __future__ import annotations

import structlog
from prometheus_client import CollectorRegistry

from newsflow.health import Health, beating
from newsflow.kafka import KafkaPublisher
from newsflow.metrics import exported
from newsflow.service import consume_until_stopped
from newsflow.settings import KafkaSettings
from services.sink import make_writer
from services.sink.metrics import SinkMetrics, writer_label
from services.sink.settings import SinkSettings
from services.sink.worker import SinkHandler

log = structlog.get_logger("newsflow.sink")


async def serve(
    settings: SinkSettings, kafka: KafkaSettings, registry: CollectorRegistry | None = None
) -> None:
    """Consume `articles.events` until SIGTERM/SIGINT; every batch is durable before its commit.

    Metrics go on `registry` (a new one by default), served at the settings' metrics port
    with /healthz and /readyz: ready once the writer and the dead-letter publisher are up
    and the consumer has joined its group, not ready again from SIGTERM on.
    """
    registry = registry if registry is not None else CollectorRegistry()
    writer = make_writer(settings)
    metrics = SinkMetrics(registry, writer=writer_label(writer))
    health = Health(("writer", "publisher", "consumer"))
    async with (
        exported(
            registry,
            host=settings.metrics_host,
            port=settings.metrics_port,
            url_file=settings.metrics_url_file,
            health=health,
        ),
        beating(health),
    ):
        publisher = KafkaPublisher(kafka, client_id="newsflow-sink", linger_ms=0)
        await writer.start()
        health.started("writer")
        try:
            await publisher.start()
            health.started("publisher")
            try:
                handler = SinkHandler(writer, publisher, kafka.topic_dead_letters, metrics=metrics)
                log.info("sink started", writer=settings.sink, topic=kafka.topic_events)
                # Events are small: batches as large as one append cost less per event
                # than the 200 records of enrich's page batches (benchmarks.sink_drain).
                await consume_until_stopped(
                    kafka.model_copy(update={"max_batch": settings.sink_batch_max}),
                    kafka.topic_events,
                    settings.consumer_group,
                    handler,
                    client_id="newsflow-sink",
                    health=health,
                    lag_gauge=metrics.consumer_lag,
                )
            finally:
                health.drain()
                await publisher.stop()
        finally:
            await writer.close()
            log.info("sink stopped")
