"""Ingest for real: uvicorn on 127.0.0.1, the embedded broker, httpx requests, no test doubles."""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from pydantic import SecretStr

from newsflow.broker import EmbeddedBroker
from newsflow.kafka import ensure_topics
from newsflow.settings import KafkaSettings
from schemas import ContentType, RawPage
from schemas.headers import ACCEPTED_NS
from services.ingest.parse import key_page_id
from services.ingest.settings import IngestSettings
from tests.integration.ingest.conftest import read_records, serving
from tests.unit.ingest.gzip_bomb import MIB, gzip_zeros

PAGE = {"source": "Daily8", "fetched_at": "2025-06-21T18:00:00Z", "body": "Markets rose today."}
RAW_HEADERS = {
    "content-type": "text/html; charset=windows-1251",
    "x-source": "Vechernii",
    "x-fetched-at": "2025-06-21T21:00:00+03:00",
    "x-url": "https://vechernii.example/news/1",
}
TIMEOUT = httpx.Timeout(30.0)
NDJSON = {"content-type": "application/x-ndjson"}


def _client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=TIMEOUT)


async def test_json_and_raw_pages_arrive_keyed_by_id(
    ingest_url: str, ingest_kafka: KafkaSettings
) -> None:
    """A JSON page and a raw windows-1251 HTML page each land once in pages.raw, keyed by id."""
    async with _client(ingest_url) as client:
        as_json = await client.post("/v1/pages", json=PAGE)
        raw_body = "<article><h1>Новости дня</h1></article>".encode("cp1251")
        as_raw = await client.post("/v1/pages", content=raw_body, headers=RAW_HEADERS)
    assert (as_json.status_code, as_raw.status_code) == (202, 202)

    records = await read_records(ingest_kafka, 2)

    by_key = {record.key: record for record in records}
    assert set(by_key) == {as_json.json()["page_id"].encode(), as_raw.json()["page_id"].encode()}
    json_page = RawPage.model_validate_json(by_key[as_json.json()["page_id"].encode()].value)
    assert (json_page.source, json_page.body) == (PAGE["source"], PAGE["body"])
    raw_record = by_key[as_raw.json()["page_id"].encode()]
    raw_page = RawPage.model_validate_json(raw_record.value)
    assert raw_page.body == "<article><h1>Новости дня</h1></article>"
    assert raw_page.content_type is ContentType.HTML
    assert raw_page.url == RAW_HEADERS["x-url"]
    assert json.loads(raw_record.value)["fetched_at"] == "2025-06-21T18:00:00Z"
    headers = dict(raw_record.headers)
    assert list(headers) == ["content-type", ACCEPTED_NS]
    assert headers["content-type"] == b"application/json"
    # The raw page was accepted after the JSON one: its stamp on the broker is the later.
    json_record = by_key[as_json.json()["page_id"].encode()]
    assert int(headers[ACCEPTED_NS]) > int(dict(json_record.headers)[ACCEPTED_NS])


async def test_a_raw_html_page_without_a_charset_is_read_as_its_meta_declares(
    ingest_url: str, ingest_kafka: KafkaSettings
) -> None:
    """A GBK page sent as bare text/html (the charset only in its <meta>) arrives as its text."""
    text = (
        '<html><head><meta charset="gbk"><title>江南日报</title></head>'
        "<body><p>新闻</p></body></html>"
    )
    headers = {**RAW_HEADERS, "content-type": "text/html"}
    async with _client(ingest_url) as client:
        answer = await client.post("/v1/pages", content=text.encode("gbk"), headers=headers)
    assert answer.status_code == 202
    [record] = await read_records(ingest_kafka, 1)
    assert RawPage.model_validate_json(record.value).body == text


async def test_a_raw_page_may_carry_its_fetch_time_as_an_http_date(
    ingest_url: str, ingest_kafka: KafkaSettings
) -> None:
    """X-Fetched-At in the form of a response's Date header arrives as that moment in UTC."""
    headers = {**RAW_HEADERS, "x-fetched-at": "Sat, 21 Jun 2025 18:00:00 GMT"}
    async with _client(ingest_url) as client:
        answer = await client.post("/v1/pages", content="Новости".encode("cp1251"), headers=headers)
    assert answer.status_code == 202
    [record] = await read_records(ingest_kafka, 1)
    assert json.loads(record.value)["fetched_at"] == "2025-06-21T18:00:00Z"


