"""Ingest's metrics: the series of every reject reason and route exist from the start."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.ingest.errors import RejectReason
from services.ingest.metrics import ROUTES, IngestMetrics

NAME = "newsflow_ingest_pages_rejected_total"


def _rejected(registry: CollectorRegistry) -> dict[str, float]:
    return {
        sample.labels["reason"]: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == NAME
    }


def test_every_reject_reason_starts_at_zero() -> None:
    """Before any refusal there is one zero sample per reason, and no other reason."""
    registry = CollectorRegistry()
    IngestMetrics(registry)
    assert _rejected(registry) == {reason.value: 0.0 for reason in RejectReason}


def test_the_first_refusal_moves_its_series_from_zero_to_one() -> None:
    """A refusal counts on the series that already existed, leaving the others at zero."""
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    metrics.pages_rejected.labels(RejectReason.OVERLOADED.value).inc()
    rejected = _rejected(registry)
    assert rejected.pop("overloaded") == 1.0
    assert set(rejected.values()) == {0.0}
    assert len(rejected) == len(RejectReason) - 1


def test_every_route_has_its_latency_series_and_page_routes_their_size_series() -> None:
    """Request latency starts at a zero count for every route (and `other`); request size
    for the two page routes."""
    registry = CollectorRegistry()
    IngestMetrics(registry)
    routes = {*ROUTES, "other"}
    for route in routes:
        count = registry.get_sample_value("newsflow_ingest_request_seconds_count", {"route": route})
        assert count == 0, route
    sized = {
        sample.labels["route"]
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "newsflow_ingest_request_bytes_count"
    }
    assert sized == {"/v1/pages", "/v1/pages/batch"}
