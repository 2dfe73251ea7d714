"""The ingest app's routing, refusals, auth, admission and metrics, with an in-memory publisher."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from newsflow.kafka import InMemoryPublisher, Publisher, PublishUnavailable, Record
from schemas import ContentType, RawPage
from schemas.headers import ACCEPTED_NS
from services.ingest import IngestSettings, create_app
from services.ingest.parse import key_page_id

TOPIC = "pages.raw"
PAGE = {"source": "Daily8", "fetched_at": "2025-06-21T18:00:00Z", "body": "Markets rose."}
RAW_HEADERS = {
    "content-type": "text/html; charset=windows-1251",
    "x-source": "Vechernii",
    "x-fetched-at": "2025-06-21T21:00:00+03:00",
    "x-url": "https://vechernii.example/news",
}


class _Unavailable:
    """A publisher whose broker never answers."""

    async def publish(self, records: Sequence[Record]) -> None:
        raise PublishUnavailable("no broker on this side of the test")

    async def ready(self) -> bool:
        return False


class _Held(InMemoryPublisher):
    """A publisher that keeps every publish waiting until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, records: Sequence[Record]) -> None:
        self.entered.set()
        await self.release.wait()
        await super().publish(records)


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest")


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh metrics registry per test."""
    return CollectorRegistry()


@pytest.fixture
def publisher() -> InMemoryPublisher:
    """The records the app published, kept in memory."""
    return InMemoryPublisher()


@pytest.fixture
async def client(
    publisher: InMemoryPublisher, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to an app with default settings."""
    async with _client(create_app(IngestSettings(), publisher, registry, topic=TOPIC)) as http:
        yield http


def _app(publisher: Publisher, **overrides: object) -> FastAPI:
    settings = IngestSettings().model_copy(update=overrides)
    return create_app(settings, publisher, CollectorRegistry(), topic=TOPIC)


