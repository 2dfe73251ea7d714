"""The Grafana dashboard, its provisioning and the alert rules name what the services export."""

from __future__ import annotations

import json
import re
from typing import Any, Final

import pytest
from prometheus_client import CollectorRegistry

from services.enrich.metrics import EnrichMetrics
from services.ingest.metrics import IngestMetrics
from services.sink.metrics import SinkMetrics
from tests.unit.deploy.files import DEPLOY, ROOT, load_yaml

DASHBOARD: Final = json.loads((DEPLOY / "grafana/dashboards/newsflow.json").read_text("utf-8"))
PANELS: Final = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
RULES: Final = [
    rule
    for group in load_yaml(DEPLOY / "prometheus/alerts.yml")["groups"]
    for rule in group["rules"]
]
SCRAPE: Final = load_yaml(DEPLOY / "prometheus/prometheus.yml")
_QUOTED: Final = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME_REGEX: Final = re.compile(r'__name__\s*=~\s*"([^"]+)"')
_METRIC: Final = re.compile(r"\b(newsflow_[a-z0-9_]+)\b")
_JOB: Final = re.compile(r'job\s*=~?\s*"([^"]+)"')


def _names_of(registry: CollectorRegistry) -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def _exported_names() -> frozenset[str]:
    """Every sample name the three services export, read from their metric classes."""
    ingest, enrich, sink = CollectorRegistry(), CollectorRegistry(), CollectorRegistry()
    IngestMetrics(ingest)
    EnrichMetrics(enrich)
    SinkMetrics(sink, writer="postgres")
    return frozenset(_names_of(ingest) | _names_of(enrich) | _names_of(sink))


EXPORTED: Final = _exported_names()


def _expressions() -> list[tuple[str, str]]:
    """(where, expression) for every dashboard target and every alert."""
    found = [(f"panel {p['title']!r}", t["expr"]) for p in PANELS for t in p["targets"]]
    return found + [(f"alert {r['alert']}", r["expr"]) for r in RULES]


def _github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def _runbook_anchors() -> frozenset[str]:
    """Heading anchors of the runbook, in README.md."""
    anchors: set[str] = set()
    for path in (ROOT / "README.md",):
        if path.exists():
            text = path.read_text("utf-8")
            anchors.update(
                _github_anchor(line.lstrip("#"))
                for line in text.splitlines()
                if line.startswith("#")
            )
    return frozenset(anchors)


RUNBOOK_ANCHORS: Final = _runbook_anchors()


def test_exported_names_come_from_the_metric_classes() -> None:
    """The derived name set is real: it holds counters, histograms and gauges of each service."""
    assert {
        "newsflow_ingest_pages_accepted_total",
        "newsflow_enrich_page_seconds_bucket",
        "newsflow_enrich_consumer_lag_records",
        "newsflow_sink_write_seconds_count",
        "newsflow_build_info",
    } <= EXPORTED


@pytest.mark.parametrize(("where", "expr"), _expressions())
def test_every_query_names_exported_metrics(where: str, expr: str) -> None:
    """Each metric an expression reads is exported by some service; name regexes match some."""
    for pattern in _NAME_REGEX.findall(expr):
        assert any(re.fullmatch(pattern, name) for name in EXPORTED), (where, pattern)
    names = set(_METRIC.findall(_QUOTED.sub('""', expr)))
    assert names or _NAME_REGEX.search(expr) or "up{" in expr, where
    assert names <= EXPORTED, (where, names - EXPORTED)


@pytest.mark.parametrize(("where", "expr"), _expressions())
def test_every_job_an_expression_selects_is_scraped(where: str, expr: str) -> None:
    """A `job` matcher selects job names that prometheus.yml defines."""
    jobs = {job["job_name"] for job in SCRAPE["scrape_configs"]}
    for pattern in _JOB.findall(expr):
        matched = {job for job in jobs if re.fullmatch(pattern, job)}
        assert matched, (where, pattern)


def test_dashboard_panels_use_the_provisioned_datasource() -> None:
    """Every panel and target names the uid the datasource provisioning gives Prometheus."""
    (source,) = load_yaml(DEPLOY / "grafana/provisioning/datasources/prometheus.yaml")[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    for panel in PANELS:
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]


def test_dashboard_layout_has_unique_ids_and_no_overlap() -> None:
    """Panel ids are unique and no two panels share a grid cell of the 24-column grid."""
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in DASHBOARD["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & area, panel["title"]
        cells |= area


def test_dashboard_covers_the_pipeline() -> None:
    """Panels cover intake, rejections, articles, duplicates, dead letters, lag and errors."""
    titles = " | ".join(panel["title"].lower() for panel in PANELS)
    for topic in (
        "pages accepted", "rejected", "articles emitted", "duplicate", "dead letters",
        "processing latency", "freshness", "consumer lag", "sink write latency", "errors",
    ):  # fmt: skip
        assert topic in titles, topic


def test_dashboard_provider_loads_the_dashboard_folder() -> None:
    """The file provider reads the folder compose mounts the dashboard into."""
    (provider,) = load_yaml(DEPLOY / "grafana/provisioning/dashboards/newsflow.yaml")["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"


@pytest.mark.parametrize("rule", RULES, ids=[rule["alert"] for rule in RULES])
def test_every_alert_has_a_summary_and_a_runbook_section(rule: dict[str, Any]) -> None:
    """summary and runbook_url are set; the runbook anchor is a heading of README.md."""
    anchor = f"alert-{rule['alert'].lower()}"
    annotations = rule["annotations"]
    assert annotations["summary"]
    assert annotations["runbook_url"] == f"README.md#{anchor}"
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert anchor in RUNBOOK_ANCHORS


def test_prometheus_loads_the_alert_file_and_the_tests_cover_every_alert() -> None:
    """prometheus.yml loads alerts.yml, and alerts.test.yml exercises each alert by name."""
    assert SCRAPE["rule_files"] == ["alerts.yml"]
    tests = load_yaml(DEPLOY / "prometheus/alerts.test.yml")
    assert tests["rule_files"] == ["alerts.yml"]
    tested = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert tested == {rule["alert"] for rule in RULES}
