"""JsonlWriter against a real directory: hourly files, replays, torn tails, locking, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from schemas import ArticleEvent
from services.sink import BadEvent, JsonlWriter, SinkError, SinkUnavailable
from services.sink.jsonl import decode_line, encode_line, hour_path
from tests.unit.sink.factories import body_text, make_event

pytestmark = pytest.mark.integration

NOW = datetime(2025, 6, 22, 0, 30, tzinfo=UTC)
HOURS = [
    datetime(2025, 6, 21, 22, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 6, 21, 23, 0, tzinfo=UTC),
    datetime(2025, 6, 22, 0, 14, tzinfo=UTC),
]


def _events() -> list[ArticleEvent]:
    return [make_event(n, fetched_at=HOURS[n % 3]) for n in range(30)]


def _writer(data_dir: Path, **options: int) -> JsonlWriter:
    return JsonlWriter(data_dir, **options)


def _read(path: Path) -> list[ArticleEvent]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [decode_line(line) for line in data.splitlines(keepends=True)]


def _all_lines(data_dir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(data_dir)): path.read_bytes()
        for path in sorted(data_dir.glob("articles/*/*/*/*.jsonl"))
    }


async def test_events_land_in_their_hour_files(tmp_path: Path) -> None:
    """Each event is one line of the file of its fetched_at hour, parsing back equal, in order."""
    events = _events()
    async with _writer(tmp_path, batch_max=7) as writer:
        await writer.add(events)
        await writer.flush()
    assert sorted(_all_lines(tmp_path)) == [
        "articles/2025/06/21/22.jsonl",
        "articles/2025/06/21/23.jsonl",
        "articles/2025/06/22/00.jsonl",
    ]
    for index, fetched in enumerate(HOURS):
        expected = [event for n, event in enumerate(events) if n % 3 == index]
        assert _read(tmp_path / hour_path(fetched.replace(minute=0, second=0, microsecond=0))) == (
            expected
        )


async def test_a_replay_adds_no_line(tmp_path: Path) -> None:
    """The same events again, in the same writer or after reopening it, add no line."""
    events = _events()
    async with _writer(tmp_path) as writer:
        await writer.add(events)
        await writer.flush()
        before = _all_lines(tmp_path)
        await writer.add(events[::-1])
        await writer.flush()
        assert _all_lines(tmp_path) == before
    async with _writer(tmp_path) as reopened:
        assert reopened.written_ids() == len(events)
        fresh = make_event(100, fetched_at=HOURS[0])
        await reopened.add([*events[:10], fresh, *events[10:]])
        await reopened.flush()
        assert reopened.written_ids() == len(events) + 1
    after = _all_lines(tmp_path)
    extended = "articles/2025/06/21/22.jsonl"
    assert after == {**before, extended: before[extended] + encode_line(fresh)}


@pytest.mark.parametrize("fragment", ["half", "long"])
async def test_a_torn_tail_is_cut_on_start(tmp_path: Path, fragment: str) -> None:
    """Half a line left by a crash (or a torn line longer than one read chunk) is removed on
    start with a warning; the complete lines stay, and the torn event is written whole when
    it is replayed."""
    events = [make_event(n) for n in range(5)]
    torn = make_event(5, body=body_text(5, size=200_000))
    async with _writer(tmp_path) as writer:
        await writer.add(events)
        await writer.flush()
    path = tmp_path / hour_path(datetime(2025, 6, 21, 18, tzinfo=UTC))
    line = encode_line(torn)
    with path.open("ab") as file:
        file.write(line[:300] if fragment == "half" else line[: len(line) - 1])
    with capture_logs() as logs:
        async with _writer(tmp_path) as writer:
            assert _read(path) == events
            await writer.add([*events, torn])
            await writer.flush()
            assert writer.written_ids() == 6
    assert [log["event"] for log in logs if log["log_level"] == "warning"] == [
        "jsonl_torn_tail_cut"
    ]
    assert _read(path) == [*events, torn]


async def test_a_torn_tail_in_an_old_file_is_cut_too(tmp_path: Path) -> None:
    """A file no batch touches is still repaired on start."""
    old = make_event(1, fetched_at=NOW - timedelta(days=30))
    async with _writer(tmp_path) as writer:
        await writer.add([old])
        await writer.flush()
    path = tmp_path / hour_path(old.fetched_at.replace(minute=0, second=0, microsecond=0))
    with path.open("ab") as file:
        file.write(b'{"event_id":"a-torn","title":"Half')
    async with _writer(tmp_path):
        pass
    assert path.read_bytes() == encode_line(old)


async def test_replays_over_many_hours_add_nothing_in_any_order_and_after_reopening(
    tmp_path: Path,
) -> None:
    """Events over many hours, replayed in reverse and in a reopened writer, add no line."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    events = [make_event(n, fetched_at=start + timedelta(minutes=20 * n)) for n in range(60)]
    async with JsonlWriter(tmp_path, batch_max=7) as writer:
        for first in range(0, len(events), 5):
            await writer.add(events[first : first + 5])
            await writer.flush()
        written = _all_lines(tmp_path)
        assert len(written) == 20
        assert sum(lines.count(b"\n") for lines in written.values()) == len(events)
        await writer.add(events[::-1])
        await writer.flush()
        assert _all_lines(tmp_path) == written
    async with JsonlWriter(tmp_path, batch_max=500) as reopened:
        await reopened.add([*events[::7], *events[::3]])
        await reopened.flush()
    assert _all_lines(tmp_path) == written


