"""The measured phases of the pipeline benchmark, each on a fresh pipeline and time-bounded.

- `throughput`: push a pages file through ingest (`newsflow push`'s `push_paths`, requests of
  100 pages one at a time, as its defaults send them) once every group is Stable; time from
  the first request to the sink's last commit. Also the per-event latency at that
  (saturating) rate, and VmHWM.
- `drain`: fill `pages.raw` with no enrich worker running, then start K workers; time from
  the moment the group is Stable with K members to the enrich group's last commit.
- `latency`: a paced push at a given rate; per-event ingest-to-sink latency from the sink's
  own histogram, and the enrich part of it from record timestamps.

Times come from `CommitWatch` (group commits seen from outside); see `pipeline_probe`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.pipeline_pages import PacedPush, paced_push, read_lines
from benchmarks.pipeline_probe import (
    CommitWatch,
    Latencies,
    end_offsets,
    ingest_to_sink,
    read_records,
    wait_group_stable,
)
from benchmarks.pipeline_proc import load_average
from benchmarks.pipeline_scrape import (
    BucketedLatency,
    enrich_totals,
    latency_between,
    per_batch,
    sink_latency,
)
from benchmarks.pipeline_stack import BenchStack
from newsflow.push import PushSummary, push_paths

_JOIN_TIMEOUT_S = 60.0
"""Group joins take about half the session timeout (6 s): a minute is ample."""


class PhaseFailed(RuntimeError):
    """A phase did not finish within its time bound."""


@dataclass
class Outcome:
    """What one pipeline run measured."""

    pages: int
    workers: int
    seconds: float = float("nan")
    events: int = 0
    """Events published by enrich to articles.events."""
    written: int = 0
    """Complete lines in the JSONL files."""
    memory: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each service (and "bench", this process) used while the clock ran."""
    restarts: int = 0
    latency: Latencies | None = None
    push_s: float = float("nan")
    enrich_s: float = float("nan")
    """From the start of the clock to the enrich group's last commit."""
    load_before: str = ""
    load_after: str = ""
    pushed: PacedPush | None = None
    enrich_batches: str = ""
    """Enrich's per-batch means from its /metrics over the phase."""
    sink_latency: BucketedLatency | None = None
    """The sink's own ingest-to-sink histogram over the phase (latency phase)."""

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds

    @property
    def articles_per_s(self) -> float:
        return self.written / self.seconds


async def _stable(stack: BenchStack, enrich_workers: int) -> None:
    k, options = stack.kafka, stack.options
    groups = [(options.sink_group, 1)]
    if enrich_workers:
        groups.append((options.enrich_group, enrich_workers))
    for group, members in groups:
        if await wait_group_stable(k, group, members, _JOIN_TIMEOUT_S) is None:
            raise PhaseFailed(f"group {group} did not become Stable with {members} members")


async def _wait(watch: CommitWatch, total: int, timeout_s: float, what: str) -> None:
    if not await watch.wait_for(total, timeout_s):
        raise PhaseFailed(f"{what}: {watch.committed()} of {total} committed in {timeout_s:.0f} s")


def _cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: used - before.get(name, 0.0) for name, used in after.items()}


@dataclass(frozen=True, slots=True)
class _Start:
    """Counters read when the clock starts."""

    cpu: dict[str, float]
    metrics: dict[str, float]


async def _start(stack: BenchStack) -> _Start:
    return _Start(stack.cpu(), await enrich_totals(stack.metrics_urls()))


async def _finish(
    stack: BenchStack, outcome: Outcome, accepted: int, deadline: float, start: _Start
) -> float:
    """Wait for enrich, then the sink, to commit everything; the sink's last commit time."""
    assert stack.enrich_watch is not None
    assert stack.sink_watch is not None
    await _wait(stack.enrich_watch, accepted, deadline - time.monotonic(), "enrich")
    metrics = await enrich_totals(stack.metrics_urls())
    outcome.enrich_batches = per_batch(start.metrics, metrics)
    outcome.events = sum((await end_offsets(stack.kafka, stack.kafka.topic_events)).values())
    await _wait(stack.sink_watch, outcome.events, deadline - time.monotonic(), "sink")
    outcome.cpu = _cpu_delta(start.cpu, stack.cpu())
    outcome.memory = stack.memory()
    outcome.restarts = stack.restarts()
    outcome.written = stack.jsonl_lines()
    enrich = stack.enrich_watch.first_and_last()
    sink = stack.sink_watch.first_and_last()
    assert enrich is not None
    assert sink is not None
    outcome.enrich_s = enrich[2]
    return sink[2]


async def _push(path: Path, base_url: str, deadline: float) -> PushSummary:
    """`newsflow push` of the file as its defaults send it: requests of 100 pages, one at a
    time, so that ingest takes the pages in the file's order, as offline enrich reads them."""
    return await asyncio.wait_for(
        push_paths(
            [path], base_url=base_url, token=None, concurrency=1, source=None, fetched_at=None,
            batch_size=100, max_retries=8, progress=False,
        ),
        deadline - time.monotonic(),
    )  # fmt: skip


async def _latencies(
    stack: BenchStack, timeout_s: float, only: set[str] | None = None
) -> Latencies:
    assert stack.sink_watch is not None
    k = stack.kafka
    pages = await read_records(k, k.topic_pages, timeout_s)
    events = await read_records(k, k.topic_events, timeout_s)
    if only is not None:
        pages = [page for page in pages if page.key.decode() in only]
        events = [event for event in events if event.page_id in only]
    return ingest_to_sink(pages, events, stack.sink_watch)