async def test_a_batch_arrives_whole(ingest_url: str, ingest_kafka: KafkaSettings) -> None:
    """A 200-line NDJSON batch is answered with 200 ids, and those 200 records are in the
    topic, all on one partition in the request's order; the next request's on another."""
    lines = [json.dumps({**PAGE, "body": f"Story {i}."}) for i in range(200)]
    async with _client(ingest_url) as client:
        response = await client.post("/v1/pages/batch", content="\n".join(lines), headers=NDJSON)
        assert response.status_code == 202
        # Requests of other pages (other ids) go to other partitions: ingest still spreads.
        others = [
            await client.post(
                "/v1/pages/batch",
                content=json.dumps({**PAGE, "body": f"Other story {i}."}),
                headers=NDJSON,
            )
            for i in range(8)
        ]
    ids = response.json()["page_ids"]
    assert len(set(ids)) == 200

    records = await read_records(ingest_kafka, 208)

    batch = [record for record in records if record.key in {i.encode() for i in ids}]
    assert [record.key for record in sorted(batch, key=lambda r: r.offset)] == [
        i.encode() for i in ids
    ]
    assert len({record.partition for record in batch}) == 1
    bodies = {RawPage.model_validate_json(record.value).body for record in batch}
    assert bodies == {f"Story {i}." for i in range(200)}
    assert all(other.status_code == 202 for other in others)
    assert len({record.partition for record in records}) > 1


async def test_a_resend_with_the_same_idempotency_key_keeps_the_id(
    ingest_url: str, ingest_kafka: KafkaSettings
) -> None:
    """Two posts with one Idempotency-Key get one id; both records carry that key."""
    headers = {"Idempotency-Key": "scrape-2025-06-21-0001"}
    async with _client(ingest_url) as client:
        first = await client.post("/v1/pages", json=PAGE, headers=headers)
        second = await client.post("/v1/pages", json=PAGE, headers=headers)
    expected = key_page_id("scrape-2025-06-21-0001")
    assert first.json()["page_id"] == second.json()["page_id"] == expected

    records = await read_records(ingest_kafka, 2)

    assert [record.key for record in records] == [expected.encode()] * 2


