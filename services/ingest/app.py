"""The ingest HTTP app: pages in over HTTP, out to `pages.raw`, answered once acknowledged.

`create_app` wires the pure parsers (`parse.py`) and the bounds (`limits.py`) to the
injected publisher and metrics registry; it opens no connection itself. Every refusal is a
`Rejected` turned into `{"error": reason, "detail": ...}` with its status in one handler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol, runtime_checkable

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from newsflow.clock import Stamps
from newsflow.kafka import Publisher, PublishRejected, PublishUnavailable, Record
from schemas import RawPage
from schemas.headers import ACCEPTED_NS
from services.ingest import openapi
from services.ingest.auth import bearer_guard
from services.ingest.errors import Rejected, RejectReason
from services.ingest.limits import InFlight, Ticket, read_body
from services.ingest.metrics import IngestMetrics, RequestMetrics
from services.ingest.parse import (
    BodyKind,
    check_batch_type,
    content_coding,
    idempotency_key,
    parse_batch,
    parse_json_page,
    parse_media_type,
    parse_raw_page,
    single_page_kind,
)
from services.ingest.settings import IngestSettings

_log = structlog.get_logger("newsflow.ingest")
_PAGE_JSON: Final = TypeAdapter(RawPage)
_RECORD_HEADERS: Final = (("content-type", b"application/json"),)


@runtime_checkable
class Readiness(Protocol):
    """A publisher that can tell whether its broker answers (KafkaPublisher can)."""

    async def ready(self) -> bool:
        """True when a publish could be acknowledged now."""
        ...


class _Ingest:
    """The route handlers, sharing the settings, publisher, metrics and in-flight gate."""

    def __init__(
        self, settings: IngestSettings, publisher: Publisher, metrics: IngestMetrics, topic: str
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._metrics = metrics
        self._topic = topic
        self._gate = InFlight(settings.max_in_flight_pages, settings.max_in_flight_bytes)
        metrics.watch(self._gate)
        self._stamps = Stamps()

    async def post_page(self, request: Request) -> openapi.PageAccepted:
        """Accept one page: RawPage JSON, or a raw text/html or text/plain body + X-* headers."""
        media = parse_media_type(request.headers.get("content-type"))
        kind = single_page_kind(media)
        arrived = self._stamps()
        with self._gate.ticket() as ticket:
            data = await self._read(request, ticket, "/v1/pages", self._settings.max_page_bytes)
            if kind is BodyKind.JSON:
                page = parse_json_page(data, idempotency_key(request.headers))
            else:
                page = parse_raw_page(data, media, request.headers)
            with structlog.contextvars.bound_contextvars(page_id=page.page_id):
                await self._publish([page], ticket, arrived)
                _log.info("page accepted", source=page.source, bytes=len(data))
        return openapi.PageAccepted(page_id=page.page_id, page_ids=[page.page_id])

    async def post_batch(self, request: Request) -> openapi.PagesAccepted:
        """Accept NDJSON RawPages, all or none; 422 names every invalid line."""
        check_batch_type(parse_media_type(request.headers.get("content-type")))
        key = idempotency_key(request.headers)
        # Stamped on arrival, before the body is read: requests sent one after the other keep
        # their order even when a later, smaller one is read and parsed first.
        arrived = self._stamps.reserve(self._settings.max_batch_pages)
        with self._gate.ticket() as ticket:
            data = await self._read(
                request, ticket, "/v1/pages/batch", self._settings.max_batch_bytes
            )
            pages = parse_batch(
                data,
                key,
                max_pages=self._settings.max_batch_pages,
                max_page_bytes=self._settings.max_page_bytes,
            )
            await self._publish(pages, ticket, arrived)
            _log.info("batch accepted", pages=len(pages), bytes=len(data))
        return openapi.PagesAccepted(page_ids=[page.page_id for page in pages])

    async def healthz(self) -> dict[str, str]:
        """The process is alive and serving HTTP."""
        return {"status": "alive"}

    async def readyz(self) -> Response:
        """200 when the broker answers, else 503 with Retry-After."""
        ready = True
        if isinstance(self._publisher, Readiness):
            try:
                async with asyncio.timeout(self._settings.readiness_timeout_seconds):
                    ready = await self._publisher.ready()
            except TimeoutError:
                ready = False
        if ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse(
            {"error": RejectReason.BROKER_UNAVAILABLE.value, "detail": "the broker is unreachable"},
            status_code=503,
            headers=self._retry_after(),
        )

    async def rejected(self, request: Request, exc: Exception) -> Response:
        """Answer a refusal with its status, its JSON body and the headers it needs."""
        assert isinstance(exc, Rejected)  # registered for Rejected only
        self._metrics.pages_rejected.labels(exc.reason.value).inc(exc.pages)
        _log.info(
            "request refused", path=request.url.path, error=exc.reason.value, status=exc.status
        )
        headers = {**exc.headers, **(self._retry_after() if exc.status == 503 else {})}
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def _read(self, request: Request, ticket: Ticket, route: str, limit: int) -> bytes:
        coding = content_coding(request.headers.get("content-encoding"))
        length = request.headers.get("content-length")
        body = await read_body(
            request.stream(),
            coding=coding,
            limit=limit,
            content_length=int(length) if length and length.isdigit() else None,
            ticket=ticket,
        )
        self._metrics.request_bytes.labels(route).observe(body.wire_bytes)
        return body.data

    async def _publish(self, pages: Sequence[RawPage], ticket: Ticket, first_stamp: int) -> None:
        # Page i of a request is stamped first_stamp + i (see schemas.headers.ACCEPTED_NS).
        # All pages of a request go to the partition of its first page id: a consumer then
        # sees them in their order, never some before the rest of the request is stored.
        ticket.take_pages(len(pages))
        partition_key = pages[0].page_id.encode() if pages else None
        records = [
            Record(
                self._topic, page.page_id.encode(), _PAGE_JSON.dump_json(page),
                (*_RECORD_HEADERS, (ACCEPTED_NS, str(first_stamp + index).encode())),
                partition_key=partition_key,
            )
            for index, page in enumerate(pages)
        ]  # fmt: skip
        started = time.perf_counter()
        try:
            await self._publisher.publish(records)
        except PublishUnavailable as exc:
            _log.warning("broker unavailable", pages=len(pages), error=str(exc))
            raise Rejected(
                RejectReason.BROKER_UNAVAILABLE,
                "the broker did not acknowledge the pages; send them again later",
                pages=len(pages),
            ) from exc
        except PublishRejected as exc:
            _log.error("broker refused pages", pages=len(pages), error=str(exc))
            raise Rejected(RejectReason.BROKER_REJECTED, str(exc), pages=len(pages)) from exc
        finally:
            self._metrics.publish_seconds.observe(time.perf_counter() - started)
        self._metrics.pages_accepted.inc(len(pages))

    def _retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(self._settings.retry_after_seconds)}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (404, 405) in the same JSON shape as ingest's."""
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    error = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
    return JSONResponse(
        {"error": error, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    """A client that hung up mid-body gets nothing; 499 only labels the request metric."""
    _log.info("client disconnected", path=request.url.path)
    return Response(status_code=499)


def create_app(
    settings: IngestSettings,
    publisher: Publisher,
    registry: CollectorRegistry,
    *,
    topic: str = "pages.raw",
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """The ingest ASGI app, publishing to `topic` through `publisher`, metrics on `registry`.

    `lifespan` (an async context manager factory taking the app) lets `main` tie the
    publisher's start and flush to the server's startup and shutdown.
    """
    metrics = IngestMetrics(registry)
    ingest = _Ingest(settings, publisher, metrics, topic)
    app = FastAPI(
        title="newsflow ingest",
        summary="Raw news pages in over HTTP, onto the pages.raw topic.",
        version="1",
        lifespan=lifespan,
    )
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_exception_handler(Rejected, ingest.rejected)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    guard = [Depends(bearer_guard(settings.ingest_tokens))] if settings.ingest_tokens else []
    app.add_api_route(
        "/v1/pages",
        ingest.post_page,
        methods=["POST"],
        status_code=202,
        dependencies=guard,
        responses=openapi.SINGLE_ERRORS,
        openapi_extra=openapi.SINGLE_PAGE,
    )
    app.add_api_route(
        "/v1/pages/batch",
        ingest.post_batch,
        methods=["POST"],
        status_code=202,
        dependencies=guard,
        responses=openapi.BATCH_ERRORS,
        openapi_extra=openapi.BATCH,
    )
    app.add_api_route("/healthz", ingest.healthz, methods=["GET"])
    app.add_api_route(
        "/readyz", ingest.readyz, methods=["GET"], responses={503: {"model": openapi.ErrorBody}}
    )

    async def metrics_text() -> Response:
        """Prometheus metrics of this process, in the text exposition format."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics_text, methods=["GET"])
    openapi.install_schema(app)
    return app
