"""Benchmark of the bare Kafka transport on the embedded broker: the ceiling for any service.

A passthrough with no enrichment: `pages.raw` holds page-sized RawPage envelopes; a
BatchConsumer parses each envelope, publishes one small event per page to
`articles.events`, waits for the acknowledgements and commits (the services' loop, minus
their work). Two phases on one fresh broker:

- backlog: N pages are published first, then drained; pages/s of the drain.
- live: pages are published at a steady rate while the consumer runs; p50/p99 latency from
  publish to the handler (consume) and to the acknowledged output (ack).

    python -m benchmarks.passthrough [--pages 10000] [--rate 2000] [--page-bytes 8000]

`backlog_rate(bodies)` runs the backlog phase alone over given envelopes, on a broker of its
own, for `benchmarks.pipeline` to compare the pipeline with the transport limit.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from newsflow.broker import EmbeddedBroker
from newsflow.kafka import BatchConsumer, KafkaPublisher, Message, Record, ensure_topics
from newsflow.settings import KafkaSettings
from schemas import RawPage

SENT_HEADER = "bench-sent-ns"
FILL_BATCH = 1000
WORDS = ("harbour", "council", "minister", "storm", "market", "league", "court", "energy", "river")


def make_pages(count: int, page_bytes: int, seed: int = 11) -> list[bytes]:
    """`count` RawPage envelopes of about `page_bytes` each, with varied words."""
    rng = random.Random(seed)
    start = datetime(2025, 6, 21, tzinfo=UTC)
    pages = []
    for index in range(count):
        words: list[str] = []
        size = 0
        while size < page_bytes:
            word = rng.choice(WORDS)
            words.append(word)
            size += len(word) + 1
        page = {
            "page_id": f"bench-{index}",
            "source": "bench",
            "url": f"https://news.example/{index}",
            "fetched_at": (start + timedelta(seconds=index)).isoformat(),
            "body": " ".join(words),
        }
        pages.append(orjson.dumps(page))
    return pages


class Passthrough:
    """The consumer side: parse the envelope, publish one small event per page, then commit."""

    def __init__(self, settings: KafkaSettings, publisher: KafkaPublisher) -> None:
        self.settings = settings
        self.publisher = publisher
        self.handled = 0
        self.target = 0
        self.reached = asyncio.Event()
        self.consume_ns: list[int] = []
        self.ack_ns: list[int] = []

    async def handle(self, batch: Sequence[Message]) -> None:
        received = time.perf_counter_ns()
        events = []
        sent: list[int] = []
        for message in batch:
            page = RawPage.model_validate_json(message.value)
            event = {"page_id": page.page_id, "chars": len(page.body)}
            events.append(
                Record(self.settings.topic_events, page.page_id.encode(), orjson.dumps(event))
            )
            sent.extend(int(v) for k, v in message.headers if k == SENT_HEADER)
        await self.publisher.publish(events)
        acked = time.perf_counter_ns()
        self.consume_ns.extend(received - s for s in sent)
        self.ack_ns.extend(acked - s for s in sent)
        self.handled += len(batch)
        if self.handled >= self.target:
            self.reached.set()

    async def wait_for(self, total: int, limit_s: float) -> None:
        self.target = total
        if self.handled < total:
            self.reached.clear()
            await asyncio.wait_for(self.reached.wait(), limit_s)


def _ms(values_ns: list[int]) -> str:
    if len(values_ns) < 2:
        return "n/a"
    cuts = statistics.quantiles(values_ns, n=100)
    return f"p50={cuts[49] / 1e6:.1f}ms p99={cuts[98] / 1e6:.1f}ms"


async def _fill(
    settings: KafkaSettings, publisher: KafkaPublisher, bodies: Sequence[bytes]
) -> float:
    """Publish `bodies` to the raw topic in large batches; the seconds it took."""
    started = time.perf_counter()
    for i in range(0, len(bodies), FILL_BATCH):
        chunk = bodies[i : i + FILL_BATCH]
        await publisher.publish(
            [Record(settings.topic_pages, b"%d" % (i + j), body) for j, body in enumerate(chunk)]
        )
    return time.perf_counter() - started


async def _drain(passthrough: Passthrough, pages: int) -> tuple[float, float]:
    """Seconds and pages/s of handling `pages` records, timed from the first handled batch.

    The clock starts once the group is joined and a first batch is done, so the figure is
    the transport's rate rather than the group join (about half the session timeout).
    """
    await passthrough.wait_for(1, limit_s=60)
    first = time.perf_counter()
    first_count = passthrough.handled
    await passthrough.wait_for(pages, limit_s=600)
    drain = time.perf_counter() - first
    return drain, (pages - first_count) / drain if drain > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class BacklogResult:
    """What the backlog phase measured."""

    pages: int
    fill_seconds: float
    drain_seconds: float
    pages_per_s: float


async def backlog_rate(bodies: Sequence[bytes]) -> BacklogResult:
    """Fill a fresh embedded broker's raw topic with `bodies` (RawPage JSON), then drain it."""
    async with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        await ensure_topics(settings, [settings.topic_pages, settings.topic_events])
        publisher = KafkaPublisher(settings)
        await publisher.start()
        try:
            fill = await _fill(settings, publisher, bodies)
            passthrough = Passthrough(settings, publisher)
            consumer = BatchConsumer(
                settings, [settings.topic_pages], "bench-passthrough", passthrough.handle
            )
            task = asyncio.create_task(consumer.run())
            try:
                drain, rate = await _drain(passthrough, len(bodies))
            finally:
                await consumer.stop()
                await task
        finally:
            await publisher.stop()
    return BacklogResult(len(bodies), fill, drain, rate)


