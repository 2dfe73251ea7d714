"""Realistic article events for the sink tests and benchmark."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import xxhash

from schemas import ArticleEvent, DuplicateKind, PublishedAtSource

FETCHED_AT = datetime(2025, 6, 21, 18, 5, 30, 123456, tzinfo=UTC)

_PHRASES = (
    "minister said talks would resume on Thursday after the delegation returned from Istanbul",
    "officials confirmed that prisoners were exchanged under the agreement reached this month",
    "markets fell sharply as investors weighed the new tariffs announced by the government",
    "Київ заявив про обмін полоненими 北京 宣布 新的 贸易 政策 élections régionales à Montréal",
)
_WORDS = tuple(word for phrase in _PHRASES for word in phrase.split())


def body_text(seed: int, size: int = 3000) -> str:
    """About `size` characters of paragraphs of news-like words, the same for the same seed."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    length = 0
    while length < size:
        sentence_count = rng.randint(2, 5)
        sentences = [
            " ".join(rng.choices(_WORDS, k=rng.randint(8, 24))).capitalize() + "."
            for _ in range(sentence_count)
        ]
        paragraphs.append(" ".join(sentences))
        length += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)


def make_event(n: int, *, fetched_at: datetime = FETCHED_AT, **changes: Any) -> ArticleEvent:
    """The n-th event of a page fetched at `fetched_at`; every other one is a near duplicate."""
    title = f"Exchange of prisoners continues, day {n}"
    body = body_text(n)
    fields: dict[str, Any] = {
        "event_id": "a-" + xxhash.xxh3_128_hexdigest(f"{n}:{title}".encode()),
        "page_id": f"p-{fetched_at:%Y%m%d%H}",
        "position": n % 40,
        "title": title,
        "body": body,
        "source": "Russia Today" if n % 3 else None,
        "url": f"https://news.example/2025/06/21/story-{n}" if n % 2 else None,
        "page_source": "Daily8",
        "published_at": fetched_at - timedelta(minutes=17 + n % 50) if n % 5 else None,
        "published_at_source": PublishedAtSource.RELATIVE_AGE if n % 5 else None,
        "published_at_text": f"{17 + n % 50} minutes ago" if n % 5 else None,
        "fetched_at": fetched_at,
        "language": "en" if n % 7 else None,
        "content_hash": xxhash.xxh3_128_hexdigest((title + body).encode()),
        "duplicate_of": None,
        "duplicate_kind": None,
    }
    if n % 2:
        fields["duplicate_of"] = "a-" + xxhash.xxh3_128_hexdigest(str(n - 1).encode())
        fields["duplicate_kind"] = DuplicateKind.NEAR
    fields.update(changes)
    return ArticleEvent.model_validate(fields)
