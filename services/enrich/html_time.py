"""Machine-readable times from HTML metadata, read as timezone-aware UTC datetimes.

Owns `parse_machine_time` for the values of meta tags, JSON-LD and `<time datetime>`:
ISO 8601 first (nearly every page), then RFC 2822, then dateparser for the odd written
date; a date without a time is midnight UTC and a time without an offset is UTC.
Pure: relative dates ("yesterday") are never read, so no clock is involved.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import dateparser

# Metadata times are short ("2025-06-21T09:15:00.000+01:00", "Sat, 21 Jun 2025 09:15:00 GMT");
# a longer value is not a time, and dateparser must never see prose.
_MAX_CHARS: Final = 64
# CMS placeholders (0001-01-01, 1970-01-01, 9999-12-31) are not publication times.
_EARLIEST_YEAR: Final = 1971
_LATEST_YEAR: Final = 2100
# A trailing "UTC"/"GMT" zone name (or a spaced "Z"), which fromisoformat rejects but pages
# write after an ISO time.
_ISO_ZONE_NAME: Final = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
_DATEPARSER_SETTINGS: Final = {
    "PARSERS": ["custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "STRICT_PARSING": True,
}


def _iso(text: str) -> datetime | None:
    candidate = _ISO_ZONE_NAME.sub("+00:00", text) if text[:4].isdigit() else text
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _written(text: str) -> datetime | None:
    try:
        return dateparser.parse(text, settings=_DATEPARSER_SETTINGS)
    except (ValueError, TypeError, OverflowError):
        return None


def parse_machine_time(text: str) -> datetime | None:
    """The UTC datetime a metadata value states, or None when it states none."""
    text = " ".join(text.split())
    if not text or len(text) > _MAX_CHARS or not any(ch.isdigit() for ch in text):
        return None
    found = _iso(text) or _rfc2822(text) or _written(text)
    if found is None:
        return None
    if found.tzinfo is None or found.utcoffset() is None:
        found = found.replace(tzinfo=UTC)
    try:
        found = found.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return found if _EARLIEST_YEAR <= found.year <= _LATEST_YEAR else None
