"""The pure parts of the JSONL writer: hourly paths and line (de)serialisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sink.errors import BadEvent
from services.sink.jsonl import (
    decode_line,
    encode_line,
    hour_of,
    hour_path,
    line_event_id,
    path_hour,
)
from tests.unit.sink.factories import make_event

_AWARE = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=st.just(UTC)
)


def test_hour_of_floors_fetched_at_to_the_utc_hour() -> None:
    """An event fetched at 20:59 in UTC+02:00 belongs to the 18:00 UTC file."""
    fetched = datetime(2025, 6, 21, 20, 59, 59, tzinfo=timezone(timedelta(hours=2)))
    event = make_event(1, fetched_at=fetched)
    assert hour_of(event) == datetime(2025, 6, 21, 18, tzinfo=UTC)
    assert hour_path(hour_of(event)) == PurePosixPath("articles/2025/06/21/18.jsonl")


def test_hour_path_pads_every_part() -> None:
    """Months, days and hours below ten are zero-padded so files sort in time order."""
    assert hour_path(datetime(2026, 1, 2, 3, tzinfo=UTC)) == PurePosixPath(
        "articles/2026/01/02/03.jsonl"
    )


@given(_AWARE)
def test_path_hour_inverts_hour_path(moment: datetime) -> None:
    """Reading the hour back from a file path gives the hour the path was made from."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    assert path_hour(hour_path(hour)) == hour


@pytest.mark.parametrize(
    "path",
    [
        "articles/2025/06/21/notes.jsonl",
        "articles/2025/13/21/18.jsonl",
        "articles/2025/06/21/18.json",
        "articles/2025/06/18.jsonl",
        "other/2025/06/21/18.jsonl",
    ],
)
def test_path_hour_ignores_other_files(path: str) -> None:
    """Files that are not hour files are not mistaken for one."""
    assert path_hour(PurePosixPath(path)) is None


def test_line_is_the_event_json_plus_one_newline() -> None:
    """A line is model_dump_json() and a newline, even when the body has paragraphs."""
    event = make_event(3)
    assert "\n\n" in event.body
    line = encode_line(event)
    assert line == event.model_dump_json().encode() + b"\n"
    assert line.count(b"\n") == 1
    assert decode_line(line) == event
    assert line_event_id(line) == event.event_id


@given(title=st.text(), body=st.text(), source=st.none() | st.text())
def test_any_text_round_trips_on_one_line(title: str, body: str, source: str | None) -> None:
    """Arbitrary text (newlines, NUL, line separators) stays on one line and decodes equal."""
    event = make_event(2, title=title, body=body, source=source)
    line = encode_line(event)
    assert line.count(b"\n") == 1
    assert line.endswith(b"\n")
    assert decode_line(line) == event


@given(st.integers(min_value=0, max_value=3000))
def test_a_cut_line_has_no_event_id(cut: int) -> None:
    """Any prefix of a line (what a crash can leave) is never taken for an event."""
    line = encode_line(make_event(4))
    assert line_event_id(line[: min(cut, len(line) - 1)]) is None


@pytest.mark.parametrize(
    "line", [b"[1, 2]\n", b'{"event_id": 5}\n', b'{"title": "x"}\n', b"\x00\x00\n", b"\n"]
)
def test_lines_that_are_not_events_have_no_event_id(line: bytes) -> None:
    """Complete lines that hold no string event_id are not events."""
    assert line_event_id(line) is None


def test_unencodable_text_is_a_bad_event() -> None:
    """A lone surrogate cannot be written as UTF-8: BadEvent, not retriable."""
    event = make_event(5, title="broken \ud800 title")
    with pytest.raises(BadEvent) as caught:
        encode_line(event)
    assert caught.value.retriable is False
    assert event.event_id in str(caught.value)


def test_lines_are_plain_json_for_other_readers() -> None:
    """A line parses with any JSON reader and carries times as RFC 3339 UTC."""
    parsed = orjson.loads(encode_line(make_event(6)))
    assert parsed["fetched_at"] == "2025-06-21T18:05:30.123456Z"


@given(st.text(min_size=1))
def test_the_event_id_of_a_written_line_is_the_one_json_gives(event_id: str) -> None:
    """Reading the id off the front of a line agrees with parsing the line, for any id."""
    line = encode_line(make_event(7, event_id=event_id))
    assert line_event_id(line) == orjson.loads(line)["event_id"] == event_id
