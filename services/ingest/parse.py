"""Pure parsing of ingest requests into RawPages: media types, charsets, headers, JSON, NDJSON.

No I/O and no clock: the HTTP shell hands in the body bytes and the request headers (a
mapping with lower-case names, as Starlette's `Headers` reads them). Anything unusable
raises `Rejected` with the reason the client gets back.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Final

import xxhash
from pydantic import ValidationError

from newsflow.page_head import html_charset
from schemas import ContentType, RawPage
from services.ingest.errors import Rejected, RejectReason


class BodyKind(StrEnum):
    """How a single-page body is read."""

    JSON = "json"
    """A RawPage as JSON."""
    RAW = "raw"
    """The page itself; the envelope comes from X-* headers."""


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed Content-Type: its essence (lower-case `type/subtype`) and charset, if any."""

    essence: str
    charset: str | None


RAW_TYPES: Final = {
    "text/html": ContentType.HTML,
    "application/xhtml+xml": ContentType.HTML,
    "text/plain": ContentType.TEXT,
}
JSON_TYPES: Final = frozenset({"application/json"})
NDJSON_TYPES: Final = frozenset({"application/x-ndjson", "application/jsonl"})
ENCODINGS: Final = frozenset({"identity", "gzip", "x-gzip"})

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?"
)
_HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
"""The IMF-fixdate of RFC 9110, the one form of HTTP date that servers send."""
_MAX_KEY_CHARS = 256


def parse_media_type(header: str | None) -> MediaType:
    """Read a Content-Type header; a missing or shapeless one is refused with 415."""
    essence = (header or "").split(";", 1)[0].strip().lower()
    kind, _, subtype = essence.partition("/")
    if not kind or not subtype or "/" in subtype:
        raise Rejected(
            RejectReason.UNSUPPORTED_MEDIA_TYPE, f"Content-Type {header!r} is not a media type"
        )
    message = Message()
    message["content-type"] = header or ""
    return MediaType(essence, message.get_content_charset())


def single_page_kind(media: MediaType) -> BodyKind:
    """Which reader a single-page body needs; 415 for a type ingest does not read."""
    if media.essence in JSON_TYPES:
        if media.charset not in (None, "utf-8"):
            raise Rejected(RejectReason.UNSUPPORTED_MEDIA_TYPE, "JSON must be UTF-8")
        return BodyKind.JSON
    if media.essence in RAW_TYPES:
        return BodyKind.RAW
    accepted = ", ".join(sorted([*JSON_TYPES, *RAW_TYPES]))
    raise Rejected(
        RejectReason.UNSUPPORTED_MEDIA_TYPE,
        f"Content-Type {media.essence} is not one of {accepted}",
    )


def check_batch_type(media: MediaType) -> None:
    """Refuse (415) a batch whose type is not NDJSON in UTF-8."""
    if media.essence not in NDJSON_TYPES or media.charset not in (None, "utf-8"):
        accepted = ", ".join(sorted(NDJSON_TYPES))
        raise Rejected(
            RejectReason.UNSUPPORTED_MEDIA_TYPE, f"a batch must be UTF-8 NDJSON ({accepted})"
        )


def content_coding(header: str | None) -> str:
    """The body's Content-Encoding (`identity` or `gzip`); 415 for anything else."""
    coding = (header or "identity").strip().lower()
    if coding not in ENCODINGS:
        raise Rejected(
            RejectReason.UNSUPPORTED_ENCODING,
            f"Content-Encoding {coding!r} is not gzip or identity",
        )
    return "identity" if coding == "identity" else "gzip"


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode a raw page under its declared charset (UTF-8 if none); strict, so no silent loss."""
    name = charset or "utf-8"
    try:
        codec = codecs.lookup(name).name
        # A UTF-8 byte order mark is framing, not text.
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except LookupError as exc:
        raise Rejected(
            RejectReason.UNSUPPORTED_MEDIA_TYPE, f"charset {name!r} is not a known text encoding"
        ) from exc
    except UnicodeDecodeError as exc:
        raise Rejected(
            RejectReason.UNDECODABLE,
            f"the body is not valid {name} at byte {exc.start}: {exc.reason}",
        ) from exc


def header_text(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value as UTF-8 text (Starlette gives it as Latin-1), stripped; None if absent."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8").strip()
    except UnicodeError as exc:
        raise Rejected(RejectReason.INVALID_HEADER, f"{name} is not UTF-8 text") from exc


def parse_fetched_at(value: str) -> datetime:
    """Read X-Fetched-At: an RFC 3339 timestamp with an offset, or an HTTP date (the `Date`
    header of the response a scraper fetched, e.g. `Sat, 21 Jun 2025 10:00:00 GMT`)."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        if _HTTP_DATE.fullmatch(value):
            try:
                return parsedate_to_datetime(value)
            except ValueError as exc:
                raise Rejected(
                    RejectReason.INVALID_HEADER, f"X-Fetched-At {value!r}: {exc}"
                ) from exc
        raise Rejected(
            RejectReason.INVALID_HEADER,
            f"X-Fetched-At {value!r} is not an RFC 3339 timestamp (e.g. 2025-06-21T10:00:00Z) "
            "or an HTTP date (e.g. Sat, 21 Jun 2025 10:00:00 GMT)",
        )
    if match["offset"] is None:
        raise Rejected(
            RejectReason.INVALID_HEADER,
            f"X-Fetched-At {value!r} has no timezone offset; add Z or +HH:MM",
        )
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise Rejected(RejectReason.INVALID_HEADER, f"X-Fetched-At {value!r}: {exc}") from exc


