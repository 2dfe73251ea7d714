"""Log setup: JSON lines off a TTY for structlog and stdlib loggers alike, record binding."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from newsflow.kafka import Message
from newsflow.logs import bound_to_record, configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put structlog, stdlib logging and the context back as they were."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_service_and_record_position_for_every_logger() -> None:
    """Off a TTY every line is one JSON object with the service; stdlib lines too."""
    out = io.StringIO()
    configure_logging("enrich", "INFO", stream=out)
    message = Message("pages.raw", 4, 1234, None, b"{}", timestamp_ms=0)
    logger = structlog.get_logger("test")
    with bound_to_record(message, page_id="page-9"):
        logger.info("page enriched", articles=2)
        logger.debug("not shown at INFO")
    logging.getLogger("aiokafka").warning("coordinator moved")
    logging.getLogger("aiokafka").info("not shown: libraries log warnings and up")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["page enriched", "coordinator moved"]
    first, second = lines
    assert first["service"] == second["service"] == "enrich"
    assert (first["topic"], first["partition"], first["offset"]) == ("pages.raw", 4, 1234)
    assert first["page_id"] == "page-9"
    assert "event_id" not in first
    assert first["level"] == "info"
    assert (second["level"], second["logger"]) == ("warning", "aiokafka")
    assert "topic" not in second  # the binding ended with the block


@pytest.mark.usefixtures("restore_logging")
def test_console_renderer_when_json_is_off() -> None:
    """With json=False lines are for people: not JSON, with the event and its fields."""
    out = io.StringIO()
    configure_logging("sink", "DEBUG", stream=out, json=False)
    structlog.get_logger("test").debug("batch written", events=3)
    text = out.getvalue()
    assert "batch written" in text
    assert "events=3" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])
