"""Why ingest refuses a request, and the HTTP status each reason maps to.

    IngestError (retriable = False)
    └── Rejected            a request ingest refuses; carries a RejectReason, a detail
                            and the HTTP status of its reason. `retriable` is True for
                            the 503 reasons (the same request may succeed later).

The reasons are a fixed set: the `pages_rejected_total` metric counts by them and clients
read them from the `error` field of the JSON error body.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final


class RejectReason(StrEnum):
    """Why a request was refused; the `error` field of every error body."""

    MALFORMED_JSON = "malformed_json"
    """The body (or an NDJSON line) is not a JSON object."""
    EMPTY_BODY = "empty_body"
    """The request has no body (or the batch no pages)."""
    MISSING_HEADER = "missing_header"
    """A header a raw page needs (X-Source, X-Fetched-At) is absent."""
    INVALID_HEADER = "invalid_header"
    """A header is present but unusable (a naive or malformed X-Fetched-At, ...)."""
    UNDECODABLE = "undecodable"
    """The bytes do not decode under the declared charset or content encoding."""
    INVALID_PAGE = "invalid_page"
    """The page does not match the RawPage contract."""
    INVALID_BATCH = "invalid_batch"
    """At least one NDJSON line is not a valid page; none of the batch was published."""
    TOO_LARGE = "too_large"
    """The body (after decompression) is over the configured limit."""
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    """The Content-Type (or its charset) is not one ingest reads."""
    UNSUPPORTED_ENCODING = "unsupported_encoding"
    """The Content-Encoding is not one ingest reads."""
    UNAUTHORIZED = "unauthorized"
    """No bearer token was given while tokens are required."""
    FORBIDDEN = "forbidden"
    """The bearer token is not one of the configured tokens."""
    OVERLOADED = "overloaded"
    """The in-flight bound is reached; retry after the Retry-After delay."""
    BROKER_UNAVAILABLE = "broker_unavailable"
    """The broker did not acknowledge the write; retry after the Retry-After delay."""
    BROKER_REJECTED = "broker_rejected"
    """The broker refused the write for good (e.g. a record over its size limit)."""


STATUS: Final[dict[RejectReason, int]] = {
    RejectReason.MALFORMED_JSON: 400,
    RejectReason.EMPTY_BODY: 400,
    RejectReason.MISSING_HEADER: 400,
    RejectReason.INVALID_HEADER: 400,
    RejectReason.UNDECODABLE: 400,
    RejectReason.INVALID_PAGE: 422,
    RejectReason.INVALID_BATCH: 422,
    RejectReason.TOO_LARGE: 413,
    RejectReason.UNSUPPORTED_MEDIA_TYPE: 415,
    RejectReason.UNSUPPORTED_ENCODING: 415,
    RejectReason.UNAUTHORIZED: 401,
    RejectReason.FORBIDDEN: 403,
    RejectReason.OVERLOADED: 503,
    RejectReason.BROKER_UNAVAILABLE: 503,
    RejectReason.BROKER_REJECTED: 502,
}
"""The HTTP status of each reason."""


class IngestError(Exception):
    """Root of the ingest errors."""

    retriable: bool = False


class Rejected(IngestError):
    """A request ingest refuses, with the reason, a human detail and any extra body fields."""

    def __init__(
        self,
        reason: RejectReason,
        detail: str,
        *,
        pages: int = 1,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.pages = pages
        """How many pages the refusal covers (1 when they were not counted), for the metric."""
        self.headers = dict(headers or {})
        """Response headers the refusal needs (WWW-Authenticate); Retry-After is the app's."""
        self.extra = extra
        self.status = STATUS[reason]
        self.retriable = self.status == 503

    def body(self) -> dict[str, Any]:
        """The JSON error body: `{"error": reason, "detail": ..., **extra}`."""
        return {"error": self.reason.value, "detail": self.detail, **self.extra}
