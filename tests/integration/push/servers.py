"""Real HTTP servers on 127.0.0.1 for the push tests: a uvicorn runner and a scripted ingest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from newsflow.broker import free_port
from schemas import RawPage

MARK = b"REJECT-ME"
START_TIMEOUT_S = 10.0

_Handler = Callable[[Request, bytes], Response]


@asynccontextmanager
async def serving(app: ASGIApp | uvicorn.Server) -> AsyncIterator[str]:
    """Serve `app` (or run a prepared uvicorn server) on 127.0.0.1; yield its base URL."""
    if isinstance(app, uvicorn.Server):
        server = app
    else:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=free_port(),
            lifespan="off",
            log_config=None,
            access_log=False,
            ws="none",
        )
        server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the server stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(START_TIMEOUT_S):
            await task


@dataclass
class ScriptedIngest:
    """An ingest stand-in: busy for the first requests, 422 for marked pages, 202 otherwise.

    It records every request (time, path, status) and the most requests it held at once.
    """

    busy_first: int = 0
    """How many requests get `busy_status` before any is served."""
    busy_status: int = 503
    retry_after: str | None = "1"
    """The Retry-After of busy answers; None sends none."""
    delay_s: float = 0.0
    """How long each served request takes."""
    max_batch_lines: int | None = None
    """Batches with more lines get 413."""
    token: str | None = None
    """When set, requests need `Authorization: Bearer <token>`."""
    requests: list[tuple[float, str, int]] = field(default_factory=list)
    pages: list[RawPage] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def app(self) -> Starlette:
        """The ASGI app serving `POST /v1/pages` and `POST /v1/pages/batch`."""
        return Starlette(
            routes=[
                Route("/v1/pages", self._page, methods=["POST"]),
                Route("/v1/pages/batch", self._batch, methods=["POST"]),
            ]
        )

    async def _page(self, request: Request) -> Response:
        return await self._serve(request, self._one_page)

    async def _batch(self, request: Request) -> Response:
        return await self._serve(request, self._many_pages)

    async def _serve(self, request: Request, handle: _Handler) -> Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await self._answer(request, handle)
        finally:
            self.in_flight -= 1
        self.requests.append((time.monotonic(), request.url.path, response.status_code))
        return response

    async def _answer(self, request: Request, handle: _Handler) -> Response:
        if (
            self.token is not None
            and request.headers.get("authorization") != f"Bearer {self.token}"
        ):
            return _error(401, "unauthorized", "a bearer token is required")
        if len(self.requests) < self.busy_first:
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return _error(self.busy_status, "overloaded", "busy", headers)
        await asyncio.sleep(self.delay_s)
        body = await request.body()
        return handle(request, body)

    def _one_page(self, request: Request, body: bytes) -> Response:
        if MARK in body:
            return _error(422, "invalid_page", "the page is marked")
        media = request.headers["content-type"]
        charset = media.partition("charset=")[2] or "utf-8"
        page = RawPage(
            url=request.headers.get("x-url"),
            source=request.headers["x-source"].encode("latin-1").decode("utf-8"),
            fetched_at=request.headers["x-fetched-at"],  # type: ignore[arg-type]  # validated
            content_type=media,  # type: ignore[arg-type]  # validated
            body=body.decode(charset),
        )
        self.pages.append(page)
        return JSONResponse({"page_id": page.page_id, "page_ids": [page.page_id]}, 202)

    def _many_pages(self, request: Request, body: bytes) -> Response:
        lines = [line for line in body.split(b"\n") if line.strip()]
        if self.max_batch_lines is not None and len(lines) > self.max_batch_lines:
            return _error(
                413, "too_large", f"{len(lines)} pages; the limit is {self.max_batch_lines}"
            )
        failures = []
        pages = []
        for number, line in enumerate(lines, 1):
            if MARK in line:
                failures.append({"line": number, "error": "invalid_page", "detail": "marked"})
                continue
            try:
                pages.append(RawPage.model_validate_json(line))
            except ValidationError as exc:
                failures.append({"line": number, "error": "invalid_page", "detail": str(exc)})
        if failures:
            return _error(422, "invalid_batch", "some lines are invalid", lines=failures)
        self.batch_sizes.append(len(pages))
        self.pages.extend(pages)
        return JSONResponse({"page_ids": [page.page_id for page in pages]}, 202)


def _error(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status, headers=headers)
