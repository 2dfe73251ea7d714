"""The benchmark's reading of the sink's latency histogram: shares and quantiles from buckets."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from benchmarks.pipeline_scrape import BucketedLatency, latency_between, latency_in
from newsflow.metrics import PIPELINE_BUCKETS


def _snapshot(histogram_values: list[float]) -> BucketedLatency:
    """What the benchmark reads from a sink whose histogram observed these values."""
    registry = CollectorRegistry()
    histogram = Histogram(
        "newsflow_sink_ingest_to_sink_seconds", "h", buckets=PIPELINE_BUCKETS, registry=registry
    )
    for value in histogram_values:
        histogram.observe(value)
    return latency_in(generate_latest(registry).decode())


def test_the_share_within_a_bound_is_exact_and_the_quantile_lies_in_its_bucket() -> None:
    """98 events at 40 ms, 2 at 260 ms: 98 % within 250 ms, so the p99 lies in (250, 300]."""
    latency = _snapshot([0.04] * 98 + [0.26] * 2)
    assert latency.count == 100
    assert latency.share_within(0.25) == pytest.approx(0.98)
    assert 0.025 < latency.quantile(0.5) <= 0.05
    assert 0.25 < latency.quantile(0.99) <= 0.3
    with pytest.raises(ValueError, match="not a bucket bound"):
        latency.share_within(0.26)


def test_only_events_between_two_snapshots_count() -> None:
    """Warm-up events before the first snapshot are left out of the phase's figures."""
    before = _snapshot([5.0] * 10)
    after = _snapshot([5.0] * 10 + [0.1] * 30)
    phase = latency_between(before, after)
    assert phase.count == 30
    assert phase.share_within(0.25) == 1.0
    assert 0.075 < phase.quantile(0.99) <= 0.1
    assert math.isnan(BucketedLatency(()).quantile(0.99))
