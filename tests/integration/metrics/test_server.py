"""The /metrics server of the workers: scraped over HTTP, on a free port, stoppable."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from newsflow.metrics import MetricsServer, exported, register_base_metrics


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    register_base_metrics(registry, "sink")
    Counter("newsflow_sink_demo_total", "A counter.", registry=registry).inc(3)
    return registry


def test_server_on_port_zero_serves_the_registry_and_frees_the_port() -> None:
    """Port 0 binds a free 127.0.0.1 port named by `url`; after `stop` nothing answers there."""
    server = MetricsServer(_registry())
    with server:
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/metrics")
        answer = httpx.get(url, timeout=5.0)
        assert answer.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(answer.text)}
        assert families["newsflow_sink_demo"].samples[0].value == 3
        assert families["newsflow_build_info"].samples[0].labels["service"] == "sink"
        assert "process_cpu_seconds" in families
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5.0)


def test_a_taken_port_raises() -> None:
    """A second server on a port already served fails with OSError instead of sharing it."""
    with MetricsServer(_registry()) as first, pytest.raises(OSError, match="in use"):
        MetricsServer(_registry(), port=first.port).start()


async def test_exported_logs_the_url_and_writes_it_for_newsflow_run(tmp_path: Path) -> None:
    """While inside `exported` the URL is logged, written to the file and answers."""
    url_file = tmp_path / "enrich-0.url"
    with capture_logs() as logs:
        async with exported(_registry(), host="127.0.0.1", port=0, url_file=url_file) as server:
            url = server.url
            assert url_file.read_text(encoding="utf-8").strip() == url
            async with httpx.AsyncClient(timeout=5.0) as http:
                assert (await http.get(url)).status_code == 200
    assert [line["url"] for line in logs if line["event"] == "metrics serving"] == [url]
