"""Inputs of the pipeline tests and what offline enrich makes of them.

The pages are the sample page, generated aggregator pages (`benchmarks.corpus`, seeded, with
exact and near duplicates) and a few pages that hold no article. `offline` runs the same
enrich core the workers run, in this process and in file order, with the settings the
services read; the tests compare the pipeline's outputs with it only in ways that do not
depend on the order in which pages are processed (sets of event ids, the slot of each id).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.corpus import generate_pages
from schemas import ArticleEvent, DeadLetterReason, DuplicateKind, RawPage
from services.enrich.dedupe import InMemoryDedupeStore
from services.enrich.fingerprint import estimate_jaccard, make_fingerprint
from services.enrich.process import PageProcessor
from services.enrich.settings import EnrichSettings
from tests.samples import SAMPLE_PAGE

Page = dict[str, Any]


def sample_page() -> Page:
    """The sample aggregator page as a RawPage dict."""
    page: Page = orjson.loads(SAMPLE_PAGE.read_bytes().splitlines()[0])
    return page


def pages_without_articles() -> list[Page]:
    """Pages enrich turns into dead letters: a blank body, navigation lines, an HTML shell."""
    at = "2025-06-21T18:00:00Z"
    return [
        {"page_id": "nothing-blank", "source": "Blank", "fetched_at": at, "body": " \n\t\n  "},
        {
            "page_id": "nothing-nav",
            "source": "NavOnly",
            "fetched_at": at,
            "body": "Home\nNews\nSport\nWeather\nSign in\nSubscribe\n© 2025 NavOnly",
        },
        {
            "page_id": "nothing-html",
            "source": "Shell",
            "fetched_at": at,
            "content_type": "text/html",
            "body": "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            "<footer>© 2025</footer></body></html>",
        },
    ]


def pages_with_control_characters() -> list[Page]:
    """A text and an HTML page whose article holds a NUL, a bell and an escape: stray bytes a
    broken scraper leaves, which PostgreSQL refuses and the HTML extractor choked on."""
    at = "2025-06-21T18:00:00Z"
    text = (
        "Harbour\x00 ferries resume after the storm\n\n"
        "The harbour authority said on Sunday that\x07 ferry services to the islands would"
        " resume on Monday morning after\x1b two days of gales closed the port."
    )
    return [
        {"page_id": "controls-text", "source": "Harbour Post", "fetched_at": at, "body": text},
        {
            "page_id": "controls-html",
            "source": "Harbour Post",
            "fetched_at": at,
            "content_type": "text/html",
            "body": "<html><body><article><h1>Storm\x07 closes the island\x00 ferries</h1>"
            "<p>Gales\x1b kept every ferry in port for a second day on Saturday, and the"
            " authority\x0b said crossings would resume once the wind had dropped.</p>"
            "</article></body></html>",
        },
    ]


@functools.cache
def corpus_pages(n: int, seed: int) -> tuple[Page, ...]:
    """n generated aggregator pages (duplicates included)."""
    return tuple(generated.page for generated in generate_pages(n, seed=seed))


@functools.cache
def pages_without_near_duplicates(n: int, seed: int) -> tuple[Page, ...]:
    """n generated pages none of whose stories has a near duplicate among them.

    Exact duplicates stay. Without near duplicates the set of originals does not depend on
    the order the pages are processed in, so a run that publishes originals only can be
    compared with offline as a set.
    """
    generated = generate_pages(2 * n + n // 4, seed=seed)
    near = {
        article.duplicate_group
        for page in generated
        for article in page.articles
        if article.duplicate_kind is DuplicateKind.NEAR
    }
    kept = [g.page for g in generated if not any(a.duplicate_group in near for a in g.articles)]
    if len(kept) < n:
        raise ValueError(f"only {len(kept)} pages without near duplicates; generate more")
    return tuple(kept[:n])


def write_pages(path: Path, pages: Iterable[Page]) -> Path:
    """Write pages as JSON lines (what `newsflow push` reads); return the path."""
    path.write_bytes(b"".join(orjson.dumps(page) + b"\n" for page in pages))
    return path


@dataclass(frozen=True, slots=True)
class Offline:
    """What offline enrich gives for some pages, duplicates included."""

    events: tuple[ArticleEvent, ...]
    rejected: dict[str, DeadLetterReason]
    """page_id -> why the page gave no article."""

    @property
    def event_ids(self) -> frozenset[str]:
        """Every event id, originals and duplicates alike: the same in any processing order."""
        return frozenset(event.event_id for event in self.events)

    @property
    def slots(self) -> dict[str, frozenset[tuple[str, int]]]:
        """event_id -> the (page_id, position) slots the article was found in."""
        found: dict[str, set[tuple[str, int]]] = {}
        for event in self.events:
            found.setdefault(event.event_id, set()).add((event.page_id, event.position))
        return {event_id: frozenset(slots) for event_id, slots in found.items()}

    def by_slot(self) -> dict[tuple[str, int], dict[str, Any]]:
        """(page_id, position) -> the event without its verdict, which depends on order."""
        return {(e.page_id, e.position): unjudged(e) for e in self.events}

    def count(self, kind: DuplicateKind) -> int:
        """How many events offline marked as duplicates of that kind."""
        return sum(1 for event in self.events if event.duplicate_kind is kind)


def unjudged(event: ArticleEvent) -> dict[str, Any]:
    """An event's fields except duplicate_of and duplicate_kind."""
    return event.model_dump(exclude={"duplicate_of", "duplicate_kind"})


async def offline(pages: Sequence[Page]) -> Offline:
    """Run the enrich core over `pages` in order, as `newsflow enrich --pages` does."""
    deduper = EnrichSettings().deduper(InMemoryDedupeStore())
    outcomes = await PageProcessor(deduper).process([RawPage.model_validate(p) for p in pages])
    return Offline(
        events=tuple(event for outcome in outcomes for event in outcome.events),
        rejected={
            outcome.page.page_id: outcome.rejection.reason
            for outcome in outcomes
            if outcome.rejection is not None
        },
    )


def similar_pairs(events: Iterable[ArticleEvent]) -> list[tuple[str, str, float]]:
    """Pairs of distinct event ids that share an LSH band and reach the services' threshold.

    Dedupe compares only articles sharing a band, and the estimate is a pure function of
    the two texts, so an empty answer means no near-duplicate verdict is possible among
    these articles, in any order.
    """
    threshold = EnrichSettings().dedupe_threshold
    signatures: dict[str, bytes] = {}
    by_band: dict[str, set[str]] = {}
    for event in events:
        if event.event_id in signatures:
            continue
        fingerprint = make_fingerprint(
            event.title, event.body, owner="-", fetched_at=event.fetched_at
        )
        signatures[event.event_id] = fingerprint.signature
        for band in fingerprint.bands:
            by_band.setdefault(band, set()).add(event.event_id)
    pairs = {(a, b) for members in by_band.values() for a in members for b in members if a < b}
    found = [(a, b, estimate_jaccard(signatures[a], signatures[b])) for a, b in sorted(pairs)]
    return [pair for pair in found if pair[2] >= threshold]