async def test_the_same_article_in_another_hour_gets_no_second_line_even_after_a_restart(
    tmp_path: Path,
) -> None:
    """An event id has one line across all hours, whatever the sink process saw before: a copy
    fetched days later (enrich publishes it again past the dedupe window) adds nothing, in the
    writer that wrote the first line and in a new one."""
    first = make_event(1, fetched_at=NOW)
    later = [make_event(1, fetched_at=NOW + timedelta(days=d)) for d in (9, 12)]
    assert {e.event_id for e in later} == {first.event_id}
    async with _writer(tmp_path) as writer:
        await writer.add([first])
        await writer.flush()
        await writer.add([later[0], make_event(2, fetched_at=later[0].fetched_at)])
        await writer.flush()
    async with _writer(tmp_path) as restarted:
        await restarted.add([later[1]])
        await restarted.flush()
    lines = _all_lines(tmp_path)
    assert [event.event_id for path in lines for event in _read(tmp_path / path)] == [
        first.event_id,
        make_event(2).event_id,
    ]


@pytest.mark.parametrize("index", ["kept", "deleted"])
async def test_lines_the_index_missed_are_read_back_before_the_hour_is_written(
    tmp_path: Path, index: str
) -> None:
    """Lines appended without their ids reaching the index (a crash between the two) are read
    back the first time a writer touches their hour, or, with the index deleted, built into a
    new one at start: replaying them adds nothing, and only the new event of the hour is
    appended."""
    old = [make_event(n, fetched_at=NOW - timedelta(days=30)) for n in range(3)]
    async with _writer(tmp_path) as writer:
        await writer.add(old[:1])
        await writer.flush()
    path = tmp_path / hour_path(old[0].fetched_at.replace(minute=0, second=0, microsecond=0))
    with path.open("ab") as file:  # what the writer appended before it died
        file.write(b"".join(encode_line(event) for event in old[1:]))
    if index == "deleted":
        for leftover in (tmp_path / "articles").glob(".event_ids.sqlite*"):
            leftover.unlink()
    fresh = make_event(11, fetched_at=old[0].fetched_at)
    async with _writer(tmp_path) as writer:
        await writer.add([*old, fresh])
        await writer.flush()
        assert writer.written_ids() == 4
    assert _read(path) == [*old, fresh]


async def test_a_second_writer_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    """Two writers on one data directory would interleave appends: the second gets a
    retriable error until the first closes."""
    async with _writer(tmp_path):
        second = _writer(tmp_path)
        with pytest.raises(SinkUnavailable) as caught:
            await second.start()
        assert caught.value.retriable is True
    async with _writer(tmp_path) as third:
        await third.flush()


async def test_a_bad_event_leaves_every_file_untouched(tmp_path: Path) -> None:
    """A batch with one unencodable event raises a non-retriable BadEvent and writes nothing."""
    async with _writer(tmp_path) as writer:
        await writer.add([make_event(1, fetched_at=HOURS[0]), make_event(2, title="\udcff")])
        with pytest.raises(BadEvent) as caught:
            await writer.flush()
        assert caught.value.retriable is False
    assert _all_lines(tmp_path) == {}


