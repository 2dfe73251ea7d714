"""The sink alone: drain a filled `articles.events` topic through `newsflow sink` (JSONL).

Publishes the events of EVENTS.jsonl (as `newsflow enrich --pages ... ` writes them) to an
embedded broker, `--copies` times (each copy with fresh event ids and fetch times moved on
by 70 days, so nothing is a replay), runs `newsflow sink` on it and waits until every
event is a line in the data directory. Prints the sink process's CPU seconds and peak
memory (VmHWM): what the sink costs per event, and whether its memory follows the input.

    python -m benchmarks.sink_drain EVENTS.jsonl [--copies 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from newsflow.broker import EmbeddedBroker
from newsflow.kafka import KafkaPublisher, Record, ensure_topics
from newsflow.settings import KafkaSettings

SHIFT = timedelta(days=70)
PUBLISH_BATCH = 2000
LIMIT_S = 900.0


def _shifted(text: str, by: timedelta) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")) + by
    return moment.isoformat().replace("+00:00", "Z")


def _copy(event: dict[str, Any], number: int) -> bytes:
    moved = {**event, "event_id": f"{event['event_id']}-{number}"}
    for field in ("fetched_at", "published_at"):
        if moved.get(field):
            moved[field] = _shifted(moved[field], number * SHIFT)
    return orjson.dumps(moved)


def _proc(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and VmHWM MiB of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return cpu, hwm / 1024


def _lines(data_dir: Path) -> int:
    return sum(path.read_bytes().count(b"\n") for path in data_dir.glob("articles/*/*/*/*.jsonl"))


async def drain(events: list[dict[str, Any]], copies: int) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    try:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        await ensure_topics(kafka, [kafka.topic_events, kafka.topic_dead_letters])
        publisher = KafkaPublisher(kafka, client_id="bench-sink-drain")
        await publisher.start()
        for number in range(copies):
            records = [
                Record(kafka.topic_events, event["page_id"].encode(), _copy(event, number))
                for event in events
            ]
            for first in range(0, len(records), PUBLISH_BATCH):
                await publisher.publish(records[first : first + PUBLISH_BATCH])
        await publisher.stop()
        total = len(events) * copies
        with tempfile.TemporaryDirectory(prefix="newsflow-sink-drain-") as tmp:
            env = {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                "NEWSFLOW_DATA_DIR": tmp,
                "NEWSFLOW_SINK": "jsonl",
                "NEWSFLOW_LOG_LEVEL": "WARNING",
                "NEWSFLOW_METRICS_PORT": "0",
            }
            started = time.perf_counter()
            sink = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "sink"], env=env)  # noqa: ASYNC220 - returns at once
            try:
                written = 0
                while written < total and time.perf_counter() - started < LIMIT_S:
                    await asyncio.sleep(0.5)
                    written = _lines(Path(tmp))
                seconds = time.perf_counter() - started
                cpu, hwm = _proc(sink.pid)
            finally:
                sink.terminate()
                sink.wait()
        print(
            f"[sink-drain] events={total} written={written} seconds={seconds:.1f} "
            f"sink CPU={cpu:.2f}s ({cpu * 1e6 / total:.0f} us/event) VmHWM={hwm:.1f} MiB"
        )
    finally:
        await broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("events", type=Path, help="ArticleEvent JSON lines")
    parser.add_argument("--copies", type=int, default=1, help="times to publish the events (1)")
    args = parser.parse_args()
    events = [orjson.loads(line) for line in args.events.read_bytes().splitlines()]
    asyncio.run(drain(events, args.copies))


if __name__ == "__main__":
    main()
