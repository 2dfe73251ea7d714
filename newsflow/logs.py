"""Logging setup: structlog, JSON lines off a TTY, a readable console on one.

Message handling binds service, topic, partition, offset, page_id and event_id through
`structlog.contextvars` (`bound_to_record`), so every line of that work carries them. Lines
from libraries that log through the standard library (aiokafka, uvicorn) go through the same
renderer, so a JSON log stays one JSON object per line. Page bodies are never logged.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

import structlog


class Located(Protocol):
    """A consumed record's position, as `newsflow.kafka.Message` has it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


@contextmanager
def bound_to_record(
    record: Located, *, page_id: str | None = None, event_id: str | None = None
) -> Iterator[None]:
    """Bind the record's topic, partition and offset (and the ids known) to lines logged inside."""
    ids = {"page_id": page_id, "event_id": event_id}
    with structlog.contextvars.bound_contextvars(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        **{key: value for key, value in ids.items() if value is not None},
    ):
        yield


def configure_logging(
    service: str, level: str = "INFO", *, stream: TextIO | None = None, json: bool | None = None
) -> None:
    """Configure structlog (and stdlib logging) once per process, bound to `service`."""
    out = stream if stream is not None else sys.stderr
    as_json = not out.isatty() if json is None else json
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    # Libraries are chatty at INFO (aiokafka logs every rebalance step): warnings and up only.
    logging.basicConfig(level=max(numeric, logging.WARNING), handlers=[handler], force=True)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
