"""`python -m services.ingest.main` as a process: configured by environment, drained on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator

import httpx

from newsflow.broker import EmbeddedBroker, free_port
from newsflow.settings import KafkaSettings
from tests.integration.ingest.conftest import read_records

HEADERS = {
    "content-type": "text/plain; charset=utf-8",
    "x-source": "Daily8",
    "x-fetched-at": "2025-06-21T18:00:00Z",
}


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=1.0) as client:
        while True:
            assert process.returncode is None, "ingest exited during startup"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def _wait_refused(url: str) -> None:
    """Return once a fresh connection to `url` is refused: the listener has closed."""
    while True:
        async with httpx.AsyncClient(base_url=url, timeout=1.0) as client:
            try:
                await client.get("/healthz")
            except httpx.ConnectError:
                return
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # Queued by the kernel as the listener closed, then dropped: not refused yet.
                pass
        await asyncio.sleep(0.05)


async def _wait_body_in_flight(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2.0) as client:
        while True:
            metrics = (await client.get("/metrics")).text
            for line in metrics.splitlines():
                if line.startswith("newsflow_ingest_in_flight_bytes ") and float(line.split()[1]):
                    return
            await asyncio.sleep(0.05)


async def test_sigterm_finishes_requests_in_flight_then_flushes(
    ingest_kafka: KafkaSettings,
) -> None:
    """On SIGTERM ingest refuses new connections, answers a half-sent request 202, then exits."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": ingest_kafka.bootstrap_servers or "",
        "NEWSFLOW_KAFKA_TOPIC_PAGES": ingest_kafka.topic_pages,
        "NEWSFLOW_HTTP_HOST": "127.0.0.1",
        "NEWSFLOW_HTTP_PORT": str(port),
        "NEWSFLOW_INGEST_TOKENS": "",
        "NEWSFLOW_LOG_LEVEL": "INFO",
    }
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.ingest.main", env=env, stdout=log, stderr=log
        )
        try:
            async with asyncio.timeout(30):
                await _wait_healthy(url, process)

            release = asyncio.Event()

            async def half_now_half_later() -> AsyncIterator[bytes]:
                yield b"First half of the page, "
                await release.wait()
                yield b"second half after SIGTERM."

            async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
                in_flight = asyncio.create_task(
                    client.post("/v1/pages", content=half_now_half_later(), headers=HEADERS)
                )
                # SIGTERM only once the handler holds the first half (a fixed sleep raced on
                # a loaded machine: a request not yet read is simply refused).
                async with asyncio.timeout(20):
                    await _wait_body_in_flight(url)
                process.send_signal(signal.SIGTERM)
                async with asyncio.timeout(10):
                    await _wait_refused(url)
                release.set()
                response = await asyncio.wait_for(in_flight, 30)
            returncode = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        log.seek(0)
        events = [
            json.loads(line)["event"] for line in log.read().splitlines() if line.startswith(b"{")
        ]

    assert response.status_code == 202
    # uvicorn re-raises the signal it drained on, so the process ends as SIGTERM asks.
    assert returncode == -signal.SIGTERM
    assert events.index("page accepted") < events.index("ingest stopped")
    [record] = await read_records(ingest_kafka, 1)
    assert record.key == response.json()["page_id"].encode()
    assert json.loads(record.value)["body"] == "First half of the page, second half after SIGTERM."


async def test_ingest_started_before_its_broker_answers_503_until_the_broker_comes(
    kafka_settings: KafkaSettings,
) -> None:
    """Nothing listens at the bootstrap address: ingest serves anyway, unready, and refuses
    pages with 503 and Retry-After; once a broker listens there, it takes them."""
    broker_port, port = free_port(), free_port()
    kafka = kafka_settings.model_copy(update={"bootstrap_servers": f"127.0.0.1:{broker_port}"})
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers or "",
        "NEWSFLOW_KAFKA_TOPIC_PAGES": kafka.topic_pages,
        "NEWSFLOW_HTTP_HOST": "127.0.0.1",
        "NEWSFLOW_HTTP_PORT": str(port),
        "NEWSFLOW_INGEST_TOKENS": "",
    }
    url = f"http://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ingest.main", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            await _wait_healthy(url, process)
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            unready = await client.get("/readyz")
            refused = await client.post("/v1/pages", content=b"A page.", headers=HEADERS)
            async with EmbeddedBroker(broker_port):
                async with asyncio.timeout(60):
                    while (await client.get("/readyz")).status_code != 200:  # noqa: ASYNC110 - polls over HTTP
                        await asyncio.sleep(0.2)
                taken = await client.post("/v1/pages", content=b"A page.", headers=HEADERS)
                [record] = await read_records(kafka, 1)
                process.send_signal(signal.SIGTERM)
                returncode = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert unready.status_code == 503
    assert (refused.status_code, refused.json()["error"]) == (503, "broker_unavailable")
    assert refused.headers["retry-after"]
    assert taken.status_code == 202
    assert record.key == taken.json()["page_id"].encode()
    assert returncode == -signal.SIGTERM
