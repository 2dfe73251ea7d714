"""Every service's /metrics over HTTP, after pages went through the real pipeline processes.

`Pipeline` (what `newsflow run` runs) starts the sink, two enrich workers and ingest as
child processes on the session broker, each worker on a free metrics port; pages go in
through ingest (and a few bad records straight onto the topics), and once the consumer
groups have drained, every documented metric is scraped and checked for data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from newsflow.broker import free_port
from newsflow.kafka import KafkaPublisher, Record
from newsflow.metrics import newsflow_version
from newsflow.run import Pipeline, RunOptions
from newsflow.settings import KafkaSettings
from tests.unit.metrics.pages import news_page, widgets_page

pytestmark = pytest.mark.integration

WAIT_S = 60.0
Samples = list[tuple[str, dict[str, str], float]]


@pytest.fixture
async def pipeline(kafka_settings: KafkaSettings, tmp_path: Path) -> AsyncIterator[Pipeline]:
    """The pipeline on the session broker, its files under tmp_path, metrics on free ports."""
    k = kafka_settings
    options = RunOptions(
        enrich_workers=2,
        http_port=free_port(),
        metrics_port=0,
        drain_timeout=WAIT_S,
        # Groups of their own: the session broker also hosts other tests' groups.
        enrich_group=f"enrich-{k.topic_pages}",
        sink_group=f"sink-{k.topic_pages}",
        env={
            "NEWSFLOW_DATA_DIR": str(tmp_path),
            "NEWSFLOW_KAFKA_TOPIC_PAGES": k.topic_pages,
            "NEWSFLOW_KAFKA_TOPIC_EVENTS": k.topic_events,
            "NEWSFLOW_KAFKA_TOPIC_DEAD_LETTERS": k.topic_dead_letters,
            "NEWSFLOW_LOG_LEVEL": "WARNING",
        },
    )
    running = Pipeline(k, options)
    try:
        await running.start()
        yield running
    except BaseException:
        await running.kill()
        raise
    else:
        assert await running.drain_and_stop()


async def _scrape(http: httpx.AsyncClient, url: str) -> Samples:
    answer = await http.get(url)
    assert answer.status_code == 200, url
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    ]


def _total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`; fails when there is none."""
    values = [v for n, have, v in samples if n == name and labels.items() <= have.items()]
    assert values, f"no sample {name}{labels}"
    return sum(values)


def _has(samples: Samples, name: str) -> bool:
    return any(n == name for n, _, _ in samples)


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not await check():  # noqa: ASYNC110 - polls other processes over HTTP
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_every_service_exposes_its_documented_metrics_with_data(
    pipeline: Pipeline, kafka_settings: KafkaSettings
) -> None:
    """Ingest, the sink and both enrich workers answer /metrics with counts of the real traffic."""
    urls = pipeline.metrics_urls()
    assert set(urls) == {"ingest", "sink", "enrich-0", "enrich-1"}
    assert len(set(urls.values())) == 4
    assert all(url.startswith("http://127.0.0.1:") for url in urls.values())

    async with httpx.AsyncClient(base_url=pipeline.base_url, timeout=10.0) as http:
        for page in (news_page("metrics-a"), news_page("metrics-b"), widgets_page("metrics-w")):
            answer = await http.post("/v1/pages", content=page.model_dump_json(),
                                     headers={"content-type": "application/json"})  # fmt: skip
            assert answer.status_code == 202, answer.text
    publisher = KafkaPublisher(kafka_settings)
    await publisher.start()
    try:
        await publisher.publish(
            [
                Record(kafka_settings.topic_pages, b"junk", b"{not json"),
                Record(kafka_settings.topic_events, b"junk", b'{"event_id": "x"}'),
            ]
        )
    finally:
        await publisher.stop()
    assert await pipeline.wait_until_drained(timeout=WAIT_S)

    scraped: dict[str, Samples] = {}
    async with httpx.AsyncClient(timeout=10.0) as http:

        async def lag_is_reported() -> bool:
            scraped.update({name: await _scrape(http, url) for name, url in urls.items()})
            enrich = scraped["enrich-0"] + scraped["enrich-1"]
            return all(
                _has(samples, metric) and _total(samples, metric) == 0
                for samples, metric in (
                    (enrich, "newsflow_enrich_consumer_lag_records"),
                    (scraped["sink"], "newsflow_sink_consumer_lag_records"),
                )
            )

        await _until(lag_is_reported, "every consumer to report zero lag")

    for name, samples in scraped.items():
        service = name.split("-")[0]
        assert _total(samples, "newsflow_build_info", service=service) == 1
        assert _total(samples, "newsflow_build_info", version=newsflow_version()) == 1
        assert _total(samples, "process_cpu_seconds_total") > 0
        assert _total(samples, "process_resident_memory_bytes") > 0
        assert _has(samples, "python_info")

    ingest = scraped["ingest"]
    assert _total(ingest, "newsflow_ingest_pages_accepted_total") == 3

    enrich = scraped["enrich-0"] + scraped["enrich-1"]
    emitted = _total(enrich, "newsflow_enrich_articles_emitted_total")
    assert emitted == 2  # the second news page repeats the first one's two articles
    assert _total(enrich, "newsflow_enrich_pages_consumed_total") == 4
    assert _total(enrich, "newsflow_enrich_duplicates_total", kind="exact") == 2
    assert _total(enrich, "newsflow_enrich_duplicates_total", kind="near") == 0
    assert _total(enrich, "newsflow_enrich_dead_letters_total", reason="no_articles") == 1
    assert _total(enrich, "newsflow_enrich_dead_letters_total", reason="malformed_json") == 1
    assert _total(enrich, "newsflow_enrich_batch_failures_total") == 0
    assert _total(enrich, "newsflow_enrich_page_seconds_count") == 4
    assert _total(enrich, "newsflow_enrich_page_seconds_sum") > 0
    assert _total(enrich, "newsflow_enrich_batch_records_sum") == 4
    assert _total(enrich, "newsflow_enrich_publish_seconds_count") >= 1
    assert _total(enrich, "newsflow_enrich_dedupe_store_seconds_count", operation="register") >= 1
    assert _total(enrich, "newsflow_enrich_fetched_age_seconds_count") == emitted
    assert _total(enrich, "newsflow_enrich_published_age_seconds_count") == emitted
    # The pages were fetched on 2025-06-21: at emit they were more than 30 days old.
    fetched_age = _total(enrich, "newsflow_enrich_fetched_age_seconds_sum") / emitted
    assert fetched_age > 30 * 86400

    sink = scraped["sink"]
    assert _total(sink, "newsflow_sink_events_consumed_total") == emitted + 1
    assert _total(sink, "newsflow_sink_events_written_total", writer="jsonl") == emitted
    assert _total(sink, "newsflow_sink_dead_letters_total", reason="invalid_page") == 1
    assert _total(sink, "newsflow_sink_write_seconds_count", writer="jsonl") >= 1
    assert _total(sink, "newsflow_sink_batch_records_sum") == emitted + 1
    assert _total(sink, "newsflow_sink_batch_failures_total") == 0
    # Every event came through ingest, so each has a latency, taken when it became durable.
    assert _total(sink, "newsflow_sink_ingest_to_sink_seconds_count") == emitted
    assert 0 < _total(sink, "newsflow_sink_ingest_to_sink_seconds_sum") < emitted * WAIT_S