async def test_oversized_bodies_are_413_declared_or_streamed(ingest_url: str) -> None:
    """Over 5 MiB is refused whether Content-Length says so or a chunked body streams past it."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(12):
            yield b"x" * (512 * 1024)

    async with _client(ingest_url) as client:
        declared = await client.post("/v1/pages", content=b"x" * (5 * MIB + 1), headers=RAW_HEADERS)
        streamed = await client.post("/v1/pages", content=chunks(), headers=RAW_HEADERS)
    assert (declared.status_code, declared.json()["error"]) == (413, "too_large")
    assert (streamed.status_code, streamed.json()["error"]) == (413, "too_large")


async def test_a_gzip_bomb_is_413_fast_without_inflating(ingest_url: str) -> None:
    """1 GiB of zeros gzipped to ~1 MiB is refused within seconds; the process grows < 64 MiB."""
    bomb = gzip_zeros(1024)
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    async with _client(ingest_url) as client:
        response = await client.post(
            "/v1/pages", content=bomb, headers={**RAW_HEADERS, "content-encoding": "gzip"}
        )
    elapsed = time.perf_counter() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kib) / 1024
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    assert elapsed < 5.0
    assert grown_mib < 64


async def test_unsupported_and_malformed_requests_name_their_reason(ingest_url: str) -> None:
    """Wrong type 415, bad JSON 400, naive or out-of-range fetched_at 422, bad NDJSON lines 422
    by number."""
    bad_batch = json.dumps(PAGE) + "\n{oops\n" + json.dumps({**PAGE, "source": ""})
    async with _client(ingest_url) as client:
        wrong_type = await client.post(
            "/v1/pages", content=b"%PDF", headers={"content-type": "application/pdf"}
        )
        bad_json = await client.post(
            "/v1/pages", content=b'{"source":', headers={"content-type": "application/json"}
        )
        naive = await client.post("/v1/pages", json={**PAGE, "fetched_at": "2025-06-21T18:00:00"})
        year_one = await client.post(
            "/v1/pages", json={**PAGE, "fetched_at": "0001-01-01T00:05:00Z"}
        )
        raw_far = await client.post(
            "/v1/pages",
            content=b"<p>",
            headers={
                "content-type": "text/html",
                "x-source": "Daily8",
                "x-fetched-at": "9999-12-31T23:59:59Z",
            },
        )
        batch = await client.post("/v1/pages/batch", content=bad_batch, headers=NDJSON)
        no_headers = await client.post(
            "/v1/pages", content=b"<p>", headers={"content-type": "text/html"}
        )
    assert (wrong_type.status_code, wrong_type.json()["error"]) == (415, "unsupported_media_type")
    assert (bad_json.status_code, bad_json.json()["error"]) == (400, "malformed_json")
    assert (naive.status_code, naive.json()["error"]) == (422, "invalid_page")
    assert "fetched_at" in naive.json()["detail"]
    assert (year_one.status_code, year_one.json()["error"]) == (422, "invalid_page")
    assert "fetched_at" in year_one.json()["detail"]
    assert (raw_far.status_code, raw_far.json()["error"]) == (422, "invalid_page")
    assert "X-Fetched-At" in raw_far.json()["detail"]
    assert batch.status_code == 422
    assert [(f["line"], f["error"]) for f in batch.json()["lines"]] == [
        (2, "malformed_json"),
        (3, "invalid_page"),
    ]
    assert (no_headers.status_code, no_headers.json()["error"]) == (400, "missing_header")


async def test_bearer_tokens_guard_posting(
    ingest_settings: IngestSettings, ingest_kafka: KafkaSettings
) -> None:
    """With tokens configured: none 401 (Bearer challenge), wrong 403, right 202; probes open."""
    settings = ingest_settings.model_copy(update={"ingest_tokens": (SecretStr("s3cret"),)})
    async with serving(settings, ingest_kafka) as url, _client(url) as client:
        missing = await client.post("/v1/pages", json=PAGE)
        wrong = await client.post("/v1/pages", json=PAGE, headers={"Authorization": "Bearer nope"})
        right = await client.post(
            "/v1/pages", json=PAGE, headers={"Authorization": "Bearer s3cret"}
        )
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 403
    assert right.status_code == 202
    assert (health.status_code, ready.status_code) == (200, 200)


async def _until(send: Callable[[], Awaitable[httpx.Response]], status: int) -> httpx.Response:
    """Repeat a request until it answers `status` (bounded by the caller's timeout)."""
    while True:
        response = await send()
        if response.status_code == status:
            return response
        await asyncio.sleep(0.2)


async def test_a_broker_outage_is_503_and_recovery_is_202(
    ingest_settings: IngestSettings, unique_name: str
) -> None:
    """Broker down: /readyz and POST are 503 with Retry-After; broker back on its port: 202."""
    async with EmbeddedBroker() as broker:
        kafka = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers,
            topic_pages=f"pages.raw.{unique_name}",
            request_timeout_ms=1000,
            delivery_timeout_ms=2000,
        )
        settings = ingest_settings.model_copy(update={"retry_after_seconds": 3})
        async with serving(settings, kafka) as url, _client(url) as client:
            assert (await client.post("/v1/pages", json=PAGE)).status_code == 202
            assert (await client.get("/readyz")).status_code == 200

            await broker.stop()
            async with asyncio.timeout(15):
                unready = await _until(lambda: client.get("/readyz"), 503)
                started = time.perf_counter()
                refused = await client.post("/v1/pages", json=PAGE)
            assert unready.headers["retry-after"] == "3"
            assert (refused.status_code, refused.json()["error"]) == (503, "broker_unavailable")
            assert refused.headers["retry-after"] == "3"
            assert time.perf_counter() - started < 5.0
            assert (await client.get("/healthz")).status_code == 200

            await broker.start()
            # The embedded broker forgets its topics when it stops; a real one keeps them.
            await ensure_topics(kafka, [kafka.topic_pages])
            async with asyncio.timeout(30):
                accepted = await _until(lambda: client.post("/v1/pages", json=PAGE), 202)
                await _until(lambda: client.get("/readyz"), 200)
            assert accepted.json()["page_id"]

        records = await read_records(kafka, 1)
        # The restarted broker is empty: what it holds is the page posted after it came back.
        assert {record.key for record in records} == {accepted.json()["page_id"].encode()}


async def test_a_page_at_the_size_limit_is_accepted_and_arrives(
    ingest_url: str, ingest_kafka: KafkaSettings
) -> None:
    """A raw page of exactly 5 MiB is acknowledged by the broker and read back whole."""
    body = (b"Lorem ipsum dolor sit amet. " * (5 * MIB // 28 + 1))[: 5 * MIB]
    async with _client(ingest_url) as client:
        response = await client.post(
            "/v1/pages", content=body, headers={**RAW_HEADERS, "content-type": "text/plain"}
        )
    assert response.status_code == 202

    [record] = await read_records(ingest_kafka, 1)

    assert record.key == response.json()["page_id"].encode()
    assert RawPage.model_validate_json(record.value).body.encode() == body
