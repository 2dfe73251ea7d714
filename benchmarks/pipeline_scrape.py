"""Where enrich's time goes per batch, and the sink's ingest-to-sink latency, read from the
services' own Prometheus histograms.

`newsflow run` serves every worker's /metrics (`Pipeline.metrics_urls()`); enrich observes,
per batch, its record count, its processing time (split, dates, fingerprints and dedupe),
its publish wait and its dedupe store calls. Two snapshots (before and after a phase),
summed over the enrich workers, give the phase's means. Missing metrics are skipped: the
figures are diagnostics, not results.

The sink observes, per event it made durable, the time since ingest published the event's
page (`newsflow_sink_ingest_to_sink_seconds`, 25 ms buckets up to 250 ms): measured inside
the sink, so nothing polls the broker for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

_SUMS = (
    "newsflow_enrich_batch_records_sum",
    "newsflow_enrich_batch_records_count",
    "newsflow_enrich_page_seconds_sum",
    "newsflow_enrich_publish_seconds_sum",
    "newsflow_enrich_publish_seconds_count",
    "newsflow_enrich_dedupe_store_seconds_sum",
    "newsflow_enrich_dedupe_store_seconds_count",
)


async def enrich_totals(urls: Mapping[str, str]) -> dict[str, float]:
    """The histogram sums and counts of `_SUMS`, added over the enrich workers' /metrics."""
    totals = dict.fromkeys(_SUMS, 0.0)
    async with httpx.AsyncClient(timeout=5.0) as client:
        for name, url in urls.items():
            if not name.startswith("enrich"):
                continue
            try:
                text = (await client.get(url)).text
            except httpx.HTTPError:
                continue
            for sample in _samples(text):
                if sample.name in totals and sample.labels.get("operation") in (None, "register"):
                    totals[sample.name] += sample.value
    return totals


def _samples(exposition: str) -> Iterator[Sample]:
    """Every sample of a /metrics answer."""
    for family in text_string_to_metric_families(exposition):
        yield from family.samples


def per_batch(before: Mapping[str, float], after: Mapping[str, float]) -> str:
    """Mean pages, processing, publish and dedupe-register time per batch between snapshots."""
    d = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in _SUMS}
    batches = d["newsflow_enrich_batch_records_count"]
    if batches <= 0:
        return "n/a (no enrich metrics)"
    pages = d["newsflow_enrich_batch_records_sum"]
    # page_seconds observes batch time / pages once per page: its sum is the processing time.
    processing = d["newsflow_enrich_page_seconds_sum"]
    publish = d["newsflow_enrich_publish_seconds_sum"]
    store = d["newsflow_enrich_dedupe_store_seconds_sum"]
    return (
        f"{batches:.0f} batches of {pages / batches:.1f} pages on average; per batch: "
        f"processing {processing * 1000 / batches:.0f} ms (of which dedupe register "
        f"{store * 1000 / batches:.0f} ms), publish {publish * 1000 / batches:.0f} ms"
    )


_LATENCY_BUCKET = "newsflow_sink_ingest_to_sink_seconds_bucket"


@dataclass(frozen=True, slots=True)
class BucketedLatency:
    """A cumulative histogram: (upper bound in seconds, events at or under it), bounds rising."""

    buckets: tuple[tuple[float, float], ...]

    @property
    def count(self) -> float:
        return self.buckets[-1][1] if self.buckets else 0.0

    def share_within(self, seconds: float) -> float:
        """The share of events at or under `seconds`, which must be one of the bounds."""
        cumulative = dict(self.buckets)
        if seconds not in cumulative:
            raise ValueError(f"{seconds} s is not a bucket bound")
        return cumulative[seconds] / self.count if self.count else 0.0

    def quantile(self, q: float) -> float:
        """Prometheus' `histogram_quantile`: linear within the bucket that holds the rank."""
        rank = q * self.count
        lower, below = 0.0, 0.0
        for bound, cumulative in self.buckets:
            if cumulative >= rank and cumulative > below:
                if math.isinf(bound):
                    return lower
                return lower + (bound - lower) * (rank - below) / (cumulative - below)
            lower, below = bound, cumulative
        return math.nan


async def sink_latency(urls: Mapping[str, str]) -> BucketedLatency:
    """The sink's ingest-to-sink histogram as it stands (empty when the sink does not serve it)."""
    url = urls.get("sink")
    if url is None:
        return BucketedLatency(())
    async with httpx.AsyncClient(timeout=5.0) as client:
        return latency_in((await client.get(url)).text)


def latency_in(exposition: str) -> BucketedLatency:
    """The ingest-to-sink histogram of a /metrics answer (empty when it has none)."""
    buckets = [
        (float(sample.labels["le"]), sample.value)
        for sample in _samples(exposition)
        if sample.name == _LATENCY_BUCKET
    ]
    return BucketedLatency(tuple(sorted(buckets)))


def latency_between(before: BucketedLatency, after: BucketedLatency) -> BucketedLatency:
    """The events observed between two snapshots of one histogram."""
    earlier = dict(before.buckets)
    return BucketedLatency(tuple((le, n - earlier.get(le, 0.0)) for le, n in after.buckets))
