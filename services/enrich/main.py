"""Running the enrich service: dedupe store, producer, consumer group, /metrics, probes, signals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from newsflow.health import Health, beating
from newsflow.kafka import KafkaPublisher
from newsflow.metrics import exported
from newsflow.service import consume_until_stopped
from newsflow.settings import KafkaSettings
from services.enrich.dedupe import DedupeStore, InMemoryDedupeStore
from services.enrich.dedupe_redis import RedisDedupeStore
from services.enrich.dedupe_sqlite import SqliteDedupeStore
from services.enrich.language import load_language_model
from services.enrich.metrics import EnrichMetrics, TimedDedupeStore
from services.enrich.process import PageProcessor
from services.enrich.settings import EnrichSettings
from services.enrich.worker import EnrichHandler, EnrichTopics, accepted_key

log = structlog.get_logger("newsflow.enrich")


@asynccontextmanager
async def open_dedupe_store(settings: EnrichSettings) -> AsyncIterator[DedupeStore]:
    """The dedupe store the settings name, closed on exit."""
    if settings.dedupe_store == "memory":
        yield InMemoryDedupeStore()
    elif settings.dedupe_store == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        async with await SqliteDedupeStore.open(settings.sqlite_path) as store:
            yield store
    else:
        client = Redis.from_url(settings.redis_url)
        try:
            yield RedisDedupeStore(client, prefix=settings.redis_prefix)
        finally:
            await client.aclose()


async def serve(
    settings: EnrichSettings, kafka: KafkaSettings, registry: CollectorRegistry | None = None
) -> None:
    """Consume `pages.raw` until SIGTERM/SIGINT, then finish the batch, commit and leave.

    Metrics go on `registry` (a new one by default), served at the settings' metrics port
    with /healthz and /readyz: ready once the publisher is up and the consumer has joined
    its group, not ready again from SIGTERM on.
    """
    registry = registry if registry is not None else CollectorRegistry()
    metrics = EnrichMetrics(registry)
    health = Health(("publisher", "consumer"))
    async with (
        exported(
            registry,
            host=settings.metrics_host,
            port=settings.metrics_port,
            url_file=settings.metrics_url_file,
            health=health,
        ),
        beating(health),
        open_dedupe_store(settings) as store,
    ):
        await asyncio.to_thread(load_language_model, settings.model_cache_dir)
        deduper = settings.deduper(TimedDedupeStore(store, metrics))
        publisher = KafkaPublisher(kafka, client_id="newsflow-enrich", linger_ms=0)
        await publisher.start()
        health.started("publisher")
        try:
            handler = EnrichHandler(
                PageProcessor(deduper),
                publisher,
                EnrichTopics(events=kafka.topic_events, dead_letters=kafka.topic_dead_letters),
                emit_duplicates=settings.emit_duplicates,
                metrics=metrics,
            )
            log.info("enrich started", store=settings.dedupe_store, topic=kafka.topic_pages)
            await consume_until_stopped(
                kafka,
                kafka.topic_pages,
                settings.consumer_group,
                handler,
                client_id="newsflow-enrich",
                health=health,
                lag_gauge=metrics.consumer_lag,
                order=accepted_key,
            )
        finally:
            health.drain()
            await publisher.stop()
            log.info("enrich stopped")
