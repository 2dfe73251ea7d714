"""Run the ingest service: a Kafka publisher behind a uvicorn server, stopped gracefully.

On SIGTERM or SIGINT uvicorn stops accepting connections and lets the requests in flight
finish (up to `shutdown_grace_seconds`); only then does the app's lifespan flush and close
the producer, so every 202 already given stays true. With no bootstrap servers configured,
an embedded broker is started for the process's lifetime (development only: it keeps
records in memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
import uvicorn
from aiokafka.errors import KafkaError
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from newsflow.broker import EmbeddedBroker
from newsflow.kafka import KafkaAdapterError, KafkaPublisher, ensure_topics
from newsflow.logs import configure_logging
from newsflow.settings import KafkaSettings
from newsflow.tasks import cancel_and_wait
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings

_log = structlog.get_logger("newsflow.ingest")


def build_server(
    settings: IngestSettings,
    kafka_settings: KafkaSettings,
    registry: CollectorRegistry | None = None,
) -> uvicorn.Server:
    """A uvicorn server for the ingest app whose lifespan starts and finally flushes the publisher.

    `kafka_settings.bootstrap_servers` must be set; `serve` fills it for the embedded broker.
    """
    publisher = KafkaPublisher(kafka_settings, client_id="newsflow-ingest")
    topic = kafka_settings.topic_pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # With the cluster up, ingest serves once connected, as ever. Without it, it serves
        # anyway and keeps trying: /readyz is red and pages get 503 with Retry-After until the
        # cluster answers, as when it goes away later.
        connecting: asyncio.Task[None] | None = None
        error = await try_connect(kafka_settings, topic, publisher)
        if error is not None:
            _log.warning("broker unreachable; ingest answers 503 until it is", error=str(error))
            connecting = asyncio.create_task(keep_connecting(kafka_settings, topic, publisher))
        _log.info("ingest started", host=settings.http_host, port=settings.http_port, topic=topic)
        try:
            yield
        finally:
            # Runs after uvicorn has drained the requests in flight: nothing publishes any more.
            if connecting is not None:
                await cancel_and_wait(connecting)
            await publisher.stop()
            _log.info("ingest stopped")

    app = create_app(
        settings, publisher, registry or CollectorRegistry(), topic=topic, lifespan=lifespan
    )
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        log_config=None,  # structlog owns logging; uvicorn's own config would replace it
        access_log=False,  # the request metrics count every answer; per-request lines are noise
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return uvicorn.Server(config)


async def try_connect(
    kafka_settings: KafkaSettings, topic: str, publisher: KafkaPublisher
) -> Exception | None:
    """Create the topic if missing and start the publisher; the error if the cluster did not
    answer, else None."""
    try:
        await ensure_topics(kafka_settings, [topic])
        await publisher.start()
    except (KafkaError, KafkaAdapterError) as exc:
        return exc
    return None


async def keep_connecting(
    kafka_settings: KafkaSettings, topic: str, publisher: KafkaPublisher, *, most_s: float = 5.0
) -> None:
    """`try_connect` again until it works, waiting a tenth of a second, doubling up to `most_s`."""
    wait = 0.1
    while await try_connect(kafka_settings, topic, publisher) is not None:
        await asyncio.sleep(wait)
        wait = min(wait * 2, most_s)
    _log.info("broker connected", bootstrap=kafka_settings.bootstrap_servers)


async def serve(settings: IngestSettings, kafka_settings: KafkaSettings) -> None:
    """Serve ingest until SIGTERM or SIGINT, then drain requests and flush the producer.

    An unreachable cluster does not stop it (see `keep_connecting`); a port it cannot bind does:
    uvicorn logs why and raises `SystemExit(3)`, its startup-failure status.
    """
    async with AsyncExitStack() as stack:
        if kafka_settings.bootstrap_servers is None:
            broker = await stack.enter_async_context(EmbeddedBroker())
            _log.warning("no KAFKA_BOOTSTRAP_SERVERS: using an in-memory embedded broker")
            kafka_settings = kafka_settings.model_copy(
                update={"bootstrap_servers": broker.bootstrap_servers}
            )
        await build_server(settings, kafka_settings).serve()


def main() -> None:
    """Read the settings from the environment and serve."""
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    asyncio.run(serve(settings, KafkaSettings()))


if __name__ == "__main__":
    main()
