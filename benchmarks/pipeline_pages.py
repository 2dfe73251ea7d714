"""The pages the pipeline benchmark sends, and the paced sender of its latency phase.

`write_pages` writes generated aggregator pages (`benchmarks.corpus`) as RawPage JSON lines.
The generator keeps every page of a call in memory, so large files are written in chunks of
`CHUNK` pages, each with its own seed (page ids carry the seed, so they stay unique); the
first chunk is the one a smaller file holds, so 10k pages are a prefix of 100k.

Fetch times come in two spacings, for two kinds of traffic:

- live (`LIVE_STEP`, one page a second: 10,000 pages span under 3 hours), what a scraper
  pushing pages as it fetches them sends: a sink batch lands in one or two hour files, and
  every page is inside the dedupe window, so the pipeline publishes exactly the offline
  events. The throughput, drain and latency phases use it.
- history (`HISTORY_STEP`, one page every 10 minutes, as in `benchmarks.enrich`): the dedupe
  window (7 days) then holds about a thousand pages whatever the file size, which is what a
  long-running stream looks like to enrich, and 10,000 pages span 1,667 hour files, more
  than the JSONL sink caches. The memory phase uses it, so memory is shown bounded by the
  window and the cache rather than the input. Its 6 partitions advance unevenly in fetch
  time (each request's 100 pages span 16.7 hours and sit on one partition), which the
  dedupe state's lanes absorb: one worker publishes offline's events on it exactly.

`paced_push` posts pages to ingest at a steady rate, in small NDJSON batches whose requests
overlap as concurrent scrapers' would, and notes when each page got its 202.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
import orjson

from benchmarks.corpus import generate_pages

CHUNK: Final = 10_000
LIVE_STEP: Final = timedelta(seconds=1)
HISTORY_STEP: Final = timedelta(minutes=10)
START: Final = datetime(2025, 1, 1, tzinfo=UTC)
SEED: Final = 7


def write_pages(
    path: Path,
    count: int,
    *,
    seed: int = SEED,
    start: datetime = START,
    step: timedelta,
) -> int:
    """Write `count` generated pages to `path`, one RawPage JSON per line; the bytes written."""
    written = 0
    with path.open("wb") as out:
        for first in range(0, count, CHUNK):
            size = min(CHUNK, count - first)
            chunk = generate_pages(size, seed=seed + first // CHUNK)
            for offset, generated in enumerate(chunk):
                fetched = start + (first + offset) * step
                page = {**generated.page, "fetched_at": fetched.isoformat()}
                written += out.write(orjson.dumps(page) + b"\n")
    return written


def read_lines(path: Path, limit: int | None = None) -> list[bytes]:
    """The first `limit` (default: all) lines of a pages file, without their newlines."""
    lines: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if limit is not None and len(lines) >= limit:
                break
            lines.append(line.rstrip(b"\n"))
    return lines


@dataclass
class PacedPush:
    """What a paced push did."""

    sent: int = 0
    accepted: int = 0
    refused: int = 0
    seconds: float = 0.0
    behind_s: float = 0.0
    """How far behind its schedule the sender fell at worst (0 when it kept the pace)."""
    accepted_at: dict[str, float] = field(default_factory=dict)
    """page_id -> wall-clock time (s) the 202 arrived."""


async def paced_push(
    base_url: str,
    lines: Sequence[bytes],
    *,
    rate: float,
    tick_s: float = 0.02,
    max_in_flight: int = 64,
) -> PacedPush:
    """POST `lines` to /v1/pages/batch at `rate` pages/s: every `tick_s`, the pages now due."""
    result = PacedPush()
    per_tick = rate * tick_s
    gate = asyncio.Semaphore(max_in_flight)
    headers = {"Content-Type": "application/x-ndjson"}
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)

    async def post(client: httpx.AsyncClient, batch: Sequence[bytes]) -> None:
        try:
            answer = await client.post("/v1/pages/batch", content=b"\n".join(batch))
        finally:
            gate.release()
        now = time.time()
        if answer.status_code != 202:
            result.refused += len(batch)
            return
        ids = answer.json()["page_ids"]
        result.accepted += len(ids)
        result.accepted_at.update(dict.fromkeys(ids, now))

    started = time.perf_counter()
    async with (
        httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=60.0, limits=limits
        ) as client,
        asyncio.TaskGroup() as group,
    ):
        tick = 0
        while result.sent < len(lines):
            due = started + tick * tick_s
            lag = time.perf_counter() - due
            if lag < 0:
                await asyncio.sleep(-lag)
            else:
                result.behind_s = max(result.behind_s, lag)
            tick += 1
            upto = min(len(lines), round(tick * per_tick))
            batch = lines[result.sent : upto]
            if not batch:
                continue
            result.sent = upto
            await gate.acquire()
            group.create_task(post(client, batch))
    result.seconds = time.perf_counter() - started
    return result
