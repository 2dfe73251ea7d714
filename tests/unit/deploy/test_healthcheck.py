"""deploy/healthcheck.py finds the service a container runs and the port its settings give it."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.unit.deploy.files import DEPLOY


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("newsflow_healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


probe = _load()


@pytest.mark.parametrize(
    ("argv", "service"),
    [
        (["/opt/newsflow/bin/python", "/opt/newsflow/bin/newsflow", "ingest"], "ingest"),
        (["/sbin/docker-init", "--", "newsflow", "enrich"], "enrich"),
        (["newsflow", "sink"], "sink"),
        (["newsflow", "run", "--enrich-workers", "2"], "ingest"),
        (["newsflow", "tail", "--topic", "pages.dlq"], None),
        ([], None),
    ],
)
def test_service_is_read_from_a_command_line(argv: list[str], service: str | None) -> None:
    """The first newsflow service word of PID 1's argv names the service; `run` serves ingest."""
    assert probe.service_of(argv) == service


def test_ingest_is_probed_on_its_http_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """ingest's /healthz is asked on NEWSFLOW_HTTP_PORT, on loopback when bound to all."""
    monkeypatch.setenv("NEWSFLOW_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("NEWSFLOW_HTTP_PORT", "18080")
    assert probe.probe_url("ingest") == "http://127.0.0.1:18080/healthz"


@pytest.mark.parametrize(("service", "default"), [("enrich", 9101), ("sink", 9102)])
def test_workers_are_probed_on_their_metrics_port(
    service: str, default: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's /healthz is asked on its metrics port: the default, or NEWSFLOW_METRICS_PORT."""
    monkeypatch.delenv("NEWSFLOW_METRICS_PORT", raising=False)
    monkeypatch.setenv("NEWSFLOW_METRICS_HOST", "::")
    monkeypatch.setenv("NEWSFLOW_SINK", "jsonl")
    assert probe.probe_url(service) == f"http://127.0.0.1:{default}/healthz"
    monkeypatch.setenv("NEWSFLOW_METRICS_PORT", "19999")
    monkeypatch.setenv("NEWSFLOW_METRICS_HOST", "127.0.0.2")
    assert probe.probe_url(service) == "http://127.0.0.2:19999/healthz"


def test_a_free_port_setting_cannot_be_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Port 0 (pick any) leaves nothing to probe: a ValueError, which main turns into exit 1."""
    monkeypatch.setenv("NEWSFLOW_METRICS_PORT", "0")
    with pytest.raises(ValueError, match="free port"):
        probe.probe_url("enrich")
    assert probe.main(["enrich"]) == 1


def test_invalid_settings_are_unhealthy_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sink configured for PostgreSQL without a DSN answers exit 1 with a message."""
    monkeypatch.setenv("NEWSFLOW_SINK", "postgres")
    monkeypatch.delenv("NEWSFLOW_POSTGRES_DSN", raising=False)
    assert probe.main(["sink"]) == 1
