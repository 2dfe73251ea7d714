"""The pure parts of the PostgreSQL writer: row values and error classification."""

from __future__ import annotations

import orjson
import psycopg
import pytest
from psycopg.types.json import Jsonb

from schemas import ArticleEvent
from services.sink.errors import BadEvent, SinkError, SinkUnavailable
from services.sink.postgres import COLUMNS, article_row, classify
from tests.unit.sink.factories import make_event


def test_row_has_each_field_then_the_payload() -> None:
    """A row holds every event field in COLUMNS order and the event JSON as payload."""
    event = make_event(7)
    row = dict(zip(COLUMNS, article_row(event), strict=True))
    assert list(COLUMNS) == [*ArticleEvent.model_fields, "payload"]
    for field in ArticleEvent.model_fields:
        assert row[field] == getattr(event, field)
    payload = row["payload"]
    assert isinstance(payload, Jsonb)
    assert payload.obj == event.model_dump_json().encode()
    assert orjson.loads(payload.obj) == event.model_dump(mode="json")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.OperationalError("connection refused"), SinkUnavailable),
        (psycopg.errors.AdminShutdown("terminating connection"), SinkUnavailable),
        (psycopg.errors.SerializationFailure("retry"), SinkUnavailable),
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), BadEvent),
        (psycopg.errors.NumericValueOutOfRange("integer out of range"), BadEvent),
        (psycopg.errors.CheckViolation("position"), BadEvent),
        (psycopg.errors.UndefinedTable("no articles"), SinkError),
    ],
)
def test_classify_maps_psycopg_errors(error: psycopg.Error, expected: type[SinkError]) -> None:
    """Connection trouble is retriable, refused data is a BadEvent, anything else a SinkError."""
    result = classify(error, broken=False)
    assert type(result) is expected
    assert result.retriable is (expected is SinkUnavailable)


def test_unencodable_text_is_refused_before_any_sql() -> None:
    """A lone surrogate in any text field is a BadEvent while the row is built."""
    with pytest.raises(BadEvent):
        article_row(make_event(1, source="\udc80"))


def test_a_broken_connection_is_always_retriable() -> None:
    """Whatever the error, a connection found broken makes the batch retriable."""
    assert classify(psycopg.errors.UndefinedTable("x"), broken=True).retriable is True
