"""Internal values passed between the pure enrich steps (split, date, fingerprint, dedupe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas import PublishedAtSource


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """An article as a splitter or extractor found it, before dating and fingerprinting."""

    title: str
    """Headline, whitespace-normalised."""
    body: str
    """Article text only, paragraphs joined by a blank line ("\\n\\n")."""
    source: str | None = None
    """Publisher the page names for the article (e.g. "Russia Today"), if any."""
    time_text: str | None = None
    """The raw age or date text the page shows for the article ("17 minutes ago"), if any."""
    published_at: datetime | None = None
    """A time already known from structured data (HTML metadata), timezone-aware."""
    published_at_source: PublishedAtSource | None = None
    """How published_at was found, when it is set."""
    language: str | None = None
    """ISO 639-1 code declared by the page (e.g. <html lang>), if any."""
    url: str | None = None
    """The article's own address, if the page gives one."""


@dataclass(frozen=True, slots=True)
class ResolvedTime:
    """A publication time resolved to UTC, with how it was read."""

    at: datetime
    """UTC, never after the fetch time."""
    how: PublishedAtSource
    text: str
    """The text it was read from."""
