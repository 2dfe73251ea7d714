"""Logging setup: structlog, JSON lines off a TTY, a readable console on one.

Message handling binds service, topic, partition, offset, page_id and event_id through
`structlog.contextvars`, so every line of that work carries them. Page bodies are never logged.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


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
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=out, force=True)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
