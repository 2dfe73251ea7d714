"""WARC files for `newsflow push`: each 200 HTML or text `response` record becomes a raw page.

Records stream through warcio's `ArchiveIterator` one at a time (plain or gzipped WARC);
only the payload of a record being sent is held in memory. The envelope comes from the
record: X-Url is WARC-Target-URI, X-Fetched-At is WARC-Date, X-Source the URI's host
(unless a source is given), the charset the HTTP Content-Type's (else the HTML's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from newsflow.page_head import choose_charset, http_charset, media_essence, scan_head, url_host
from newsflow.push_units import RawUpload, Rejection, Skip

_HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES: Final = frozenset({"text/plain"})


def read_warc(
    path: Path, *, source: str | None, fetched_at: datetime | None, max_page_bytes: int
) -> Iterator[RawUpload | Rejection | Skip]:
    """One item per `response` record of the WARC at `path`; other record types are ignored.

    `source` replaces the URI's host; `fetched_at` stands in for a missing WARC-Date.
    """
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        try:
            for record in records:
                if record.format != "warc":
                    # warcio falls back to reading ARC; anything not WARC is not ours to guess.
                    yield Rejection(str(path), "unreadable", "not a WARC file")
                    return
                if record.rec_type != "response":
                    continue
                item = _record_item(record, str(path), source, fetched_at, max_page_bytes)
                # The offset is known only once the record is read to its end, so it comes last.
                yield replace(item, origin=f"{path}@{records.get_record_offset()}")
        except ArchiveLoadFailed as exc:
            yield Rejection(str(path), "unreadable", f"not a readable WARC: {exc}")


def _record_item(
    record: Any, origin: str, source: str | None, fallback: datetime | None, limit: int
) -> RawUpload | Rejection | Skip:
    http = record.http_headers
    skipped = _skip_reason(http)
    if skipped is not None:
        return Skip(origin, skipped)
    content_type = http.get_header("Content-Type")
    essence = media_essence(content_type)
    uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip() or None
    fetched_at = _warc_date(record.rec_headers.get_header("WARC-Date")) or fallback
    if fetched_at is None:
        return Rejection(origin, "invalid_record", "the record has no usable WARC-Date")
    body: bytes = record.content_stream().read(limit + 1)
    if len(body) > limit:
        return Rejection(origin, "too_large", f"the payload is over {limit} bytes")
    if not body.strip():
        return Skip(origin, "empty")
    declared = http_charset(content_type)
    if essence in _HTML_TYPES:
        declared = declared or scan_head(body).charset
        media = "text/html"
    else:
        media = "text/plain"
    charset = choose_charset(body, declared)
    return RawUpload(
        origin,
        body,
        f"{media}; charset={charset}",
        uri,
        # A record whose URI has no host is credited to its WARC file.
        source or url_host(uri) or Path(origin).name,
        fetched_at,
    )


def _skip_reason(http: Any) -> str | None:
    """Why a response record holds no page to send, or None when it holds one."""
    if http is None:
        return "not_http"
    if http.get_statuscode() != "200":
        return "http_status"
    if media_essence(http.get_header("Content-Type")) not in _HTML_TYPES | _TEXT_TYPES:
        return "not_text"
    return None


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.utcoffset() is not None else None
