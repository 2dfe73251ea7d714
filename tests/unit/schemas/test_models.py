"""The contract: models, their exported JSON Schema, and envelope rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas import ArticleEvent, ContentType, PublishedAtSource, RawPage
from schemas.export import SCHEMA_DIR, schema_files
from tests.samples import SAMPLE_PAGE


def test_exported_schema_files_match_the_models() -> None:
    """The checked-in JSON Schema files are exactly what the models export (run `make schemas`)."""
    for name, text in schema_files().items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == text, name


def test_every_field_is_documented() -> None:
    """Every field of every contract model carries a description in the JSON Schema."""
    for name, text in schema_files().items():
        schema = json.loads(text)
        for field, spec in schema["properties"].items():
            assert spec.get("description"), f"{name}: {field} has no description"


def test_sample_envelope_validates() -> None:
    """The sample RawPage envelope is valid under the contract and keeps its page id."""
    line = SAMPLE_PAGE.read_text(encoding="utf-8").splitlines()[0]
    page = RawPage.model_validate_json(line)
    assert page.page_id == "seed-0001"
    assert page.content_type is ContentType.TEXT
    assert page.fetched_at == datetime(2025, 6, 21, 18, tzinfo=UTC)


def test_page_id_is_derived_from_content_when_absent() -> None:
    """Two identical pages without an id get the same derived id; a changed body changes it."""
    base = {"source": "s", "fetched_at": "2025-06-21T18:00:00+02:00", "body": "text"}
    first = RawPage.model_validate(base)
    assert first.page_id == RawPage.model_validate(dict(base)).page_id
    assert first.page_id != RawPage.model_validate({**base, "body": "other"}).page_id


@pytest.mark.parametrize(
    ("fetched_at", "valid"),
    [
        ("0001-01-01T00:05:00Z", False),
        ("1969-12-31T23:59:59Z", False),
        ("1969-12-31T23:00:00-02:00", True),  # 01:00 UTC on 1 January 1970
        ("1970-01-01T00:00:00Z", True),
        ("2199-12-31T23:59:59Z", True),
        ("2200-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59-05:00", False),
    ],
)
def test_fetched_at_lies_between_1970_and_2199(fetched_at: str, valid: bool) -> None:
    """A page dated outside [1970, 2200) is refused: dating and dedupe would leave the range
    of a datetime around it."""
    page = {"source": "s", "fetched_at": fetched_at, "body": "x"}
    if valid:
        assert RawPage.model_validate(page).fetched_at == datetime.fromisoformat(fetched_at)
    else:
        with pytest.raises(ValidationError, match="fetched_at"):
            RawPage.model_validate(page)


def test_naive_fetched_at_is_rejected() -> None:
    """A fetched_at without a timezone is refused: relative ages could not be resolved."""
    with pytest.raises(ValidationError, match="timezone"):
        RawPage.model_validate({"source": "s", "fetched_at": "2025-06-21T18:00:00", "body": "x"})


def test_content_type_parameters_are_dropped_and_unknown_types_refused() -> None:
    """`text/html; charset=utf-8` is text/html; `application/pdf` is not a page type."""
    page = RawPage.model_validate(
        {
            "source": "s",
            "fetched_at": datetime.now(UTC),
            "body": "x",
            "content_type": "text/html; charset=utf-8",
        }
    )
    assert page.content_type is ContentType.HTML
    with pytest.raises(ValidationError):
        RawPage.model_validate(
            {
                "source": "s",
                "fetched_at": datetime.now(UTC),
                "body": "x",
                "content_type": "application/pdf",
            }
        )


def test_event_times_serialise_as_rfc3339_utc() -> None:
    """Event times are converted to UTC and written with a Z suffix."""
    paris = timezone(timedelta(hours=2))
    event = ArticleEvent(
        event_id="e",
        page_id="p",
        position=0,
        title="t",
        body="b",
        source=None,
        url=None,
        page_source="s",
        published_at=datetime(2025, 6, 21, 19, 43, tzinfo=paris),
        published_at_source=PublishedAtSource.RELATIVE_AGE,
        published_at_text="17 minutes ago",
        fetched_at=datetime(2025, 6, 21, 20, tzinfo=paris),
        language="en",
        content_hash="h",
        duplicate_of=None,
        duplicate_kind=None,
    )
    data = json.loads(event.model_dump_json())
    assert data["published_at"] == "2025-06-21T17:43:00Z"
    assert data["fetched_at"] == "2025-06-21T18:00:00Z"
    assert ArticleEvent.model_validate_json(event.model_dump_json()) == event
