"""Metrics plumbing every newsflow process shares: base collectors, the /metrics server, lag.

Each service builds its own metrics on an injected `CollectorRegistry` (never the global
one) and calls `register_base_metrics` on it: `newsflow_build_info` plus prometheus_client's
process and platform collectors. Workers without an HTTP app of their own serve the registry
with `MetricsServer` (a threading WSGI server in a daemon thread, stoppable), on 127.0.0.1
by default; port 0 picks a free port, which `MetricsServer.url` then names. Given a
`Health`, the same port answers the /healthz and /readyz probes (`newsflow.health`);
any other path is a 404, where prometheus_client's own server answers every path.
Consumer lag is copied from the `BatchConsumer` into a gauge by `watch_lag`, a task on the
event loop, so the scrape thread never touches aiokafka state.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import socket
import socketserver
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Final, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

import structlog
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    PlatformCollector,
    ProcessCollector,
)

from newsflow.health import Health, probe_app
from newsflow.kafka import PartitionKey

log = structlog.get_logger("newsflow.metrics")

SECOND_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0
)  # fmt: skip
"""Latency buckets: sub-millisecond store calls up to a slow broker acknowledgement."""
PIPELINE_BUCKETS: Final = (
    0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0,
    2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
)  # fmt: skip
"""End-to-end latency buckets: 25 ms steps up to 250 ms (quantiles near a sub-second
objective), then up to a backlog of a quarter of an hour."""
AGE_BUCKETS: Final = (
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0,
    86400.0, 259200.0, 604800.0, 2592000.0,
)  # fmt: skip
"""Freshness buckets: one second up to 30 days (relative ages on pages reach weeks)."""
COUNT_BUCKETS: Final = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)
"""Batch size buckets (records per batch); the default batch is at most 500 records."""
LAG_INTERVAL_S: Final = 1.0
"""How often `watch_lag` refreshes the lag gauge."""


def newsflow_version() -> str:
    """The installed newsflow package version ("unknown" when run from a bare checkout)."""
    try:
        return importlib.metadata.version("newsflow")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def register_base_metrics(registry: CollectorRegistry, service: str) -> None:
    """Add `newsflow_build_info{service,version}` = 1 and the process/platform collectors."""
    build = Gauge(
        "newsflow_build_info",
        "Always 1; the labels name the service and the newsflow version it runs.",
        ["service", "version"],
        registry=registry,
    )
    build.labels(service, newsflow_version()).set(1)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)


def lag_gauge(registry: CollectorRegistry, service: str) -> Gauge:
    """`newsflow_<service>_consumer_lag_records{partition}`, the gauge `watch_lag` fills."""
    return Gauge(
        f"newsflow_{service}_consumer_lag_records",
        "Records behind the partition's high watermark, per assigned partition, after the "
        "last committed batch.",
        ["partition"],
        registry=registry,
    )


def report_lag(gauge: Gauge, lags: Mapping[PartitionKey, int], shown: set[str]) -> set[str]:
    """Set one sample per partition in `lags`, drop those in `shown` no longer assigned.

    Returns the partitions now shown; pass it back in on the next call.
    """
    now = {str(key.partition) for key in lags}
    for partition in shown - now:
        gauge.remove(partition)
    for key, lag in lags.items():
        gauge.labels(str(key.partition)).set(lag)
    return now


async def watch_lag(
    lag: Callable[[], Mapping[PartitionKey, int]],
    gauge: Gauge,
    *,
    interval: float = LAG_INTERVAL_S,
) -> None:
    """Copy `lag()` (e.g. `BatchConsumer.lag`) into `gauge` every `interval` s until cancelled."""
    shown: set[str] = set()
    while True:
        shown = report_lag(gauge, lag(), shown)
        await asyncio.sleep(interval)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    # A thread per request, as prometheus_client's server: a slow scrape never delays a
    # probe. Daemon threads, so an unfinished request never holds the process open.
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        # Probes every few seconds and scrapes every 15 s would flood stderr; logs are structlog's.
        pass


def _start_server(app: WSGIApplication, host: str, port: int) -> WSGIServer:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    # WSGIServer binds IPv4 unless told otherwise; an IPv6 host ("::") needs its family.
    server_class = type("_Server", (_ThreadingServer,), {"address_family": family})
    return make_server(host, port, app, server_class=server_class, handler_class=_QuietHandler)


class MetricsServer:
    """GET /metrics (and, with `health`, /healthz and /readyz) over HTTP from a daemon thread.

    Other paths answer 404; `stop()` frees the port.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        health: Health | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self._app = probe_app(registry, health)
        self._host = host
        self._port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the free one picked when asked for 0); only once started."""
        if self._server is None:
            raise RuntimeError("the metrics server is not started")
        return self._server.server_port

    @property
    def url(self) -> str:
        """Where Prometheus scrapes this process, e.g. http://127.0.0.1:9101/metrics."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/metrics"

    def start(self) -> str:
        """Bind and serve; returns `url`. Raises OSError when the port is taken."""
        if self._server is None:
            server = _start_server(self._app, self._host, self._port)
            thread = threading.Thread(
                target=server.serve_forever, name="metrics-server", daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread
        return self.url

    def stop(self) -> None:
        """Stop serving and close the socket (blocks up to about half a second)."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def announce_url(url: str, path: Path | None) -> None:
    """Write `url` to `path` (when given) in one rename, so a reader never sees half of it."""
    if path is None:
        return
    partial = path.with_name(path.name + ".partial")
    partial.write_text(url + "\n", encoding="utf-8")
    partial.replace(path)


@contextlib.asynccontextmanager
async def exported(
    registry: CollectorRegistry,
    *,
    host: str,
    port: int,
    url_file: Path | None = None,
    health: Health | None = None,
) -> AsyncIterator[MetricsServer]:
    """Serve `registry` (and `health`'s probes) on host:port while inside.

    The URL is logged and written to `url_file`.
    """
    server = MetricsServer(registry, health=health, host=host, port=port)
    try:
        url = server.start()
    except OSError as exc:
        log.error("metrics port unavailable", host=host, port=port, error=str(exc))
        raise
    log.info("metrics serving", url=url)
    announce_url(url, url_file)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def watching_lag(
    lag: Callable[[], Mapping[PartitionKey, int]],
    gauge: Gauge,
    *,
    interval: float = LAG_INTERVAL_S,
) -> AsyncIterator[None]:
    """Run `watch_lag` in a task while inside."""
    task = asyncio.create_task(watch_lag(lag, gauge, interval=interval), name="watch-lag")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
