"""The dashboard and the alerts, evaluated by a real Prometheus scraping a real pipeline.

`Pipeline` (what `newsflow run` runs) starts ingest, two enrich workers deduping in Redis
and a PostgreSQL sink as child processes on the session broker, every worker on a free
metrics port. A real Prometheus, on its own free port and storage, scrapes them every
second with deploy/prometheus/prometheus.yml (only the targets swapped for the loopback
ones) and evaluates deploy/prometheus/alerts.yml. Pages go in through ingest; then every
dashboard query and every alert expression is run through Prometheus' HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import pytest_asyncio
import redis
from psycopg import sql

from benchmarks.corpus import generate_pages
from newsflow.broker import EmbeddedBroker, free_port
from newsflow.run import Pipeline, RunOptions
from newsflow.settings import KafkaSettings
from schemas import RawPage
from tests.integration.deploy.prometheus import PrometheusApi, ensure_prometheus, running_prometheus
from tests.samples import SAMPLE_PAGE
from tests.unit.deploy.files import DEPLOY, load_yaml

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

WAIT_S = 90.0
SCRAPE = "1s"
RATE_WINDOW = "10s"  # what Grafana's $__rate_interval is for a 1 s scrape: 4 scrapes and more
DASHBOARD = json.loads((DEPLOY / "grafana/dashboards/newsflow.json").read_text("utf-8"))
PANELS = [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]
RULES = [r for g in load_yaml(DEPLOY / "prometheus/alerts.yml")["groups"] for r in g["rules"]]
# Panels that must show a positive, finite value after real traffic went through.
MEASURED = (
    "Pages accepted per second",
    "Pages rejected per second, by reason",
    "Articles emitted per second",
    "Duplicate rate",
    "Processing latency per page",
    "Ingest request latency",
    "Freshness at emit",
    "Sink events written per second",
    "Sink write latency",
    "Dedupe store latency",
)


@dataclass(frozen=True)
class Running:
    """The pipeline, the Prometheus scraping it, and when the pages went in."""

    pipeline: Pipeline
    prometheus: PrometheusApi
    pushed_at: float
    env: dict[str, str]


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not await check():  # noqa: ASYNC110 - polls other processes over HTTP
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def _pages() -> list[RawPage]:
    """The seed page, the same page fetched again an hour later, and generated pages."""
    seed = RawPage.model_validate_json(SAMPLE_PAGE.read_text(encoding="utf-8").splitlines()[0])
    again = seed.model_copy(
        update={
            "page_id": f"{seed.page_id}-again",
            "fetched_at": seed.fetched_at + timedelta(hours=1),
        }
    )
    generated = [RawPage.model_validate(g.page) for g in generate_pages(40, seed=11)]
    return [seed, again, *generated]


def _scrape_config(urls: dict[str, str], self_port: int) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with 1 s intervals and loopback targets, nothing else."""
    config: dict[str, Any] = load_yaml(DEPLOY / "prometheus/prometheus.yml")
    config["global"].update(
        scrape_interval=SCRAPE, scrape_timeout=SCRAPE, evaluation_interval=SCRAPE
    )
    config["rule_files"] = [str(DEPLOY / "prometheus/alerts.yml")]
    for job in config["scrape_configs"]:
        job.pop("static_configs", None)
        job.pop("dns_sd_configs", None)
        if job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{self_port}"]}]
            continue
        service = job["job_name"].removeprefix("newsflow-")
        mine = [urlsplit(url) for name, url in urls.items() if name.split("-")[0] == service]
        assert mine, f"no process of {service} serves metrics"
        assert {u.path for u in mine} == {job["metrics_path"]}
        job["static_configs"] = [{"targets": sorted(u.netloc for u in mine)}]
    return config


