"""How the pipeline benchmark prints what it measured: one line per fact, tagged by phase."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarks.pipeline_limits import OfflineRate
from benchmarks.pipeline_phases import DrainOutcome, Outcome
from benchmarks.pipeline_probe import quantiles


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Summary:
    """The targets one run judged, printed again together at its end."""

    rows: list[tuple[str, str, bool]] = field(default_factory=list)

    def judge(self, target: str, figure: str, ok: bool) -> str:
        """Note a judged target; its verdict, for the phase's own line."""
        self.rows.append((target, figure, ok))
        return verdict(ok)

    def print(self) -> None:
        if not self.rows:
            return
        width = max(len(target) for target, _, _ in self.rows)
        print("[summary] the targets this run judged:")
        for target, figure, ok in self.rows:
            print(f"[summary]   {target:<{width}}  {figure}  {verdict(ok)}")


def mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f}"


def memory_line(memory: Mapping[str, int]) -> str:
    return " ".join(f"{name}={mib(kib)}" for name, kib in sorted(memory.items()))


def cpu_line(cpu: Mapping[str, float], pages: int) -> str:
    """CPU milliseconds per page by service, enrich workers summed, and the total."""
    grouped: dict[str, float] = {}
    for name, seconds in cpu.items():
        key = "enrich" if name.startswith("enrich") else name
        grouped[key] = grouped.get(key, 0.0) + seconds
    parts = [f"{name}={seconds * 1000 / pages:.2f}" for name, seconds in sorted(grouped.items())]
    return " ".join([*parts, f"total={sum(grouped.values()) * 1000 / pages:.2f}"])


def print_outcome(label: str, o: Outcome, *, rates: bool = True) -> None:
    if rates:
        print(
            f"[{label}] pages={o.pages} enrich_workers={o.workers} seconds={o.seconds:.1f} "
            f"pages/s={o.pages_per_s:.1f} articles/s={o.articles_per_s:.1f} "
            f"(events published={o.events}, distinct lines in JSONL={o.written})"
        )
        print(
            f"[{label}]   push done at {o.push_s:.1f}s, enrich done at {o.enrich_s:.1f}s, "
            f"sink done at {o.seconds:.1f}s; service restarts={o.restarts}"
        )
    if o.sink_latency is not None and o.sink_latency.count and o.latency is not None:
        hist, lat = o.sink_latency, o.latency
        print(
            f"[{label}]   ingest-to-sink (the sink's histogram, per event): "
            f"p50~{hist.quantile(0.5) * 1000:.0f}ms p95~{hist.quantile(0.95) * 1000:.0f}ms "
            f"p99~{hist.quantile(0.99) * 1000:.0f}ms (events={hist.count:.0f}; "
            f"{hist.share_within(0.25):.2%} within 250 ms)"
        )
        print(
            f"[{label}]     of which page->event published (record timestamps) "
            f"{quantiles(lat.enrich_ms)} (events={len(lat.enrich_ms)})"
        )
    elif o.latency is not None:
        lat = o.latency
        print(f"[{label}]   ingest-to-sink {quantiles(lat.total_ms)} (events={len(lat.total_ms)})")
        print(
            f"[{label}]     of which page->event published {quantiles(lat.enrich_ms)}; "
            f"event->sink commit seen {quantiles(lat.sink_ms)}; unmatched={lat.missing}"
        )
    if o.enrich_batches:
        print(f"[{label}]   enrich /metrics: {o.enrich_batches}")
    wall = o.seconds
    busy = sum(o.cpu.values())
    print(
        f"[{label}]   CPU ms/page: {cpu_line(o.cpu, o.pages)} "
        f"(these processes kept {busy / wall:.2f} cores busy on average)"
    )
    print(f"[{label}]   VmHWM MiB: {memory_line(o.memory)}")
    print(f"[{label}]   load average before: {o.load_before}  after: {o.load_after}", flush=True)


def print_offline(rate: OfflineRate, when: str = "") -> None:
    how = (
        f"1 process{when}"
        if rate.processes == 1
        else f"{rate.processes} processes at once (each 1/{rate.processes} of the pages, "
        "pinned to its own CPU)"
    )
    print(
        f"[offline] newsflow enrich, {how}: seconds={rate.seconds:.1f} "
        f"pages/s={rate.pages_per_s:.1f} events={rate.events} "
        f"CPU ms/page={rate.cpu_s * 1000 / rate.pages:.2f} peak_rss_mib={mib(rate.peak_rss_kib)}",
        flush=True,
    )


def print_drain(d: DrainOutcome) -> None:
    print(
        f"[drain] enrich_workers={d.workers} pages={d.pages} start+join={d.join_s:.1f}s "
        f"steady: {d.steady_pages} pages in {d.steady_s:.1f}s = {d.pages_per_s:.1f} pages/s; "
        f"from start: {d.total_s:.1f}s = {d.pages / d.total_s:.1f} pages/s"
    )
    print(f"[drain]   enrich /metrics: {d.enrich_batches}")
    print(f"[drain]   CPU ms/page (steady): {cpu_line(d.cpu, d.steady_pages)}")
    print(f"[drain]   VmHWM MiB: {memory_line(d.memory)}")
    print(f"[drain]   load average before: {d.load_before}  after: {d.load_after}", flush=True)
