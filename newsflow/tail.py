"""`newsflow tail`: print the events on `articles.events` as a downstream consumer sees them.

Each event is checked against the ArticleEvent contract and written as one JSON line
(or, with `pretty`, one short human line). With `dead_letters`, or on the dead-letter topic,
tail reads `pages.dlq` instead and checks each record against the DeadLetter contract: the
reason, the message, the origin and the raw input of what could not be processed. Consumption
goes through the project's one Kafka adapter:

- with `group_id`, tail is that group's member (`BatchConsumer`): it resumes from the
  group's commits (a new group starts at the earliest offset) and commits what it printed;
  at `max_events` inside a batch, the batch is left uncommitted (the events already
  printed come back to the group: at-least-once);
- without one, it reads every partition with a `TopicReader`, joining no group and
  committing nothing, from the beginning of the topic or, unless `from_beginning`, from
  its end at the moment tail started.

`on_ready` is called once tail is positioned (the reader has sought, or the group member
has its first assignment): events published after that are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TextIO, TypeVar

import structlog
from pydantic import BaseModel, ValidationError

from newsflow.kafka import BatchConsumer, Message, PartitionKey
from newsflow.kafka.read import TopicReader
from newsflow.logs import configure_logging
from newsflow.settings import KafkaSettings
from schemas import ArticleEvent, DeadLetter

__all__ = ["format_pretty", "format_pretty_dead_letter", "run", "tail"]

_log = structlog.get_logger("newsflow.tail")
_STOP_GRACE_S: Final = 10.0
"""After the timeout, how long a graceful stop (finish the batch, leave the group) may take."""


class _LimitReached(Exception):  # a stop signal rather than an error, like FastStream's SkipMessage
    """Raised from the handler to stop mid-batch without committing the batch."""

    retriable = False


_Model = TypeVar("_Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class _Contract(Generic[_Model]):
    """What the records of the topic tail reads must be, and how one is shown in short."""

    model: type[_Model]
    pretty: Callable[[_Model], str]
    name: str
    """How a warning names the contract ("an ArticleEvent")."""

    def render(self, message: Message, pretty: bool) -> str | None:
        """The record as one line; None (and a warning) when it breaks the contract."""
        try:
            record = self.model.model_validate_json(message.value)
        except ValidationError as exc:
            # A downstream consumer would refuse it too; say where it is and go on.
            _log.warning(
                f"record is not {self.name}",
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                error=str(exc.errors(include_input=False, include_url=False)[:3]),
            )
            return None
        return self.pretty(record) if pretty else record.model_dump_json()


class _Printer:
    """Writes the records that keep the contract to `out` up to `max_events`, counting them."""

    def __init__(
        self, out: TextIO, max_events: int | None, pretty: bool, contract: _Contract[Any]
    ) -> None:
        self.out = out
        self.max_events = max_events
        self.pretty = pretty
        self.contract = contract
        self.printed = 0

    @property
    def full(self) -> bool:
        return self.max_events is not None and self.printed >= self.max_events

    def print_batch(self, batch: Sequence[Message]) -> bool:
        """Print the batch's events until full; False when the limit cut the batch short."""
        try:
            for message in batch:
                if self.full:
                    return False
                line = self.contract.render(message, self.pretty)
                if line is not None:
                    self.out.write(line + "\n")
                    self.printed += 1
            return True
        finally:
            self.out.flush()


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
    dead_letters: bool = False,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Print events from `topic` to `out`; return how many.

    `topic` defaults to the events topic, or with `dead_letters` to the dead-letter topic,
    whose records are then read as DeadLetters (as they are whenever `topic` is that topic).
    """
    name = topic or (settings.topic_dead_letters if dead_letters else settings.topic_events)
    letters = dead_letters or name == settings.topic_dead_letters
    printer = _Printer(out, max_events, pretty, _DEAD_LETTERS if letters else _EVENTS)
    ready = on_ready or (lambda: None)
    # The graceful stop at the timeout lets a batch finish; this bound covers a broker that hangs.
    bound = None if timeout_s is None else timeout_s + _STOP_GRACE_S
    if group_id is None:
        reader = TopicReader(
            settings, name, from_beginning=from_beginning, client_id="newsflow-tail"
        )
        async with asyncio.timeout(bound):
            with _stopping_after(timeout_s, reader.request_stop):
                await _read(reader, printer, ready)
    else:
        await _consume(
            settings, name, group_id, printer=printer, ready=ready, timeout_s=timeout_s, bound=bound
        )
    return printer.printed


async def _read(reader: TopicReader, printer: _Printer, ready: Callable[[], None]) -> None:
    async with reader:
        ready()
        async for batch in reader:
            printer.print_batch(batch)
            if printer.full:
                return


async def _consume(
    settings: KafkaSettings,
    topic: str,
    group_id: str,
    *,
    printer: _Printer,
    ready: Callable[[], None],
    timeout_s: float | None,
    bound: float | None,
) -> None:
    first_assignment = True

    def assigned(_: frozenset[PartitionKey]) -> None:
        nonlocal first_assignment
        if first_assignment:
            first_assignment = False
            ready()

    async def handler(batch: Sequence[Message]) -> None:
        if not printer.print_batch(batch):
            raise _LimitReached
        if printer.full:
            consumer.request_stop()

    consumer = BatchConsumer(
        settings, [topic], group_id, handler, client_id="newsflow-tail", on_assigned=assigned
    )
    try:
        async with asyncio.timeout(bound):
            with _stopping_after(timeout_s, consumer.request_stop):
                await consumer.run()
    except _LimitReached:
        pass


@contextlib.contextmanager
def _stopping_after(delay: float | None, stop: Callable[[], None]) -> Iterator[None]:
    """Call `stop` after `delay` seconds (never when None) unless left before (on the loop)."""
    handle = None if delay is None else asyncio.get_running_loop().call_later(delay, stop)
    try:
        yield
    finally:
        if handle is not None:
            handle.cancel()


def format_pretty(event: ArticleEvent) -> str:
    """`published_at  source  title` on one line; `-` for an unknown time."""
    published = event.model_dump(mode="json")["published_at"] or "-"
    title = " ".join(event.title.split())
    return f"{published}  {event.source or event.page_source}  {title}"


def format_pretty_dead_letter(letter: DeadLetter) -> str:
    """`failed_at  stage/reason  page_id  message` on one line; `-` for an unknown page id."""
    failed = letter.model_dump(mode="json")["failed_at"]
    message = " ".join(letter.message.split())
    where = f"{letter.stage.value}/{letter.reason.value}"
    return f"{failed}  {where}  {letter.page_id or '-'}  {message}"


_EVENTS: Final = _Contract(ArticleEvent, format_pretty, "an ArticleEvent")
_DEAD_LETTERS: Final = _Contract(DeadLetter, format_pretty_dead_letter, "a DeadLetter")


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
                dead_letters=args.dead_letters,
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
