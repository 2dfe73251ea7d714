"""The values `newsflow push` reads files into and sends: uploads, rejections and skips.

`origin` names where a page came from, for the summary: `file`, `file:line` (NDJSON) or
`file@offset` (a WARC record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class RawUpload:
    """One raw page for `POST /v1/pages`: the body as is, the envelope in X-* headers."""

    origin: str
    body: bytes
    content_type: str
    """`text/html; charset=...` or `text/plain; charset=...`."""
    url: str | None
    source: str
    fetched_at: datetime

    def headers(self) -> dict[bytes, bytes]:
        """The request headers; values are UTF-8 bytes, as ingest reads them."""
        headers = {
            b"Content-Type": self.content_type.encode("ascii"),
            b"X-Source": self.source.encode("utf-8"),
            b"X-Fetched-At": rfc3339(self.fetched_at).encode("ascii"),
        }
        if self.url:
            headers[b"X-Url"] = self.url.encode("utf-8")
        return headers


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One RawPage as a line of JSON, checked against the contract before it is sent."""

    origin: str
    data: bytes
    """Compact JSON, no newline."""
    page_id: str
    """The id the page gets (its own, or the one derived from its envelope)."""


@dataclass(frozen=True, slots=True)
class BatchUpload:
    """JSON pages for `POST /v1/pages/batch`, one NDJSON line each."""

    lines: tuple[JsonLine, ...]

    def body(self) -> bytes:
        """The NDJSON request body."""
        return b"".join(line.data + b"\n" for line in self.lines)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Pages that were not accepted, why (ingest's error code or a local one) and where from."""

    origin: str
    reason: str
    detail: str
    status: int | None = None
    """The HTTP status ingest answered; None when refused before sending."""
    pages: int = 1


@dataclass(frozen=True, slots=True)
class Skip:
    """An input that holds no page to send (an unsupported file, a non-HTML WARC record)."""

    origin: str
    reason: str


Upload = RawUpload | BatchUpload


def rfc3339(value: datetime) -> str:
    """`value` in UTC as RFC 3339 with a Z suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