async def test_an_io_failure_is_retriable_and_the_retry_writes_everything(tmp_path: Path) -> None:
    """When the hour directory cannot be created the flush fails as retriable; once the
    obstacle is gone the retried flush writes the pending events."""
    events = [make_event(n) for n in range(4)]
    (tmp_path / "articles" / "2025").mkdir(parents=True)
    blocker = tmp_path / "articles" / "2025" / "06"
    blocker.write_text("not a directory")
    async with _writer(tmp_path) as writer:
        await writer.add(events)
        with pytest.raises(SinkUnavailable):
            await writer.flush()
        assert writer.pending == 4
        blocker.unlink()
        await writer.flush()
    assert _read(tmp_path / hour_path(datetime(2025, 6, 21, 18, tzinfo=UTC))) == events


async def test_a_corrupt_line_inside_a_file_stops_writes_to_its_hour(tmp_path: Path) -> None:
    """A broken line followed by events is not a crash tail: a batch for that hour fails,
    not retriable, instead of guessing; the hour is writable once the file is repaired."""
    path = tmp_path / hour_path(datetime(2025, 6, 22, 0, tzinfo=UTC))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage\n" + encode_line(make_event(1, fetched_at=NOW)))
    async with _writer(tmp_path) as writer:
        await writer.add([make_event(1, fetched_at=NOW), make_event(2, fetched_at=NOW)])
        with pytest.raises(SinkError, match=r"00\.jsonl:1") as caught:
            await writer.flush()
        assert caught.value.retriable is False
        path.write_bytes(encode_line(make_event(1, fetched_at=NOW)))
        await writer.flush()
        assert writer.written_ids() == 2
    assert _read(path) == [make_event(1, fetched_at=NOW), make_event(2, fetched_at=NOW)]


async def test_an_hour_forgotten_by_the_read_back_bound_is_read_back_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer remembers which hours it read back for a bounded number of hours; an hour
    it forgot is read back again when touched, and its lines the index missed add nothing."""
    monkeypatch.setattr("services.sink.jsonl._READ_BACK_HOURS", 2)
    hours = [NOW + timedelta(hours=h) for h in range(3)]
    async with _writer(tmp_path) as writer:
        for h, at in enumerate(hours):
            await writer.add([make_event(h, fetched_at=at)])
            await writer.flush()
        first = tmp_path / hour_path(hours[0].replace(minute=0, second=0, microsecond=0))
        missed = make_event(10, fetched_at=hours[0])
        with first.open("ab") as file:  # lines the index never saw
            file.write(encode_line(missed))
        fresh = make_event(11, fetched_at=hours[0])
        await writer.add([make_event(0, fetched_at=hours[0]), missed, fresh])
        await writer.flush()
        assert writer.written_ids() == 5
    assert _read(first) == [make_event(0, fetched_at=hours[0]), missed, fresh]


async def test_a_start_without_the_index_builds_it_from_every_file(tmp_path: Path) -> None:
    """Files written before the index existed, or with it deleted: the next start learns every
    file's ids, so a copy of an old article in a new hour still gets no line."""
    old = [make_event(n, fetched_at=NOW - timedelta(days=30 + n)) for n in range(3)]
    async with _writer(tmp_path) as writer:
        await writer.add(old)
        await writer.flush()
    written = _all_lines(tmp_path)
    for leftover in (tmp_path / "articles").glob(".event_ids.sqlite*"):
        leftover.unlink()
    async with _writer(tmp_path) as rebuilt:
        assert rebuilt.written_ids() == 3
        await rebuilt.add([make_event(1, fetched_at=NOW)])
        await rebuilt.flush()
    assert _all_lines(tmp_path) == written


async def test_an_unusable_index_stops_the_writer_with_what_to_do(tmp_path: Path) -> None:
    """An index that is not a database is not retried: the error names it and the way out."""
    index = tmp_path / "articles" / ".event_ids.sqlite"
    index.parent.mkdir(parents=True)
    index.write_bytes(b"not a database, " * 512)
    writer = _writer(tmp_path)
    with pytest.raises(SinkError, match=r"\.event_ids\.sqlite is unusable.*delete it") as caught:
        await writer.start()
    assert caught.value.retriable is False
    index.unlink()
    async with _writer(tmp_path) as fresh:
        await fresh.add([make_event(1)])
        await fresh.flush()
        assert fresh.written_ids() == 1
