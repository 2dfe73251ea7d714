"""`newsflow tail` against the embedded broker: JSON lines, limits, start points, with and without
a group."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from newsflow.kafka import KafkaPublisher, Record, ensure_topics
from newsflow.settings import KafkaSettings
from newsflow.tail import tail
from schemas import ArticleEvent, DeadLetter, DeadLetterReason, PublishedAtSource, Stage

FETCHED = datetime(2025, 6, 21, 18, 0, tzinfo=UTC)
WAIT_S = 40.0


def _event(n: int) -> ArticleEvent:
    return ArticleEvent(
        event_id=f"e-{n:04}",
        page_id="seed-0001",
        position=n,
        title=f"Headline {n}",
        body=f"Text of article {n}.",
        source="Russia Today" if n % 2 else None,
        url=None,
        page_source="Daily8",
        published_at=FETCHED - timedelta(minutes=n) if n % 3 else None,
        published_at_source=PublishedAtSource.RELATIVE_AGE if n % 3 else None,
        published_at_text=f"{n} minutes ago" if n % 3 else None,
        fetched_at=FETCHED,
        language="en",
        content_hash=f"{n:032x}",
        duplicate_of=None,
        duplicate_kind=None,
    )


async def _publish(settings: KafkaSettings, topic: str, events: list[ArticleEvent]) -> None:
    publisher = KafkaPublisher(settings)
    await publisher.start()
    try:
        # One key: one partition, so the events keep their order.
        await publisher.publish(
            [Record(topic, b"seed-0001", e.model_dump_json().encode()) for e in events]
        )
    finally:
        await publisher.stop()


async def _groups(settings: KafkaSettings) -> set[str]:
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        return {group for group, _ in await admin.list_consumer_groups()}
    finally:
        await admin.close()


async def _from_the_start(
    settings: KafkaSettings, max_events: int, **options: Any
) -> tuple[int, str]:
    """What a groupless tail from the beginning printed, and how many records it counted."""
    out = io.StringIO()
    printed = await tail(
        settings,
        out=out,
        max_events=max_events,
        timeout_s=WAIT_S,
        from_beginning=True,
        group_id=None,
        **options,
    )
    return printed, out.getvalue()


async def _topic(settings: KafkaSettings, name: str) -> str:
    await ensure_topics(settings, [name], partitions=1)
    return name


async def test_tail_prints_events_as_json_lines_and_stops_at_max(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Tail prints the first 3 of 5 events as contract JSON lines; returns 3."""
    topic = await _topic(kafka_settings, f"events-{unique_name}")
    events = [_event(n) for n in range(5)]
    await _publish(kafka_settings, topic, events)

    started = time.monotonic()
    printed, text = await _from_the_start(kafka_settings, 3, topic=topic)

    assert time.monotonic() - started < WAIT_S
    lines = text.splitlines()
    assert printed == 3
    assert [ArticleEvent.model_validate_json(line) for line in lines] == events[:3]
    assert lines[1] == events[1].model_dump_json()


