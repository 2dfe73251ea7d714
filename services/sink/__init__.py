"""The sink: durable, idempotent writers of article events (JSONL files or PostgreSQL)."""

from __future__ import annotations

from services.sink.errors import BadEvent, SinkError, SinkUnavailable
from services.sink.jsonl import JsonlWriter
from services.sink.postgres import PostgresWriter
from services.sink.settings import SinkSettings
from services.sink.writer import BatchingWriter, EventWriter, MemoryWriter


def make_writer(settings: SinkSettings) -> BatchingWriter:
    """The writer `settings.sink` names, configured from the settings (not started yet)."""
    if settings.sink == "postgres":
        assert settings.postgres_dsn is not None  # SinkSettings refuses postgres without a DSN
        return PostgresWriter(
            settings.postgres_dsn.get_secret_value(),
            schema=settings.postgres_schema,
            batch_max=settings.sink_batch_max,
            connect_timeout=settings.postgres_connect_timeout,
        )
    return JsonlWriter(settings.data_dir, batch_max=settings.sink_batch_max)


__all__ = [
    "BadEvent",
    "BatchingWriter",
    "EventWriter",
    "JsonlWriter",
    "MemoryWriter",
    "PostgresWriter",
    "SinkError",
    "SinkSettings",
    "SinkUnavailable",
    "make_writer",
]