def _clean_stores(dsn: str, schema: str, redis_url: str, prefix: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(
    kafka_broker: EmbeddedBroker,
    live_services: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Running]:
    """Pipeline + Prometheus with the pages pushed and drained; everything stopped after."""
    ensure_prometheus()
    dsn, redis_url = live_services
    name = uuid.uuid4().hex[:12]
    schema, prefix = f"deploy_{name}", f"newsflow-deploy-{name}:"
    kafka = KafkaSettings(
        bootstrap_servers=kafka_broker.bootstrap_servers,
        topic_pages=f"pages.raw.{name}",
        topic_events=f"articles.events.{name}",
        topic_dead_letters=f"pages.dlq.{name}",
    )
    env = {
        "NEWSFLOW_KAFKA_TOPIC_PAGES": kafka.topic_pages,
        "NEWSFLOW_KAFKA_TOPIC_EVENTS": kafka.topic_events,
        "NEWSFLOW_KAFKA_TOPIC_DEAD_LETTERS": kafka.topic_dead_letters,
        # What compose runs: enrich replicas sharing Redis, the sink writing to PostgreSQL.
        "NEWSFLOW_DEDUPE_STORE": "redis",
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_REDIS_PREFIX": prefix,
        "NEWSFLOW_SINK": "postgres",
        "NEWSFLOW_POSTGRES_DSN": dsn,
        "NEWSFLOW_POSTGRES_SCHEMA": schema,
        "NEWSFLOW_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "NEWSFLOW_LOG_LEVEL": "WARNING",
    }
    options = RunOptions(
        enrich_workers=2, http_port=free_port(), metrics_port=0, drain_timeout=WAIT_S, env=env
    )
    pipeline = Pipeline(kafka, options)
    try:
        async with asyncio.timeout(WAIT_S):
            await pipeline.start()
        port = free_port()
        config = _scrape_config(pipeline.metrics_urls(), self_port=port)
        workdir = tmp_path_factory.mktemp("prometheus")
        async with running_prometheus(config, workdir, port) as prometheus:
            await _until(
                lambda: _all_targets_up(prometheus, 5), "Prometheus to scrape every target"
            )
            pushed_at = time.time()
            written = await _push_and_drain(pipeline)
            await _until_scraped(prometheus, written)
            yield Running(pipeline, prometheus, pushed_at, env)
    except BaseException:
        await pipeline.kill()
        raise
    else:
        assert await pipeline.drain_and_stop()
    finally:
        _clean_stores(dsn, schema, redis_url, prefix)


async def _until_scraped(prometheus: PrometheusApi, written: float) -> None:
    """Wait until Prometheus holds the drained pipeline's counts and both groups' lag."""
    events = "sum(newsflow_sink_events_written_total)"
    await _until(lambda: _query_equals(prometheus, events, written), "the drained counts")
    # Lag is reported per partition once a worker has handled one: both groups, at zero.
    lag = "sum(newsflow_enrich_consumer_lag_records) + sum(newsflow_sink_consumer_lag_records)"
    await _until(lambda: _query_equals(prometheus, lag, 0), "both groups to report zero lag")
    # A rate needs two scrapes of a series: a quick drain can finish before ingest's request
    # counters (created by the first request) have been scraped twice.
    requests = f'rate(newsflow_ingest_requests_total{{route=~"/v1/pages.*"}}[{RATE_WINDOW}])'
    await _until(lambda: _has_result(prometheus, requests), "two scrapes of ingest's counters")


async def _has_result(prometheus: PrometheusApi, expr: str) -> bool:
    return bool((await prometheus.get("query", query=expr))["result"])


async def _all_targets_up(prometheus: PrometheusApi, count: int) -> bool:
    targets = (await prometheus.get("targets"))["activeTargets"]
    return len(targets) == count and all(t["health"] == "up" for t in targets)


async def _query_equals(prometheus: PrometheusApi, expr: str, expected: float) -> bool:
    result = (await prometheus.get("query", query=expr))["result"]
    return bool(result) and float(result[0]["value"][1]) == expected


async def _push_and_drain(pipeline: Pipeline) -> float:
    """Push the pages and one malformed request; once drained, the sink's written count."""
    pages = _pages()
    async with httpx.AsyncClient(base_url=pipeline.base_url, timeout=30.0) as http:
        for start in range(0, len(pages), 10):
            body = "\n".join(p.model_dump_json() for p in pages[start : start + 10]) + "\n"
            answer = await http.post(
                "/v1/pages/batch", content=body, headers={"content-type": "application/x-ndjson"}
            )
            assert answer.status_code == 202, answer.text
    await _refuse_one(pipeline)
    assert await pipeline.wait_until_drained(timeout=WAIT_S)
    async with httpx.AsyncClient(timeout=10.0) as http:
        text = (await http.get(pipeline.metrics_urls()["sink"])).text
    line = next(x for x in text.splitlines() if x.startswith("newsflow_sink_events_written_total{"))
    written = float(line.rsplit(" ", 1)[1])
    assert written > 0
    return written


async def _refuse_one(pipeline: Pipeline) -> None:
    async with httpx.AsyncClient(base_url=pipeline.base_url, timeout=30.0) as http:
        refused = await http.post(
            "/v1/pages", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert refused.status_code == 400


def _panel_queries() -> list[tuple[str, str, str]]:
    return [
        (panel["title"], target["refId"], target["expr"].replace("$__rate_interval", RATE_WINDOW))
        for panel in PANELS
        for target in panel["targets"]
    ]


async def test_every_dashboard_query_evaluates_and_every_panel_has_data(running: Running) -> None:
    """Each panel target runs as a range query without error; each panel returns series."""
    # Steps fall at start + k s: one past now makes the last step see the newest scrape.
    end = time.time() + 1
    values: dict[str, list[float]] = {panel["title"]: [] for panel in PANELS}
    series: dict[str, int] = {panel["title"]: 0 for panel in PANELS}
    for title, ref, expr in _panel_queries():
        data = await running.prometheus.get(
            "query_range", query=expr, start=running.pushed_at - 5, end=end, step=1
        )
        assert data["resultType"] == "matrix", (title, ref)
        series[title] += len(data["result"])
        values[title] += [float(v) for s in data["result"] for _, v in s["values"]]
    assert not [title for title, count in series.items() if count == 0]
    for title in MEASURED:
        finite = [v for v in values[title] if math.isfinite(v) and v > 0]
        assert finite, f"panel {title!r} shows no positive value"


async def test_duplicates_and_throughput_match_what_was_pushed(running: Running) -> None:
    """Prometheus counts every accepted page and the seed page's repeat as duplicates."""
    data = await running.prometheus.get("query", query="sum(newsflow_ingest_pages_accepted_total)")
    assert float(data["result"][0]["value"][1]) == len(_pages())
    data = await running.prometheus.get(
        "query", query='sum(newsflow_enrich_duplicates_total{kind="exact"})'
    )
    assert float(data["result"][0]["value"][1]) >= 1


async def test_every_alert_expression_evaluates_in_prometheus(running: Running) -> None:
    """Each alert expression runs without error, and Prometheus' own evaluation of the rule
    group reports every rule healthy."""
    for rule in RULES:
        await running.prometheus.get("query", query=rule["expr"])
    groups = (await running.prometheus.get("rules", type="alert"))["groups"]
    loaded = {rule["name"]: rule for group in groups for rule in group["rules"]}
    assert set(loaded) == {rule["alert"] for rule in RULES}
    for name, rule in loaded.items():
        assert rule["health"] == "ok", (name, rule.get("lastError"))
        assert rule["lastEvaluation"] != "0001-01-01T00:00:00Z", name


async def test_no_service_alert_on_a_healthy_pipeline(running: Running) -> None:
    """With every service scraped, neither the down nor the missing alert has a candidate:
    the job names of the rules and the scrape config agree."""
    for name in ("NewsflowServiceDown", "NewsflowServiceMissing"):
        (rule,) = [r for r in RULES if r["alert"] == name]
        data = await running.prometheus.get("query", query=rule["expr"])
        assert data["result"] == [], name
    jobs = await running.prometheus.get("label/job/values")
    assert {"newsflow-ingest", "newsflow-enrich", "newsflow-sink"} <= set(jobs)


async def test_worker_probe_paths_answer_on_the_metrics_port(running: Running) -> None:
    """The paths the Kubernetes probes ask of enrich and sink answer 200 on their metrics port."""
    urls = running.pipeline.metrics_urls()
    async with httpx.AsyncClient(timeout=5.0) as http:
        for name in ("enrich-0", "enrich-1", "sink"):
            base = urls[name].removesuffix("/metrics")
            for path in ("/healthz", "/readyz"):
                assert (await http.get(base + path)).status_code == 200, (name, path)


async def test_image_healthcheck_probes_each_service(running: Running) -> None:
    """deploy/healthcheck.py exits 0 for each running service and 1 for a closed port."""
    urls = running.pipeline.metrics_urls()
    cases = {
        "ingest": {"NEWSFLOW_HTTP_PORT": str(running.pipeline.options.http_port)},
        "enrich": {"NEWSFLOW_METRICS_PORT": str(urlsplit(urls["enrich-1"]).port)},
        "sink": {"NEWSFLOW_METRICS_PORT": str(urlsplit(urls["sink"]).port)},
    }
    base_env = {**os.environ, **running.env}
    for service, extra in cases.items():
        done = await _probe(service, {**base_env, **extra})
        assert done.returncode == 0, (service, done.stderr)
    closed = await _probe("enrich", {**base_env, "NEWSFLOW_METRICS_PORT": str(free_port())})
    assert closed.returncode == 1
    assert "did not answer 200" in closed.stderr


async def _probe(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(DEPLOY / "healthcheck.py"), service]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=30, check=False
    )
