"""The PostgreSQL writer: one transaction per batch into `<schema>.articles`, upsert by event_id.

`start()` connects and applies the packaged migrations (see `services.sink.migrations`).
Each batch is one `executemany` of `INSERT ... ON CONFLICT (event_id)` inside one
transaction, committed before `_write_batch` returns: the same event_id is the same content,
so a replayed event is skipped (an original does replace a stored exact duplicate), and a
batch is either all stored or not at all. psycopg runs
`executemany` in pipeline mode; it measured faster here than COPY into a temporary table
followed by INSERT ... SELECT (`python -m tests.integration.sink.bench_writers` times both).

A lost connection fails the batch as retriable and is reopened on the next write; the writer
never retries by itself, the service's error policy does.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import structlog
from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from schemas import ArticleEvent
from services.sink.errors import BadEvent, SinkError, SinkUnavailable
from services.sink.migrations import apply_migrations
from services.sink.writer import BatchingWriter, event_json

TABLE = "articles"
FIELDS: tuple[str, ...] = tuple(ArticleEvent.model_fields)
"""The event's fields, each stored in the column of the same name."""
COLUMNS: tuple[str, ...] = (*FIELDS, "payload")
"""The columns the writer fills; `inserted_at` takes its default."""

_log = structlog.get_logger(__name__)


def article_row(event: ArticleEvent) -> tuple[object, ...]:
    """The values of `COLUMNS` for an event: its fields, then the event as JSON for `payload`.

    Encoding the payload first also refuses, as BadEvent, text no UTF-8 column can hold.
    """
    return (*(getattr(event, field) for field in FIELDS), Jsonb(event_json(event), _as_is))


def _as_is(payload: bytes) -> bytes:
    return payload


def classify(exc: psycopg.Error, *, broken: bool) -> SinkError:
    """The sink error for a psycopg error; `broken` tells whether the connection is gone."""
    if broken or isinstance(exc, psycopg.OperationalError):
        # Connection failures, shutdowns, serialization failures, deadlocks, out of resources.
        return SinkUnavailable(f"PostgreSQL unavailable: {exc}")
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
        return BadEvent(f"PostgreSQL refused the batch's data: {exc}")
    return SinkError(f"PostgreSQL error: {exc}")


class PostgresWriter(BatchingWriter):
    """Stores events as rows of `<schema>.articles`, one transaction per batch."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        batch_max: int = 500,
        connect_timeout: int = 10,
    ) -> None:
        super().__init__(batch_max=batch_max)
        self._dsn = dsn
        self._schema = schema
        self._connect_timeout = connect_timeout
        self._conn: AsyncConnection[TupleRow] | None = None
        # A replayed event is skipped, except that an original replaces the stored copy of its
        # own exact duplicate (same event_id, duplicate_of = event_id) that reached the sink
        # first: with duplicates emitted, a crash between dedupe and publish, or two workers,
        # can deliver them in that order. A near-duplicate row keeps its first verdict.
        self._insert = sql.SQL(
            "INSERT INTO {table} ({columns}) VALUES ({values}) "
            "ON CONFLICT (event_id) DO UPDATE SET ({columns}) = ({excluded}) "
            "WHERE {table}.duplicate_of = {table}.event_id AND EXCLUDED.duplicate_of IS NULL"
        ).format(
            table=sql.Identifier(schema, TABLE),
            columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            values=sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
            excluded=sql.SQL(", ").join(
                sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in COLUMNS
            ),
        )

    async def _open(self) -> None:
        conn = await self._connection()
        try:
            applied = await apply_migrations(conn, self._schema)
        except psycopg.Error as exc:
            raise await self._failure(exc) from exc
        _log.info("postgres_writer_started", schema=self._schema, migrations_applied=applied)

    async def _write_batch(self, events: Sequence[ArticleEvent]) -> None:
        rows = [article_row(event) for event in events]
        conn = await self._connection()
        try:
            async with conn.transaction(), conn.cursor() as cursor:
                await cursor.executemany(self._insert, rows)
        except psycopg.Error as exc:
            raise await self._failure(exc) from exc

    async def _close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _connection(self) -> AsyncConnection[TupleRow]:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = await AsyncConnection.connect(
                    self._dsn, autocommit=True, connect_timeout=self._connect_timeout
                )
            except psycopg.Error as exc:
                raise SinkUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
        return self._conn

    async def _failure(self, exc: psycopg.Error) -> SinkError:
        broken = self._conn is None or self._conn.broken or self._conn.closed
        if broken:
            await self._close()  # the next write reconnects
        return classify(exc, broken=broken)