async def test_a_json_page_is_published_keyed_by_its_id(
    client: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    """A JSON RawPage is published once to pages.raw, keyed by page id, as RawPage JSON."""
    response = await client.post("/v1/pages", json=PAGE)
    assert response.status_code == 202
    page_id = response.json()["page_id"]
    assert response.json()["page_ids"] == [page_id]
    [record] = publisher.records
    assert (record.topic, record.key) == (TOPIC, page_id.encode())
    assert [name for name, _ in record.headers] == ["content-type", ACCEPTED_NS]
    assert dict(record.headers)["content-type"] == b"application/json"
    page = RawPage.model_validate_json(record.value)
    assert (page.page_id, page.body, page.source) == (page_id, PAGE["body"], PAGE["source"])


async def test_a_raw_html_page_takes_its_charset_and_envelope_headers(
    client: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    """A windows-1251 HTML body with X-* headers is published as UTF-8 JSON, time in UTC."""
    body = "<h1>Новости</h1>".encode("cp1251")
    response = await client.post("/v1/pages", content=body, headers=RAW_HEADERS)
    assert response.status_code == 202
    page = RawPage.model_validate_json(publisher.records[0].value)
    assert page.body == "<h1>Новости</h1>"
    assert page.content_type is ContentType.HTML
    assert page.url == "https://vechernii.example/news"
    assert json.loads(publisher.records[0].value)["fetched_at"] == "2025-06-21T18:00:00Z"


async def test_the_same_idempotency_key_gives_the_same_id(
    client: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    """A page resent with the same Idempotency-Key (even edited) keeps its first id."""
    first = await client.post("/v1/pages", json=PAGE, headers={"Idempotency-Key": "scrape-42"})
    edited = {**PAGE, "body": "Markets rose sharply."}
    second = await client.post("/v1/pages", json=edited, headers={"Idempotency-Key": "scrape-42"})
    assert first.json()["page_id"] == second.json()["page_id"] == key_page_id("scrape-42")
    assert [r.key for r in publisher.records] == [key_page_id("scrape-42").encode()] * 2


async def test_a_batch_is_published_whole_in_line_order(
    client: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    """NDJSON pages are published together, answered with their ids and stamped in line order."""
    lines = [json.dumps({**PAGE, "page_id": f"p{i}"}) for i in range(3)]
    response = await client.post(
        "/v1/pages/batch",
        content="\n".join(lines) + "\n",
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 202
    assert response.json() == {"page_ids": ["p0", "p1", "p2"]}
    assert [r.key for r in publisher.records] == [b"p0", b"p1", b"p2"]
    # Stamped in line order, and a later request's pages after an earlier one's.
    await client.post("/v1/pages", json={**PAGE, "page_id": "p3"})
    stamps = [int(dict(r.headers)[ACCEPTED_NS]) for r in publisher.records]
    assert stamps == sorted(set(stamps))


async def test_a_batch_with_a_bad_line_publishes_nothing(
    client: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    """One invalid line refuses the batch with 422 naming the line; nothing is published."""
    body = json.dumps(PAGE) + "\n" + json.dumps({**PAGE, "fetched_at": "2025-06-21T18:00:00"})
    response = await client.post(
        "/v1/pages/batch", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_batch"
    assert [line["line"] for line in response.json()["lines"]] == [2]
    assert publisher.records == []


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        (b"{", {"content-type": "application/json"}, 400, "malformed_json"),
        (b"", {"content-type": "application/json"}, 400, "empty_body"),
        (
            b'{"source": "s", "body": "b"}',
            {"content-type": "application/json"},
            422,
            "invalid_page",
        ),
        (b"<p>", {"content-type": "text/html", "x-source": "s"}, 400, "missing_header"),
        (b"\xff", {**RAW_HEADERS, "content-type": "text/plain; charset=utf-8"}, 400, "undecodable"),
        (b"<p>", {"content-type": "image/png"}, 415, "unsupported_media_type"),
        (
            b"{}",
            {"content-type": "application/json", "content-encoding": "br"},
            415,
            "unsupported_encoding",
        ),
    ],
)
async def test_malformed_requests_get_their_reason(
    *,
    client: httpx.AsyncClient,
    publisher: InMemoryPublisher,
    content: bytes,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    """Each malformed request gets its status and `{"error", "detail"}`; nothing is published."""
    response = await client.post("/v1/pages", content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["detail"]
    assert publisher.records == []


async def test_an_oversized_or_bombed_body_is_413(publisher: InMemoryPublisher) -> None:
    """A body over max_page_bytes is refused, plain or as gzip that inflates past it."""
    async with _client(_app(publisher, max_page_bytes=4096)) as client:
        plain = await client.post("/v1/pages", content=b"x" * 4097, headers=RAW_HEADERS)
        bomb = gzip.compress(bytes(1024 * 1024))
        gzipped = await client.post(
            "/v1/pages", content=bomb, headers={**RAW_HEADERS, "content-encoding": "gzip"}
        )
        fits = await client.post(
            "/v1/pages",
            content=gzip.compress(b"x" * 4096),
            headers={**RAW_HEADERS, "content-encoding": "gzip"},
        )
    assert (plain.status_code, gzipped.status_code, fits.status_code) == (413, 413, 202)
    assert gzipped.json()["error"] == "too_large"
    assert len(publisher.records) == 1


async def test_tokens_guard_the_posting_routes_only(publisher: InMemoryPublisher) -> None:
    """With tokens set: no token is 401 with a Bearer challenge, a wrong one 403; probes open."""
    tokens = (SecretStr("alpha"), SecretStr("beta"))
    async with _client(_app(publisher, ingest_tokens=tokens)) as client:
        missing = await client.post("/v1/pages", json=PAGE)
        wrong = await client.post("/v1/pages", json=PAGE, headers={"Authorization": "Bearer gamma"})
        right = await client.post("/v1/pages", json=PAGE, headers={"Authorization": "Bearer beta"})
        probes = [await client.get(path) for path in ("/healthz", "/readyz", "/metrics")]
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"] == "unauthorized"
    assert (wrong.status_code, wrong.json()["error"]) == (403, "forbidden")
    assert right.status_code == 202
    assert [probe.status_code for probe in probes] == [200, 200, 200]
    assert len(publisher.records) == 1


async def test_an_unavailable_broker_is_503_with_retry_after() -> None:
    """An unacknowledged publish is 503 with Retry-After; /readyz says 503 too."""
    async with _client(_app(_Unavailable(), retry_after_seconds=7)) as client:
        posted = await client.post("/v1/pages", json=PAGE)
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert (posted.status_code, posted.headers["retry-after"]) == (503, "7")
    assert posted.json()["error"] == "broker_unavailable"
    assert (ready.status_code, ready.headers["retry-after"]) == (503, "7")
    assert alive.status_code == 200


async def test_the_in_flight_bound_refuses_at_once_rather_than_queueing() -> None:
    """With the page bound reached, another page is refused with 503 while the first still waits."""
    publisher = _Held()
    app = _app(publisher, max_in_flight_pages=1, max_batch_pages=1)
    async with _client(app) as client:
        first = asyncio.create_task(client.post("/v1/pages", json=PAGE))
        await asyncio.wait_for(publisher.entered.wait(), 5)
        second = await asyncio.wait_for(client.post("/v1/pages", json=PAGE), 5)
        publisher.release.set()
        first_response = await asyncio.wait_for(first, 5)
        third = await client.post("/v1/pages", json=PAGE)
    assert (second.status_code, second.json()["error"]) == (503, "overloaded")
    assert second.headers["retry-after"] == "1"
    assert first_response.status_code == 202
    assert third.status_code == 202


async def test_metrics_count_requests_pages_and_refusals(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """Requests by route and status, accepted pages and refusals by reason are all counted."""
    await client.post("/v1/pages", json=PAGE)
    await client.post("/v1/pages", content=b"{", headers={"content-type": "application/json"})
    await client.get("/nowhere")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "newsflow_ingest_publish_seconds_bucket" in metrics.text

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("newsflow_ingest_requests_total", route="/v1/pages", status="202") == 1
    assert sample("newsflow_ingest_requests_total", route="/v1/pages", status="400") == 1
    assert sample("newsflow_ingest_requests_total", route="other", status="404") == 1
    assert sample("newsflow_ingest_pages_accepted_total") == 1
    assert sample("newsflow_ingest_pages_rejected_total", reason="malformed_json") == 1
    assert sample("newsflow_ingest_request_bytes_count", route="/v1/pages") == 2
    assert sample("newsflow_ingest_in_flight_pages") == 0


async def test_logs_bind_the_page_id_and_never_the_body(client: httpx.AsyncClient) -> None:
    """The acceptance log line carries the page id and source, not one word of the body."""
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        response = await client.post("/v1/pages", json=PAGE)
    [accepted] = [entry for entry in logs if entry["event"] == "page accepted"]
    assert accepted["page_id"] == response.json()["page_id"]
    assert accepted["source"] == "Daily8"
    assert all("Markets" not in str(value) for entry in logs for value in entry.values())


async def test_the_openapi_document_describes_the_routes(client: httpx.AsyncClient) -> None:
    """/openapi.json lists the routes with their bodies and RawPage; /docs serves the UI."""
    document = (await client.get("/openapi.json")).json()
    assert {"/v1/pages", "/v1/pages/batch", "/healthz", "/readyz", "/metrics"} <= set(
        document["paths"]
    )
    body = document["paths"]["/v1/pages"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "text/html", "application/xhtml+xml", "text/plain"}
    assert "fetched_at" in document["components"]["schemas"]["RawPage"]["properties"]
    assert (await client.get("/docs")).status_code == 200
