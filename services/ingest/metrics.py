"""Prometheus metrics of the ingest service, on an injected `CollectorRegistry`.

Label values come from small fixed sets (routes, status codes, reject reasons), never ids;
the series of every reject reason and route are created at 0 up front.
Build info and the process and platform collectors come from `newsflow.metrics`.
`RequestMetrics` is a plain ASGI middleware, so it sees every answer, 404s included.
"""

from __future__ import annotations

import time
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsflow.metrics import register_base_metrics
from services.ingest.errors import RejectReason
from services.ingest.limits import InFlight

ROUTES: Final = frozenset({"/v1/pages", "/v1/pages/batch", "/healthz", "/readyz", "/metrics"})
"""Route label values; any other path is counted as `other`."""
BODY_ROUTES: Final = ("/v1/pages", "/v1/pages/batch")
"""The routes whose request bodies `request_bytes` measures."""

_BYTE_BUCKETS: Final = tuple(float(2**power) for power in range(8, 27, 2))  # 256 B .. 64 MiB
_SECOND_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class IngestMetrics:
    """The ingest service's metrics, registered on `registry` (with build and process info)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        register_base_metrics(registry, "ingest")
        self.requests = Counter(
            "newsflow_ingest_requests_total",
            "HTTP requests answered, by route and status code.",
            ["route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "newsflow_ingest_request_seconds",
            "Time from request to the end of the answer, by route.",
            ["route"],
            buckets=_SECOND_BUCKETS,
            registry=registry,
        )
        self.request_bytes = Histogram(
            "newsflow_ingest_request_bytes",
            "Request body bytes as received (before gzip inflation), by route.",
            ["route"],
            buckets=_BYTE_BUCKETS,
            registry=registry,
        )
        self.pages_accepted = Counter(
            "newsflow_ingest_pages_accepted_total",
            "Pages acknowledged by the broker and answered with 202.",
            registry=registry,
        )
        self.pages_rejected = Counter(
            "newsflow_ingest_pages_rejected_total",
            "Pages (or requests, where pages were not counted) refused, by reason.",
            ["reason"],
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "newsflow_ingest_publish_seconds",
            "Time for the broker to acknowledge one request's pages.",
            buckets=_SECOND_BUCKETS,
            registry=registry,
        )
        # Series over fixed label sets exist from the start at 0, so rate() sees the first
        # refusal or request: a series born at 1 has no earlier sample to differ from.
        for reason in RejectReason:
            self.pages_rejected.labels(reason.value)
        for route in (*ROUTES, "other"):
            self.request_seconds.labels(route)
        for route in BODY_ROUTES:
            self.request_bytes.labels(route)
        self._in_flight_pages = Gauge(
            "newsflow_ingest_in_flight_pages",
            "Pages received and not yet acknowledged by the broker.",
            registry=registry,
        )
        self._in_flight_bytes = Gauge(
            "newsflow_ingest_in_flight_bytes",
            "Body bytes held by requests not yet answered.",
            registry=registry,
        )

    def watch(self, gate: InFlight) -> None:
        """Report the gate's counts at scrape time, so they never drift from the gate."""
        self._in_flight_pages.set_function(lambda: gate.pages)
        self._in_flight_bytes.set_function(lambda: gate.bytes)


class RequestMetrics:
    """ASGI middleware counting every HTTP answer by route and status, and timing it."""

    def __init__(self, app: ASGIApp, metrics: IngestMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in ROUTES else "other"
        status = 500  # what the server answers if the app fails before it starts a response
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_status)
        finally:
            self._metrics.requests.labels(route, str(status)).inc()
            self._metrics.request_seconds.labels(route).observe(time.perf_counter() - started)
