"""PostgresWriter against a real PostgreSQL: migrations, upserts, read-back, failures."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow

from schemas import ArticleEvent
from services.sink import BadEvent, PostgresWriter, SinkUnavailable
from services.sink.migrations import apply_migrations, load_migrations
from services.sink.postgres import FIELDS
from tests.unit.sink.factories import FETCHED_AT, make_event

pytestmark = pytest.mark.integration

Reader = psycopg.AsyncConnection[TupleRow]


async def _count(reader: Reader, schema: str, table: str = "articles") -> int:
    cursor = await reader.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def _migrations(reader: Reader, schema: str) -> list[tuple[int, str]]:
    cursor = await reader.execute(
        sql.SQL("SELECT version, name FROM {} ORDER BY version").format(
            sql.Identifier(schema, "newsflow_schema_migrations")
        )
    )
    return [(int(version), str(name)) for version, name in await cursor.fetchall()]


async def test_start_creates_the_schema_and_table_once(
    postgres_dsn: str, schema_name: str, reader: Reader
) -> None:
    """A missing schema is created; starting again applies nothing twice."""
    async with PostgresWriter(postgres_dsn, schema=schema_name):
        pass
    async with PostgresWriter(postgres_dsn, schema=schema_name):
        pass
    expected = [(migration.version, migration.name) for migration in load_migrations()]
    assert expected[0] == (1, "articles")
    assert await _migrations(reader, schema_name) == expected
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        assert await apply_migrations(conn, schema_name) == []


async def test_concurrent_starts_migrate_once(
    postgres_dsn: str, pg_schema: str, reader: Reader
) -> None:
    """Four sinks starting at the same moment all start, and each migration runs once."""
    writers = [PostgresWriter(postgres_dsn, schema=pg_schema) for _ in range(4)]
    await asyncio.gather(*(writer.start() for writer in writers))
    await asyncio.gather(*(writer.close() for writer in writers))
    assert await _migrations(reader, pg_schema) == [(1, "articles")]


async def test_table_has_a_column_per_event_field(
    postgres_dsn: str, pg_schema: str, reader: Reader
) -> None:
    """The articles table holds every ArticleEvent field, the payload and inserted_at."""
    async with PostgresWriter(postgres_dsn, schema=pg_schema):
        pass
    cursor = await reader.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'articles'",
        [pg_schema],
    )
    columns: dict[str, str] = dict(await cursor.fetchall())
    assert set(columns) == {*ArticleEvent.model_fields, "payload", "inserted_at"}
    assert columns["published_at"] == columns["fetched_at"] == "timestamp with time zone"
    assert columns["payload"] == "jsonb"
    cursor = await reader.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'articles'",
        [pg_schema],
    )
    indexed = " ".join(row[0] for row in await cursor.fetchall())
    for column in ("event_id", "published_at", "fetched_at", "page_id", "source"):
        assert f"({column})" in indexed


async def test_a_replayed_batch_gives_one_row_per_event(
    postgres_dsn: str, pg_schema: str, reader: Reader
) -> None:
    """Upserting the same batch twice, and again after a restart, keeps one row per event_id."""
    events = [make_event(n) for n in range(50)]
    async with PostgresWriter(postgres_dsn, schema=pg_schema, batch_max=20) as writer:
        await writer.add(events)
        await writer.flush()
        await writer.add(events)
        await writer.flush()
    async with PostgresWriter(postgres_dsn, schema=pg_schema) as writer:
        await writer.add([*events[::-1], make_event(50)])
        await writer.flush()
    assert await _count(reader, pg_schema) == 51


async def test_rows_read_back_equal_the_events(
    postgres_dsn: str, pg_schema: str, reader: Reader
) -> None:
    """Every column equals the event's field, times are the same UTC instants, and the
    payload is the event's JSON."""
    events = [make_event(n, fetched_at=FETCHED_AT + timedelta(hours=n)) for n in range(12)]
    async with PostgresWriter(postgres_dsn, schema=pg_schema) as writer:
        await writer.add(events)
        await writer.flush()
    columns = sql.SQL(", ").join(map(sql.Identifier, (*FIELDS, "payload")))
    cursor = await reader.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY event_id").format(
            columns, sql.Identifier(pg_schema, "articles")
        )
    )
    rows = await cursor.fetchall()
    by_id = {event.event_id: event for event in events}
    assert sorted(by_id) == [row[0] for row in rows]
    for row in rows:
        values = dict(zip((*FIELDS, "payload"), row, strict=True))
        event = by_id[values["event_id"]]
        payload = values.pop("payload")
        assert ArticleEvent.model_validate(values) == event
        assert payload == orjson.loads(event.model_dump_json())
        fetched = values["fetched_at"]
        assert fetched == event.fetched_at
        assert fetched.astimezone(UTC).replace(tzinfo=None) == event.fetched_at.replace(tzinfo=None)


@pytest.mark.parametrize(
    "bad",
    [
        {"body": "a NUL \x00 inside the text"},  # refused while psycopg encodes the row
        {"position": 2**31},  # refused by the server: integer out of range
        {"title": "a lone \ud800 surrogate"},  # not UTF-8: refused before any SQL is sent
    ],
    ids=["nul-in-text", "position-out-of-range", "lone-surrogate"],
)
async def test_a_bad_event_rolls_back_its_whole_batch(
    postgres_dsn: str, pg_schema: str, reader: Reader, bad: dict[str, Any]
) -> None:
    """A batch whose last event PostgreSQL refuses commits nothing and raises a
    non-retriable BadEvent; the writer then goes on with other batches."""
    good = [make_event(n) for n in range(10)]
    async with PostgresWriter(postgres_dsn, schema=pg_schema) as writer:
        await writer.add([*good, make_event(99, **bad)])
        with pytest.raises(BadEvent) as caught:
            await writer.flush()
        assert caught.value.retriable is False
        assert await _count(reader, pg_schema) == 0
        assert len(writer.take_pending()) == 11
        await writer.add(good)
        await writer.flush()
    assert await _count(reader, pg_schema) == 10


async def test_a_lost_connection_is_retriable_and_the_retry_reconnects(
    postgres_dsn: str, pg_schema: str, reader: Reader
) -> None:
    """When the server ends the session the flush fails as retriable; the retried flush
    reconnects and stores the pending events."""
    events = [make_event(n) for n in range(5)]
    dsn = make_conninfo(postgres_dsn, application_name=pg_schema)
    async with PostgresWriter(dsn, schema=pg_schema) as writer:
        await writer.add(events[:1])
        await writer.flush()
        cursor = await reader.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [pg_schema],
        )
        assert await cursor.fetchall() == [(True,)]
        await writer.add(events)
        with pytest.raises(SinkUnavailable) as caught:
            await writer.flush()
        assert caught.value.retriable is True
        assert writer.pending == 5
        await writer.flush()
    assert await _count(reader, pg_schema) == 5


async def test_an_unreachable_server_is_retriable() -> None:
    """Starting against a port nobody listens on fails as retriable, not as a crash."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    writer = PostgresWriter(f"postgresql://postgres@127.0.0.1:{port}/test", connect_timeout=2)
    with pytest.raises(SinkUnavailable) as caught:
        await writer.start()
    assert caught.value.retriable is True
