"""Throughput of single-page POSTs to ingest, acknowledged by the embedded broker, on loopback.

Ingest runs as its own process (`python -m services.ingest.main`), the broker as another;
this process is the client: `--requests` POSTs of a `--page-kib` page from `--concurrency`
workers over keep-alive connections, after a warm-up. Every request must be answered 202,
and every page is then read back from the topic. The client shares the machine, so the
server's CPU time per request (from /proc, Linux) is printed too. Run:

    .venv/bin/python -m tests.integration.ingest.bench_throughput --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from itertools import count

import httpx

from newsflow.broker import EmbeddedBroker, free_port
from newsflow.settings import KafkaSettings
from tests.integration.ingest.conftest import read_records


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_healthy(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=1.0) as client:
        while True:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.1)


async def _load(url: str, requests: int, concurrency: int, page_kib: int, kind: str) -> list[float]:
    filler = ("newsflow " * (page_kib * 1024 // 9 + 1))[: page_kib * 1024 - 40]
    numbers = count()
    latencies: list[float] = []

    async def worker(share: int) -> None:
        # One client (one keep-alive connection) per worker: a shared httpx pool serialises
        # its workers on the pool's lock and becomes the bottleneck of the measurement.
        async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
            for _ in range(share):
                body = f"{next(numbers):012d} {filler}"
                started = time.perf_counter()
                if kind == "json":
                    page = {"source": "bench", "fetched_at": "2025-06-21T18:00:00Z", "body": body}
                    response = await client.post(
                        "/v1/pages", content=json.dumps(page), headers=_JSON
                    )
                else:
                    response = await client.post("/v1/pages", content=body.encode(), headers=_RAW)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 202:
                    raise RuntimeError(f"{response.status_code}: {response.text}")

    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(worker(share) for share in shares))
    return latencies


_JSON = {"content-type": "application/json"}
_RAW = {
    "content-type": "text/plain; charset=utf-8",
    "x-source": "bench",
    "x-fetched-at": "2025-06-21T18:00:00Z",
}


async def main(args: argparse.Namespace) -> None:
    """Start broker and ingest, warm up, measure, verify delivery, print one summary line."""
    async with EmbeddedBroker() as broker:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_pages="pages.bench")
        port = free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "NEWSFLOW_KAFKA_TOPIC_PAGES": kafka.topic_pages,
            "NEWSFLOW_HTTP_HOST": "127.0.0.1",
            "NEWSFLOW_HTTP_PORT": str(port),
            "NEWSFLOW_LOG_LEVEL": "WARNING",
        }
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.ingest.main", env=env
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await asyncio.wait_for(_wait_healthy(url), 30)
            await _load(url, args.warmup, args.concurrency, args.page_kib, args.kind)
            cpu_before = _cpu_seconds(server.pid)
            client_before = time.process_time()
            started = time.perf_counter()
            latencies = await _load(url, args.requests, args.concurrency, args.page_kib, args.kind)
            elapsed = time.perf_counter() - started
            server_cpu = _cpu_seconds(server.pid) - cpu_before
            client_cpu = time.process_time() - client_before
            arrived = await read_records(kafka, args.warmup + args.requests, settle_ms=1000)
        finally:
            server.terminate()
            await server.wait()
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"kind={args.kind} requests={args.requests} concurrency={args.concurrency} "
        f"page={args.page_kib}KiB elapsed={elapsed:.2f}s rate={args.requests / elapsed:.0f} req/s "
        f"p50={quantiles[49] * 1000:.1f}ms p99={quantiles[98] * 1000:.1f}ms "
        f"server_cpu={server_cpu / args.requests * 1000:.2f}ms/req "
        f"client_cpu={client_cpu / args.requests * 1000:.2f}ms/req "
        f"arrived={len(arrived)}/{args.warmup + args.requests}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--page-kib", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--kind", choices=["json", "raw"], default="json")
    asyncio.run(main(parser.parse_args()))