def key_page_id(key: str, index: int | None = None) -> str:
    """The page id an Idempotency-Key stands for (the index-th page of a batch when given)."""
    text = key if index is None else f"{key}\x00{index}"
    return "k-" + xxhash.xxh3_128_hexdigest(text.encode("utf-8"))


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    """The request's Idempotency-Key, if it has one."""
    key = header_text(headers, "idempotency-key")
    if key is not None and not 0 < len(key) <= _MAX_KEY_CHARS:
        raise Rejected(
            RejectReason.INVALID_HEADER, f"Idempotency-Key must be 1 to {_MAX_KEY_CHARS} characters"
        )
    return key


def parse_json_page(data: bytes, key: str | None, index: int | None = None) -> RawPage:
    """A RawPage from JSON; without its own page_id it takes the id of the Idempotency-Key."""
    if not data or data.isspace():
        raise Rejected(RejectReason.EMPTY_BODY, "the request body is empty")
    try:
        page = RawPage.model_validate_json(data)
    except ValidationError as exc:
        raise _json_rejection(exc) from exc
    if key is not None and "page_id" not in page.model_fields_set:
        return page.model_copy(update={"page_id": key_page_id(key, index)})
    return page


def _decode_raw_body(data: bytes, media: MediaType) -> str:
    # An HTML body whose Content-Type names no charset is UTF-8 when its bytes are (see
    # `is_utf8`), else what its BOM or <meta> declares.
    if media.charset is None and RAW_TYPES[media.essence] is ContentType.HTML:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            declared = html_charset(data)
            if declared is not None:
                return decode_text(data, declared)
    return decode_text(data, media.charset)


def parse_raw_page(data: bytes, media: MediaType, headers: Mapping[str, str]) -> RawPage:
    """A RawPage from a raw text/html or text/plain body and its X-* envelope headers."""
    source = header_text(headers, "x-source")
    fetched_at = header_text(headers, "x-fetched-at")
    missing = [
        name for name, value in (("X-Source", source), ("X-Fetched-At", fetched_at)) if not value
    ]
    if missing:
        raise Rejected(RejectReason.MISSING_HEADER, f"a raw page needs {' and '.join(missing)}")
    if not data:
        raise Rejected(RejectReason.EMPTY_BODY, "the request body is empty")
    fields: dict[str, Any] = {
        "url": header_text(headers, "x-url") or None,
        "source": source,
        "fetched_at": parse_fetched_at(fetched_at or ""),
        "content_type": RAW_TYPES[media.essence],
        "body": _decode_raw_body(data, media),
    }
    page_id = header_text(headers, "x-page-id")
    key = idempotency_key(headers)
    if page_id:
        fields["page_id"] = page_id
    elif key is not None:
        fields["page_id"] = key_page_id(key)
    try:
        return RawPage.model_validate(fields)
    except ValidationError as exc:
        raise Rejected(RejectReason.INVALID_PAGE, _describe(exc, _HEADER_FIELDS)) from exc


def parse_batch(
    data: bytes, key: str | None, *, max_pages: int, max_page_bytes: int
) -> list[RawPage]:
    """RawPages from NDJSON, all or nothing: any bad line refuses the batch, naming every one."""
    numbered = enumerate(data.split(b"\n"), 1)
    lines = [(number, line) for number, line in numbered if line and not line.isspace()]
    if not lines:
        raise Rejected(RejectReason.EMPTY_BODY, "the batch holds no pages")
    if len(lines) > max_pages:
        raise Rejected(
            RejectReason.TOO_LARGE, f"the batch holds {len(lines)} pages; the limit is {max_pages}"
        )
    pages: list[RawPage] = []
    failures: list[dict[str, Any]] = []
    for index, (number, line) in enumerate(lines):
        if len(line) > max_page_bytes:
            failures.append(_line_failure(number, RejectReason.TOO_LARGE, "the page is too large"))
            continue
        try:
            pages.append(parse_json_page(line, key, index))
        except Rejected as exc:
            failures.append(_line_failure(number, exc.reason, exc.detail))
    if failures:
        raise Rejected(
            RejectReason.INVALID_BATCH,
            f"{len(failures)} of {len(lines)} lines are invalid; no page was published",
            pages=len(lines),
            lines=failures,
        )
    return pages


def _describe(exc: ValidationError, names: Mapping[str, str] | None = None) -> str:
    """A one-line account of a validation error, naming fields (or their headers), never inputs."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        if error["type"] == "default_factory_not_called":
            continue  # a consequence of the other errors, not a problem of its own
        field = ".".join(str(part) for part in error["loc"])
        field = (names or {}).get(field, field)
        parts.append(f"{field}: {error['msg']}" if field else error["msg"])
    return "; ".join(parts)


_HEADER_FIELDS: Final = {
    "url": "X-Url",
    "source": "X-Source",
    "fetched_at": "X-Fetched-At",
    "page_id": "X-Page-Id",
}


def _json_rejection(exc: ValidationError) -> Rejected:
    types = {error["type"] for error in exc.errors(include_url=False, include_input=False)}
    if "json_invalid" in types or "model_type" in types:
        return Rejected(RejectReason.MALFORMED_JSON, _describe(exc))
    return Rejected(RejectReason.INVALID_PAGE, _describe(exc))


def _line_failure(number: int, reason: RejectReason, detail: str) -> dict[str, Any]:
    return {"line": number, "error": reason.value, "detail": detail}
