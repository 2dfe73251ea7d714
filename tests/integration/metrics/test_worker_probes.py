"""The probes on a real enrich or sink process's metrics port: not ready until it has joined.

Each worker runs as `python -m newsflow.cli <service>`, as `newsflow run` and the image run it,
on the session broker. Its bootstrap address is a gated TCP proxy in front of the broker
that holds every connection until the test opens it, so the worker is reliably caught
starting: serving its metrics port, alive, and not ready. Once the gate opens, the worker's
clients bootstrap (then talk to the broker directly), its consumer joins the group, and
/readyz turns 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from newsflow.broker import EmbeddedBroker, die_with_parent
from newsflow.kafka import KafkaPublisher, Record, ensure_topics
from newsflow.settings import KafkaSettings
from schemas import article_event_json
from tests.unit.sink.factories import make_event

pytestmark = pytest.mark.integration

WAIT_S = 60.0


class _GatedProxy:
    """A loopback TCP proxy to `target` that holds every connection until `open()`."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self._target = (host, int(port))
        self._gate = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.held = 0
        """Connections accepted so far (each waits for the gate)."""

    @property
    def address(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    def open(self) -> None:
        self._gate.set()

    async def __aenter__(self) -> _GatedProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.held += 1
        await self._gate.wait()
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    finally:
        sink.close()


@contextlib.asynccontextmanager
async def _worker(
    service: str, kafka: KafkaSettings, bootstrap: str, tmp_path: Path, group: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `newsflow <service>` against `bootstrap`; SIGTERM it on exit (SIGKILL if it hangs)."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "NEWSFLOW_KAFKA_TOPIC_PAGES": kafka.topic_pages,
        "NEWSFLOW_KAFKA_TOPIC_EVENTS": kafka.topic_events,
        "NEWSFLOW_KAFKA_TOPIC_DEAD_LETTERS": kafka.topic_dead_letters,
        # The held bootstrap must not time out while the test looks at the starting worker.
        "NEWSFLOW_KAFKA_REQUEST_TIMEOUT_MS": "30000",
        "NEWSFLOW_CONSUMER_GROUP": group,
        "NEWSFLOW_METRICS_PORT": "0",
        "NEWSFLOW_METRICS_URL_FILE": str(tmp_path / f"{service}.url"),
        "NEWSFLOW_DATA_DIR": str(tmp_path / "data"),
        "NEWSFLOW_DEDUPE_STORE": "memory",
        "NEWSFLOW_SINK": "jsonl",
        "NEWSFLOW_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "newsflow.cli", service, env=env, preexec_fn=die_with_parent
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(WAIT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def _announced(url_file: Path) -> str | None:
    return url_file.read_text(encoding="utf-8").strip() if url_file.exists() else None


async def _metrics_url(url_file: Path, process: asyncio.subprocess.Process) -> str:
    async with asyncio.timeout(WAIT_S):
        # Polls a file another process writes: there is no event to wait on.
        while (url := _announced(url_file)) is None:
            assert process.returncode is None, "the worker exited before serving"
            await asyncio.sleep(0.05)
    return url


@pytest.mark.parametrize("service", ["sink", "enrich"])
async def test_readyz_is_503_until_the_worker_has_joined_then_200(
    service: str,
    kafka_broker: EmbeddedBroker,
    kafka_settings: KafkaSettings,
    unique_name: str,
    tmp_path: Path,
) -> None:
    """While its broker connection is held the worker answers /healthz 200, /readyz 503 and
    /metrics 200; once it has joined its group /readyz is 200; other paths are 404."""
    k = kafka_settings
    await ensure_topics(k, [k.topic_pages, k.topic_events, k.topic_dead_letters], partitions=2)
    async with (
        _GatedProxy(kafka_broker.bootstrap_servers) as proxy,
        _worker(service, k, proxy.address, tmp_path, f"probes-{unique_name}") as process,
        httpx.AsyncClient(timeout=5.0) as http,
    ):
        metrics_url = await _metrics_url(tmp_path / f"{service}.url", process)
        base = metrics_url.removesuffix("/metrics")
        async with asyncio.timeout(WAIT_S):
            while proxy.held == 0:  # noqa: ASYNC110 - the worker connects in its own time
                await asyncio.sleep(0.05)

        starting = await http.get(f"{base}/readyz")
        assert starting.status_code == 503
        assert starting.text.startswith("starting: waiting for consumer")
        assert (await http.get(f"{base}/healthz")).status_code == 200
        scraped = await http.get(metrics_url)
        assert scraped.status_code == 200
        names = {family.name for family in text_string_to_metric_families(scraped.text)}
        assert "newsflow_build_info" in names

        proxy.open()
        async with asyncio.timeout(WAIT_S):
            while (ready := await http.get(f"{base}/readyz")).status_code != 200:
                assert ready.status_code == 503
                assert process.returncode is None, "the worker exited before joining"
                await asyncio.sleep(0.1)
        assert ready.text == "ready\n"
        assert (await http.get(f"{base}/healthz")).text == "ok\n"
        for path in ("/", "/nope", "/readyz/extra", "/favicon.ico"):
            assert (await http.get(base + path)).status_code == 404, path

        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT_S):
            assert await process.wait() == 0


def _family(text: str, name: str) -> list[Sample]:
    """The samples of one metric family in a /metrics scrape (none if it is absent)."""
    for family in text_string_to_metric_families(text):
        if family.name == name:
            return family.samples
    return []


async def test_the_sink_takes_up_to_its_own_batch_size_from_kafka(
    kafka_broker: EmbeddedBroker,
    kafka_settings: KafkaSettings,
    unique_name: str,
    tmp_path: Path,
) -> None:
    """Over a backlog the sink's batches pass NEWSFLOW_KAFKA_MAX_BATCH (200) up to
    NEWSFLOW_SINK_BATCH_MAX (500 by default), and never pass it."""
    k = kafka_settings
    await ensure_topics(k, [k.topic_pages, k.topic_events, k.topic_dead_letters], partitions=1)
    events = [make_event(n) for n in range(1500)]
    publisher = KafkaPublisher(k, client_id="probe-fill", linger_ms=0)
    await publisher.start()
    try:
        await publisher.publish(
            [
                Record(k.topic_events, event.event_id.encode(), article_event_json(event))
                for event in events
            ]
        )
    finally:
        await publisher.stop()
    async with (
        _worker("sink", k, kafka_broker.bootstrap_servers, tmp_path, f"batch-{unique_name}") as p,
        httpx.AsyncClient(timeout=5.0) as http,
    ):
        metrics_url = await _metrics_url(tmp_path / "sink.url", p)
        async with asyncio.timeout(WAIT_S):
            # Counts move once a batch is durable, its batch size with them.
            while _events_written(scraped := (await http.get(metrics_url)).text) < len(events):
                assert p.returncode is None, "the sink exited"
                await asyncio.sleep(0.1)
    buckets = {
        float(sample.labels["le"]): sample.value
        for sample in _family(scraped, "newsflow_sink_batch_records")
        if sample.name.endswith("_bucket")
    }
    assert buckets[500.0] == buckets[float("inf")]  # none above 500
    assert buckets[200.0] < buckets[500.0]  # some above the Kafka default of 200
    assert _written(tmp_path) == len(events)


def _events_written(text: str) -> float:
    """The sink's events written so far, from a /metrics scrape."""
    family = _family(text, "newsflow_sink_events_written")
    return sum(sample.value for sample in family if sample.name.endswith("_total"))


def _written(tmp_path: Path) -> int:
    """Lines the sink has written under the test's data directory."""
    files = (tmp_path / "data" / "articles").rglob("*.jsonl")
    return sum(path.read_bytes().count(b"\n") for path in files)
