"""The workers' metrics server: /metrics and the probes over HTTP, on a free port, stoppable."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from newsflow.health import Health
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


def test_with_health_the_port_answers_the_probes_and_404_elsewhere() -> None:
    """Over HTTP: /healthz and /readyz follow the Health, /metrics the registry, others 404."""
    health = Health(("consumer",))
    with MetricsServer(_registry(), health=health) as server:
        base = server.url.removesuffix("/metrics")
        with httpx.Client(base_url=base, timeout=5.0) as http:
            assert http.get("/healthz").status_code == 200
            not_ready = http.get("/readyz")
            assert (not_ready.status_code, not_ready.text) == (
                503,
                "starting: waiting for consumer\n",
            )
            health.started("consumer")
            assert http.get("/readyz").status_code == 200
            assert http.head("/readyz").status_code == 200
            assert "newsflow_build_info" in http.get("/metrics").text
            assert http.get("/anything").status_code == 404
            health.drain()
            assert http.get("/readyz").status_code == 503


def test_without_health_probe_paths_are_404_not_metrics() -> None:
    """A server built without Health no longer answers every path with the metrics."""
    with MetricsServer(_registry()) as server, httpx.Client(timeout=5.0) as http:
        base = server.url.removesuffix("/metrics")
        assert http.get(server.url).status_code == 200
        assert http.get(f"{base}/healthz").status_code == 404
        assert http.get(f"{base}/readyz").status_code == 404


def test_an_ipv6_host_is_served() -> None:
    """Bound to ::1, the server listens on IPv6 and names its URL with brackets."""
    with MetricsServer(_registry(), host="::1", health=Health(())) as server:
        assert server.url.startswith("http://[::1]:")
        assert httpx.get(server.url, timeout=5.0).status_code == 200
        assert httpx.get(server.url.replace("/metrics", "/readyz"), timeout=5.0).text == "ready\n"