async def throughput(
    path: Path, pages: int, workers: int, *, timeout_s: float, with_latency: bool = True
) -> Outcome:
    """Push the whole file as fast as ingest takes it; pages/s from first request to sink."""
    outcome = Outcome(pages, workers, load_before=load_average())
    deadline = time.monotonic() + timeout_s
    async with BenchStack(enrich_workers=workers) as stack:
        await _stable(stack, workers)
        start = await _start(stack)
        started = time.time()
        summary = await _push(path, stack.base_url, deadline)
        outcome.push_s = time.time() - started
        accepted = len(summary.page_ids)
        if accepted != pages:
            raise PhaseFailed(f"ingest accepted {accepted} of {pages} pages")
        last = await _finish(stack, outcome, accepted, deadline, start)
        outcome.seconds = last - started
        outcome.enrich_s -= started
        if with_latency:
            outcome.latency = await _latencies(stack, deadline - time.monotonic())
        outcome.load_after = load_average()
    return outcome


@dataclass(frozen=True, slots=True)
class DrainOutcome:
    """Draining a filled raw topic with K enrich workers."""

    workers: int
    pages: int
    join_s: float
    """From starting the workers to the group Stable with all of them."""
    steady_s: float
    """From the group Stable to the enrich group's last commit."""
    steady_pages: int
    """Pages committed in that span."""
    total_s: float
    """From starting the workers to the last commit (includes start-up and the join)."""
    memory: dict[str, int]
    cpu: dict[str, float]
    """CPU seconds used in the steady span, per service."""
    enrich_batches: str
    """Enrich's per-batch means from its /metrics over the steady span."""
    load_before: str
    load_after: str

    @property
    def pages_per_s(self) -> float:
        return self.steady_pages / self.steady_s


async def drain(path: Path, pages: int, workers: int, *, timeout_s: float) -> DrainOutcome:
    """Fill the raw topic, then start `workers` enrich processes and time their drain."""
    load_before = load_average()
    deadline = time.monotonic() + timeout_s
    async with BenchStack(enrich_workers=0) as stack:
        assert stack.enrich_watch is not None
        summary = await _push(path, stack.base_url, deadline)
        accepted = len(summary.page_ids)
        if accepted != pages:
            raise PhaseFailed(f"ingest accepted {accepted} of {pages} pages")
        started = time.time()
        await stack.start_enrich(workers)
        k = stack.kafka
        stable = await wait_group_stable(k, stack.options.enrich_group, workers, _JOIN_TIMEOUT_S)
        if stable is None:
            raise PhaseFailed(f"the enrich group did not become Stable with {workers} members")
        done_before = stack.enrich_watch.committed()
        start = await _start(stack)
        await _wait(stack.enrich_watch, accepted, deadline - time.monotonic(), "enrich")
        cpu = _cpu_delta(start.cpu, stack.cpu())
        batches = per_batch(start.metrics, await enrich_totals(stack.metrics_urls()))
        span = stack.enrich_watch.first_and_last()
        assert span is not None
        memory = stack.memory()
        load_after = load_average()
    return DrainOutcome(
        workers, pages, stable - started, span[2] - stable, accepted - done_before,
        span[2] - started, memory, cpu, batches, load_before, load_after,
    )  # fmt: skip


async def latency(
    path: Path, warmup: Path, workers: int, *, rate: float, seconds: float, timeout_s: float
) -> Outcome:
    """Push pages at `rate` for about `seconds`; per-event ingest-to-sink latency.

    The pages of `warmup` go through first and are left out of the figures: each enrich
    process loads its language model on its first page (about 0.6 s), a once-per-process cost.
    """
    lines = read_lines(path, limit=max(2, round(rate * seconds)))
    warm = read_lines(warmup)
    outcome = Outcome(len(lines), workers, load_before=load_average())
    deadline = time.monotonic() + timeout_s
    # The judged latency is the sink's own histogram; the watches only tell when it is done.
    async with BenchStack(enrich_workers=workers) as stack:
        await _stable(stack, workers)
        assert stack.enrich_watch is not None
        assert stack.sink_watch is not None
        warmed = await paced_push(stack.base_url, warm, rate=max(rate, 100.0))
        await _wait(stack.enrich_watch, warmed.accepted, deadline - time.monotonic(), "warm-up")
        warm_events = sum((await end_offsets(stack.kafka, stack.kafka.topic_events)).values())
        await _wait(stack.sink_watch, warm_events, deadline - time.monotonic(), "warm-up sink")
        start = await _start(stack)
        before = await sink_latency(stack.metrics_urls())
        started = time.time()
        pushed = await asyncio.wait_for(
            paced_push(stack.base_url, lines, rate=rate), deadline - time.monotonic()
        )
        outcome.pushed = pushed
        outcome.push_s = pushed.seconds
        total = warmed.accepted + pushed.accepted
        last = await _finish(stack, outcome, total, deadline, start)
        outcome.sink_latency = latency_between(before, await sink_latency(stack.metrics_urls()))
        outcome.seconds = last - started
        outcome.enrich_s -= started
        outcome.latency = await _latencies(
            stack, deadline - time.monotonic(), only=set(pushed.accepted_at)
        )
        outcome.load_after = load_average()
    return outcome
