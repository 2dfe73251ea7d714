"""Where enrich's time goes per batch, read from the workers' own Prometheus histograms.

`newsflow run` serves every worker's /metrics (`Pipeline.metrics_urls()`); enrich observes,
per batch, its record count, its processing time (split, dates, fingerprints and dedupe),
its publish wait and its dedupe store calls. Two snapshots (before and after a phase),
summed over the enrich workers, give the phase's means. Missing metrics are skipped: the
figures are diagnostics, not results.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

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
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name in totals and sample.labels.get("operation") in (
                        None,
                        "register",
                    ):
                        totals[sample.name] += sample.value
    return totals


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