async def run(pages: int, rate: float, page_bytes: int) -> None:
    bodies = make_pages(pages, page_bytes)
    async with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        await ensure_topics(settings, [settings.topic_pages, settings.topic_events])
        publisher = KafkaPublisher(settings)
        await publisher.start()
        try:
            fill = await _fill(settings, publisher, bodies)
            print(f"fill     pages={pages} seconds={fill:.2f} pages/s={pages / fill:,.0f}")

            passthrough = Passthrough(settings, publisher)
            consumer = BatchConsumer(
                settings, [settings.topic_pages], "bench-passthrough", passthrough.handle
            )
            task = asyncio.create_task(consumer.run())
            try:
                drain, drained_rate = await _drain(passthrough, pages)
                print(f"backlog  pages={pages} seconds={drain:.2f} pages/s={drained_rate:,.0f}")

                started = time.perf_counter()
                tick = 0.01
                per_tick = max(1, round(rate * tick))
                # Publishes overlap, as concurrent ingest requests do: the schedule is not
                # held back by each publish's round trip.
                sends: list[asyncio.Task[None]] = []
                for i in range(0, pages, per_tick):
                    due = started + (i / per_tick) * tick
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    now = b"%d" % time.perf_counter_ns()
                    records = [
                        Record(
                            settings.topic_pages, b"live-%d" % (i + j), body, ((SENT_HEADER, now),)
                        )
                        for j, body in enumerate(bodies[i : i + per_tick])
                    ]
                    sends.append(asyncio.create_task(publisher.publish(records)))
                await asyncio.gather(*sends)
                await passthrough.wait_for(2 * pages, limit_s=600)
                live = time.perf_counter() - started
                print(
                    f"live     pages={pages} rate={rate:,.0f}/s seconds={live:.2f} "
                    f"pages/s={pages / live:,.0f} consume {_ms(passthrough.consume_ns)} "
                    f"ack {_ms(passthrough.ack_ns)}"
                )
            finally:
                await consumer.stop()
                await task
        finally:
            await publisher.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=2_000.0, help="pages/s in the live phase")
    parser.add_argument("--page-bytes", type=int, default=8_000)
    args = parser.parse_args()
    asyncio.run(run(args.pages, args.rate, args.page_bytes))


if __name__ == "__main__":
    main()
