"""Throughput of the sink writers, in events per second, for new events and for replays.

Run: `python -m tests.integration.sink.bench_writers [--batches N] [--data-dir D] [--dsn DSN]`.

Writes batches of 500 realistic events (~3 KB body) with the JSONL writer (into a temporary
directory, or `--data-dir`) and the PostgreSQL writer (into a throwaway schema), timing new
events and a full replay of the same batches. It also times the alternative PostgreSQL
strategy, COPY into a temporary table then INSERT ... SELECT, that `postgres.py` compared
`executemany` against.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from schemas import ArticleEvent
from services.sink import BatchingWriter, JsonlWriter, PostgresWriter
from services.sink.postgres import COLUMNS, TABLE, article_row
from tests.unit.sink.factories import FETCHED_AT, make_event

BATCH = 500


class _CopyStageWriter(PostgresWriter):
    """PostgresWriter with COPY into a per-connection temporary table, then INSERT ... SELECT."""

    def __init__(self, dsn: str, *, schema: str, batch_max: int) -> None:
        super().__init__(dsn, schema=schema, batch_max=batch_max)
        columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        self._table = sql.Identifier(schema, TABLE)
        self._copy = sql.SQL("COPY bench_stage ({}) FROM STDIN").format(columns)
        self._move = sql.SQL(
            "INSERT INTO {} ({}) SELECT {} FROM bench_stage ON CONFLICT (event_id) DO NOTHING"
        ).format(self._table, columns, columns)
        self._staged = False

    async def _write_batch(self, events: Sequence[ArticleEvent]) -> None:
        conn = await self._connection()
        if not self._staged:
            await conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE bench_stage (LIKE {} INCLUDING DEFAULTS)"
                    " ON COMMIT DELETE ROWS"
                ).format(self._table)
            )
            self._staged = True
        async with conn.transaction(), conn.cursor() as cursor:
            async with cursor.copy(self._copy) as copy:
                for event in events:
                    await copy.write_row(article_row(event))
            await cursor.execute(self._move)


async def _run(writer: BatchingWriter, batches: list[list[ArticleEvent]]) -> tuple[float, float]:
    rates = []
    async with writer:
        for _ in ("new", "replay"):
            started = time.perf_counter()
            for batch in batches:
                await writer.add(batch)
                await writer.flush()
            rates.append(sum(map(len, batches)) / (time.perf_counter() - started))
    return rates[0], rates[1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    # One event a second: a run spans a few hours, so the JSONL writer changes files too.
    events = [
        make_event(n, fetched_at=FETCHED_AT + timedelta(seconds=n))
        for n in range(args.batches * BATCH)
    ]
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    size = sum(len(event.body) for event in events) / len(events)
    print(f"{len(events)} events in batches of {BATCH}, mean body {size:.0f} chars")

    with tempfile.TemporaryDirectory(dir=args.data_dir) as directory:
        new, replay = await _run(JsonlWriter(Path(directory), batch_max=BATCH), batches)
        print(f"jsonl                 new {new:8.0f} events/s   replay {replay:8.0f} events/s")

    for name, kind in (
        ("postgres executemany", PostgresWriter),
        ("postgres copy+insert", _CopyStageWriter),
    ):
        schema = f"sink_bench_{uuid.uuid4().hex[:8]}"
        try:
            new, replay = await _run(kind(args.dsn, schema=schema, batch_max=BATCH), batches)
            print(f"{name}  new {new:8.0f} events/s   replay {replay:8.0f} events/s")
        finally:
            async with await psycopg.AsyncConnection.connect(args.dsn, autocommit=True) as conn:
                drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
                await conn.execute(drop.format(sql.Identifier(schema)))


if __name__ == "__main__":
    asyncio.run(main())
