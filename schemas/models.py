"""The newsflow contract: what scrapers send, what downstream receives, what failed.

Every service and every downstream consumer shares these pydantic models; the JSON
Schema files beside this module are exported from them (``make schemas``) and a test
fails when the two drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

import xxhash
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_serializer,
    field_validator,
)

SCHEMA_VERSION: Final = 1


class ContentType(StrEnum):
    """The kinds of page body newsflow understands."""

    TEXT = "text/plain"
    HTML = "text/html"


class PublishedAtSource(StrEnum):
    """How an article's publication time was derived."""

    RELATIVE_AGE = "relative_age"
    """A relative age on the page ("17 minutes ago", "4h", "yesterday") against fetched_at."""
    ABSOLUTE_DATE = "absolute_date"
    """A written date on the page ("Jun 21, 2025", "2025-06-21")."""
    HTML_METADATA = "html_metadata"
    """HTML metadata: meta tags, JSON-LD, <time> elements."""
    URL = "url"
    """A date in the article's URL path (/2025/06/21/...)."""


class DuplicateKind(StrEnum):
    """How an article duplicates one seen before."""

    EXACT = "exact"
    """The same normalised content (and so the same event_id)."""
    NEAR = "near"
    """Nearly the same content (an added or trimmed sentence, a one-word fix)."""


class Stage(StrEnum):
    """The pipeline stage that gave up on an input."""

    INGEST = "ingest"
    ENRICH = "enrich"
    SINK = "sink"


class DeadLetterReason(StrEnum):
    """Why an input could not be processed. A fixed set: dashboards count by it."""

    MALFORMED_JSON = "malformed_json"
    """The input is not a JSON object."""
    INVALID_PAGE = "invalid_page"
    """The JSON does not match the RawPage contract."""
    UNDECODABLE = "undecodable"
    """The body cannot be decoded or parsed as its content type."""
    EMPTY_PAGE = "empty_page"
    """The body holds no text at all."""
    NO_ARTICLES = "no_articles"
    """The body has text but no article could be found in it."""
    PROCESSING_ERROR = "processing_error"
    """An unexpected error while processing; the message says which."""


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def derive_page_id(data: dict[str, Any]) -> str:
    """A stable page id from the envelope, so a resent page without an id gets the same one."""
    digest = xxhash.xxh3_128()
    for key in ("url", "source", "fetched_at", "body"):
        value = data.get(key)
        text = _rfc3339(value) if isinstance(value, datetime) else str(value)
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return "p-" + digest.hexdigest()


PageId = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[\x21-\x7e]+$")]
"""A page id: 1 to 256 visible ASCII characters (no spaces)."""
PAGE_ID: Final = TypeAdapter(PageId)
FETCHED_AT_MIN: Final = datetime(1970, 1, 1, tzinfo=UTC)
FETCHED_AT_MAX: Final = datetime(2200, 1, 1, tzinfo=UTC)
"""The fetch times a RawPage may state: [FETCHED_AT_MIN, FETCHED_AT_MAX). A page dated in year
1 or 9999 is a broken clock or field, and dating and dedupe arithmetic (an age before it, a
window around it) would leave the range of a datetime."""


class RawPage(BaseModel):
    """A page as an upstream scraper captured it."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    url: str | None = Field(default=None, max_length=8192)
    """Address the page was fetched from, if known."""
    source: str = Field(min_length=1, max_length=512)
    """The site or scraper that captured the page (e.g. "Daily8")."""
    fetched_at: AwareDatetime = Field(ge=FETCHED_AT_MIN, lt=FETCHED_AT_MAX)
    """When the page was fetched (timezone-aware, from 1970 to 2199); relative ages on the page
    resolve against it."""
    content_type: ContentType = ContentType.TEXT
    """`text/plain` for extracted text, `text/html` for markup; parameters are dropped."""
    body: str
    """The page itself, as text (HTML markup or extracted text)."""
    page_id: PageId = Field(default_factory=derive_page_id)
    """Caller's id for the page; when absent, derived from url, source, fetched_at and body."""

    @field_validator("content_type", mode="before")
    @classmethod
    def _strip_parameters(cls, value: object) -> object:
        if isinstance(value, str):
            return value.split(";", 1)[0].strip().lower()
        return value

    @field_serializer("fetched_at")
    def _serialize_fetched_at(self, value: datetime) -> str:
        return _rfc3339(value)


class ArticleEvent(BaseModel):
    """One article found in a page: what downstream services receive on `articles.events`."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    event_id: str
    """Deterministic id from the normalised content: the same article gets the same id
    wherever and whenever it is seen."""
    page_id: str
    """The page the article was found in."""
    position: int = Field(ge=0)
    """0-based order of the article in its page."""
    title: str
    """The article's headline."""
    body: str
    """The article text only, paragraphs separated by a blank line; no page boilerplate."""
    source: str | None
    """The publisher the page names for the article (e.g. "Russia Today"); null if none."""
    url: str | None
    """The article's address if known, else the page's."""
    page_source: str
    """The site or scraper the page came from (RawPage.source)."""
    published_at: datetime | None
    """Publication time in UTC (RFC 3339); null when the page states no time for this
    article. Never after fetched_at."""
    published_at_source: PublishedAtSource | None
    """How published_at was derived; null when published_at is null."""
    published_at_text: str | None
    """The text published_at was read from ("17 minutes ago", "Jun 21, 2025"), for audit."""
    fetched_at: datetime
    """When the page was fetched, in UTC."""
    language: str | None = Field(pattern=r"^[a-z]{2}$")
    """ISO 639-1 code of the article text; null when it cannot be told."""
    content_hash: str
    """xxh3-128 of the title and body as emitted here (hex); changes when the text changes."""
    duplicate_of: str | None
    """null for a first sighting; else the event_id of the earlier article it duplicates."""
    duplicate_kind: DuplicateKind | None
    """`exact` or `near` when duplicate_of is set; null otherwise."""
    schema_version: int = SCHEMA_VERSION
    """Version of this contract."""

    @field_validator("published_at", "fetched_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetime must be timezone-aware")
        return _to_utc(value)

    # No serializer: the values are UTC here, which pydantic-core writes as RFC 3339 with
    # "Z" (as `_rfc3339` does) without a Python call per field.


_ARTICLE_EVENT_JSON: Final = TypeAdapter(ArticleEvent)


def article_event_json(event: ArticleEvent) -> bytes:
    """The event as `model_dump_json()` gives it, as UTF-8 bytes straight from pydantic-core.

    Skipping the round trip through str measured about twice as fast on non-ASCII articles.
    Raises pydantic's PydanticSerializationError for text no UTF-8 can hold (a lone surrogate).
    """
    return _ARTICLE_EVENT_JSON.dump_json(event)


class DeadLetter(BaseModel):
    """An input newsflow could not turn into articles, with why and enough to replay it."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    page_id: str | None
    """The page's id when it could be read; null for unreadable input."""
    stage: Stage
    """The stage that gave up."""
    reason: DeadLetterReason
    """Why, from a fixed set."""
    message: str
    """A human explanation of what is wrong with the input."""
    raw: str
    """The input exactly as received (the RawPage JSON or the unreadable line), to replay it."""
    failed_at: datetime
    """When the stage gave up, in UTC."""
    origin: str | None = None
    """Where the input came from: `topic/partition/offset`, `file:line`, or null."""
    schema_version: int = SCHEMA_VERSION
    """Version of this contract."""

    @field_serializer("failed_at")
    def _serialize_failed_at(self, value: datetime) -> str:
        return _rfc3339(value)