async def test_pretty_lines_show_time_source_and_title(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """--pretty prints `published_at  source  title`, with `-` and the page source as stand-ins."""
    topic = await _topic(kafka_settings, f"events-{unique_name}")
    await _publish(kafka_settings, topic, [_event(0), _event(1)])

    _, text = await _from_the_start(kafka_settings, 2, topic=topic, pretty=True)

    assert text.splitlines() == [
        "-  Daily8  Headline 0",
        "2025-06-21T17:59:00Z  Russia Today  Headline 1",
    ]


async def test_without_from_beginning_only_new_events_are_printed(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Events published before tail was positioned are not printed; those published after are,
    even when the old ones share a batch on the broker with nothing after them."""
    topic = await _topic(kafka_settings, f"events-{unique_name}")
    await _publish(kafka_settings, topic, [_event(0), _event(1), _event(4)])
    out = io.StringIO()
    ready = asyncio.Event()

    task = asyncio.create_task(
        tail(
            kafka_settings,
            out=out,
            max_events=2,
            timeout_s=WAIT_S,
            from_beginning=False,
            group_id=None,
            topic=topic,
            on_ready=ready.set,
        )
    )
    async with asyncio.timeout(WAIT_S):
        await ready.wait()
    await _publish(kafka_settings, topic, [_event(2), _event(3)])
    printed = await task

    assert printed == 2
    assert [ArticleEvent.model_validate_json(line) for line in out.getvalue().splitlines()] == [
        _event(2),
        _event(3),
    ]


async def test_without_a_group_tail_joins_none_and_two_tails_both_see_everything(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Groupless tails read the topic side by side, each printing every event, and leave no
    consumer group on the broker."""
    topic = f"events-{unique_name}"
    await ensure_topics(kafka_settings, [topic], partitions=3)
    events = [_event(n) for n in range(6)]
    publisher = KafkaPublisher(kafka_settings)
    await publisher.start()
    try:  # one key per event: the events spread over the three partitions
        await publisher.publish(
            [Record(topic, e.event_id.encode(), e.model_dump_json().encode()) for e in events]
        )
    finally:
        await publisher.stop()
    groups_before = await _groups(kafka_settings)
    outs = [io.StringIO(), io.StringIO()]

    printed = await asyncio.gather(
        *(
            tail(
                kafka_settings,
                out=out,
                max_events=len(events),
                timeout_s=WAIT_S,
                from_beginning=True,
                group_id=None,
                topic=topic,
            )
            for out in outs
        )
    )

    assert printed == [len(events), len(events)]
    for out in outs:
        got = [ArticleEvent.model_validate_json(line) for line in out.getvalue().splitlines()]
        assert sorted(got, key=lambda e: e.event_id) == events
    assert await _groups(kafka_settings) == groups_before


async def test_a_group_tail_is_ready_once_assigned(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """With --group, `on_ready` fires once the member has its partitions; what is published
    then is printed."""
    topic = await _topic(kafka_settings, f"events-{unique_name}")
    out = io.StringIO()
    ready = asyncio.Event()

    task = asyncio.create_task(
        tail(
            kafka_settings,
            out=out,
            max_events=1,
            timeout_s=WAIT_S,
            from_beginning=False,
            group_id=f"tail-{unique_name}",
            topic=topic,
            on_ready=ready.set,
        )
    )
    async with asyncio.timeout(WAIT_S):
        await ready.wait()
    await _publish(kafka_settings, topic, [_event(5)])

    assert await task == 1
    assert out.getvalue() == _event(5).model_dump_json() + "\n"


async def test_timeout_returns_what_arrived_and_a_group_resumes_where_it_stopped(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """Short of --max, tail returns at the timeout; the same group then reads only new events."""
    topic = await _topic(kafka_settings, f"events-{unique_name}")
    group = f"tail-{unique_name}"
    await _publish(kafka_settings, topic, [_event(0), _event(1)])
    first = io.StringIO()

    started = time.monotonic()
    printed = await tail(
        kafka_settings,
        out=first,
        max_events=10,
        timeout_s=5.0,
        from_beginning=False,
        group_id=group,
        topic=topic,
    )
    elapsed = time.monotonic() - started
    await _publish(kafka_settings, topic, [_event(2)])
    second = io.StringIO()
    again = await tail(
        kafka_settings,
        out=second,
        max_events=1,
        timeout_s=WAIT_S,
        from_beginning=False,
        group_id=group,
        topic=topic,
    )

    assert printed == 2
    assert 5.0 <= elapsed < 5.0 + 10.0
    assert again == 1
    assert second.getvalue() == _event(2).model_dump_json() + "\n"


async def test_records_that_break_the_contract_are_not_printed(
    kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """A record that is not an ArticleEvent is left out and does not count towards --max."""
    topic = await _topic(kafka_settings, f"events-{unique_name}")
    publisher = KafkaPublisher(kafka_settings)
    await publisher.start()
    try:
        await publisher.publish(
            [
                Record(topic, b"k", b'{"event_id": "half"}'),
                Record(topic, b"k", _event(7).model_dump_json().encode()),
            ]
        )
    finally:
        await publisher.stop()

    printed, text = await _from_the_start(kafka_settings, 1, topic=topic)

    assert printed == 1
    assert text == _event(7).model_dump_json() + "\n"


def _letter(page_id: str | None, reason: DeadLetterReason, message: str) -> DeadLetter:
    return DeadLetter(
        page_id=page_id,
        stage=Stage.ENRICH,
        reason=reason,
        message=message,
        raw='{"source": "Daily8"}',
        failed_at=FETCHED + timedelta(seconds=5),
        origin="pages.raw/0/17",
    )


async def test_dead_letters_are_read_from_the_dead_letter_topic_as_dead_letters(
    kafka_settings: KafkaSettings,
) -> None:
    """With dead_letters, tail reads the configured dead-letter topic and prints DeadLetter JSON
    lines (reason, message, origin, raw input); a record that is not one is left out; the
    same topic named with `topic` alone is read the same way, and --pretty gives one line each."""
    topic = await _topic(kafka_settings, kafka_settings.topic_dead_letters)
    letters = [
        _letter("p-1", DeadLetterReason.NO_ARTICLES, "no article found in 3 lines of text"),
        _letter(None, DeadLetterReason.MALFORMED_JSON, "not JSON:\n  line 1 column 2"),
    ]
    publisher = KafkaPublisher(kafka_settings)
    await publisher.start()
    try:
        await publisher.publish(
            [
                Record(topic, b"k", letters[0].model_dump_json().encode()),
                Record(topic, b"k", _event(1).model_dump_json().encode()),
                Record(topic, b"k", letters[1].model_dump_json().encode()),
            ]
        )
    finally:
        await publisher.stop()

    outputs = []
    for options in (
        {"dead_letters": True},
        {"topic": topic},
        {"dead_letters": True, "pretty": True},
    ):
        printed, text = await _from_the_start(kafka_settings, 2, **options)
        assert printed == 2
        outputs.append(text.splitlines())

    flag, named, pretty = outputs
    assert [DeadLetter.model_validate_json(line) for line in flag] == letters
    assert named == flag
    assert pretty == [
        "2025-06-21T18:00:05Z  enrich/no_articles  p-1  no article found in 3 lines of text",
        "2025-06-21T18:00:05Z  enrich/malformed_json  -  not JSON: line 1 column 2",
    ]
