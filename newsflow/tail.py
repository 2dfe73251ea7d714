"""`newsflow tail`: print the events on `articles.events` as a downstream consumer sees them.

Each event is checked against the ArticleEvent contract and written as one JSON line
(or, with `pretty`, one short human line). Consumption goes through the project's one
Kafka adapter, `BatchConsumer`, so it always reads as a consumer-group member:

- with `group_id`, tail is that group's member: it resumes from the group's commits (a
  new group starts at the earliest offset) and commits what it printed;
- without one, it joins a fresh throwaway group that starts at the earliest offset, and,
  unless `from_beginning`, prints only events whose record timestamp is not older than
  the moment tail started: "from now on" without a seek to the end, which the adapter
  does not offer.

At `max_events` it stops; when the limit falls inside a batch the batch is left
uncommitted (the events already printed come back to the group: at-least-once).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Final, TextIO

import structlog
from pydantic import ValidationError

from newsflow.kafka import BatchConsumer, Message
from newsflow.logs import configure_logging
from newsflow.settings import KafkaSettings
from schemas import ArticleEvent

__all__ = ["add_arguments", "format_pretty", "run", "tail"]

_log = structlog.get_logger("newsflow.tail")
_STOP_GRACE_S: Final = 10.0
"""After the timeout, how long a graceful stop (finish the batch, leave the group) may take."""


class _LimitReached(Exception):  # a stop signal rather than an error, like FastStream's SkipMessage
    """Raised from the handler to stop mid-batch without committing the batch."""

    retriable = False


async def tail(
    settings: KafkaSettings,
    *,
    out: TextIO,
    max_events: int | None,
    timeout_s: float | None,
    from_beginning: bool,
    group_id: str | None,
    topic: str | None = None,
    pretty: bool = False,
) -> int:
    """Print events from `topic` (default: the events topic) to `out`; return how many."""
    since_ms = None if from_beginning or group_id else int(time.time() * 1000)
    printed = 0

    async def handler(batch: Sequence[Message]) -> None:
        nonlocal printed
        for message in batch:
            if max_events is not None and printed >= max_events:
                out.flush()
                raise _LimitReached
            if since_ms is not None and message.timestamp_ms < since_ms:
                continue
            line = _render(message, pretty)
            if line is not None:
                out.write(line + "\n")
                printed += 1
        out.flush()
        if max_events is not None and printed >= max_events:
            consumer.request_stop()

    consumer = BatchConsumer(
        settings,
        [topic or settings.topic_events],
        group_id or f"newsflow-tail-{uuid.uuid4().hex[:12]}",
        handler,
        client_id="newsflow-tail",
    )
    loop = asyncio.get_running_loop()
    stopper = loop.call_later(timeout_s, consumer.request_stop) if timeout_s is not None else None
    try:
        # The graceful stop above lets the batch finish; this bound covers a broker that hangs.
        async with asyncio.timeout(None if timeout_s is None else timeout_s + _STOP_GRACE_S):
            await consumer.run()
    except _LimitReached:
        pass
    finally:
        if stopper is not None:
            stopper.cancel()
    return printed


def format_pretty(event: ArticleEvent) -> str:
    """`published_at  source  title` on one line; `-` for an unknown time."""
    published = event.model_dump(mode="json")["published_at"] or "-"
    title = " ".join(event.title.split())
    return f"{published}  {event.source or event.page_source}  {title}"


def _render(message: Message, pretty: bool) -> str | None:
    try:
        event = ArticleEvent.model_validate_json(message.value)
    except ValidationError as exc:
        # A downstream consumer would refuse it too; say where it is and go on.
        _log.warning(
            "record is not an ArticleEvent",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            error=str(exc.errors(include_input=False, include_url=False)[:3]),
        )
        return None
    return format_pretty(event) if pretty else event.model_dump_json()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `newsflow tail` options, for the CLI to install on its subcommand parser."""
    parser.add_argument(
        "--from-beginning", action="store_true", help="also print events older than now"
    )
    parser.add_argument(
        "--group", help="consumer group to read as (resumes from and commits its offsets)"
    )
    parser.add_argument("--max", type=int, dest="max_events", help="stop after N events")
    parser.add_argument("--timeout", type=float, dest="timeout_s", help="stop after S seconds")
    parser.add_argument("--topic", help="topic to read (default: articles.events)")
    parser.add_argument(
        "--pretty", action="store_true", help="print `published_at  source  title` lines"
    )


def run(args: argparse.Namespace) -> int:
    """Run `newsflow tail` from parsed arguments: 0, or 1 when fewer than --max events came."""
    configure_logging("tail", "WARNING")
    settings = KafkaSettings()
    if settings.bootstrap_servers is None:
        print("newsflow tail: set KAFKA_BOOTSTRAP_SERVERS to the broker to read", file=sys.stderr)
        return 2
    try:
        printed = asyncio.run(
            tail(
                settings,
                out=sys.stdout,
                max_events=args.max_events,
                timeout_s=args.timeout_s,
                from_beginning=args.from_beginning,
                group_id=args.group,
                topic=args.topic,
                pretty=args.pretty,
            )
        )
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Python's docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    return 1 if args.max_events is not None and printed < args.max_events else 0
