"""Tests for the synthetic corpus generator: deterministic, varied, and truthful."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from benchmarks.corpus import ExpectedArticle, GeneratedPage, generate_pages
from schemas import ContentType, DuplicateKind, RawPage
from services.enrich.boilerplate import is_boilerplate_line
from services.enrich.text import normalise_text


@pytest.fixture(scope="module")
def pages() -> list[GeneratedPage]:
    """Three hundred pages from one seed."""
    return generate_pages(300, seed=5)


def _articles(pages: list[GeneratedPage]) -> list[tuple[GeneratedPage, ExpectedArticle]]:
    return [(page, article) for page in pages for article in page.articles]


def test_same_seed_same_pages() -> None:
    """The generator is deterministic in (n, seed) and differs across seeds."""
    assert generate_pages(20, seed=3) == generate_pages(20, seed=3)
    assert generate_pages(20, seed=3) != generate_pages(20, seed=4)
    assert generate_pages(5, seed=3) == generate_pages(20, seed=3)[:5]


def test_raw_pages_are_valid_text_pages(pages: list[GeneratedPage]) -> None:
    """Every raw dict validates as a text/plain RawPage, with unique ids and rising fetch times."""
    raws = [RawPage.model_validate(page.page) for page in pages]
    assert all(raw.content_type is ContentType.TEXT for raw in raws)
    assert len({raw.page_id for raw in raws}) == len(raws)
    assert all(a.fetched_at < b.fetched_at for a, b in pairwise(raws))


def test_every_layout_dimension_varies(pages: list[GeneratedPage]) -> None:
    """Languages, line ends, odd spaces, lead or not, item counts and header layouts all vary."""
    features = set().union(*(page.features for page in pages))
    for wanted in (
        "lang:en",
        "lang:es",
        "lang:de",
        "lang:fr",
        "crlf",
        "nbsp",
        "lead",
        "no_lead",
        "footer",
        "masthead",
        "items:0",
        "items:12",
    ):
        assert wanted in features, wanted
    layouts = {f for f in features if f.startswith("layout:")}
    assert len(layouts) == 6
    bodies = [str(page.page["body"]) for page in pages]
    assert any("\u201c" in body or "\u2018" in body for body in bodies)
    assert any("'" in body for body in bodies)
    assert any(re.search(r"^\S.* · .*\d", body, re.MULTILINE) for body in bodies)
    assert any(re.search(r"^[-–—] \S", body, re.MULTILINE) for body in bodies)
    assert any(page.articles and all(a.source is None for a in page.articles[:1]) for page in pages)


def test_article_texts_differ(pages: list[GeneratedPage]) -> None:
    """Originals are written from a large pool: their bodies are distinct."""
    originals = [a for _, a in _articles(pages) if a.duplicate_kind is None]
    assert len(originals) > 1000
    assert len({a.body for a in originals}) / len(originals) > 0.99
    assert any("\n\n" in a.body for a in originals)


def test_expected_text_is_on_the_page(pages: list[GeneratedPage]) -> None:
    """Each expected title and paragraph is a line of the normalised page, never boilerplate."""
    for page, article in _articles(pages):
        lines = set(normalise_text(str(page.page["body"])).split("\n"))
        assert article.title in lines
        assert not is_boilerplate_line(article.title)
        for paragraph in article.body.split("\n\n"):
            assert paragraph in lines
            assert not is_boilerplate_line(paragraph)


def test_duplicates_are_flagged_truthfully(pages: list[GeneratedPage]) -> None:
    """Exact duplicates repeat an earlier text of their group; near ones differ from all earlier."""
    seen: dict[str, list[tuple[str, str]]] = defaultdict(list)
    kinds: set[DuplicateKind | None] = set()
    for _, article in _articles(pages):
        text = (article.title, article.body)
        earlier = seen[article.duplicate_group]
        kinds.add(article.duplicate_kind)
        if article.duplicate_kind is None:
            assert not earlier
        elif article.duplicate_kind is DuplicateKind.EXACT:
            assert text in earlier
        else:
            assert earlier
            assert text not in earlier
            assert article.title == earlier[0][0]
        earlier.append(text)
    assert kinds == {None, DuplicateKind.EXACT, DuplicateKind.NEAR}


def test_near_misses_share_event_source_and_day(pages: list[GeneratedPage]) -> None:
    """Articles of one event but other stories come from the same publisher on the same day."""
    by_event: dict[str, dict[str, ExpectedArticle]] = defaultdict(dict)
    for _, article in _articles(pages):
        by_event[article.event_group].setdefault(article.duplicate_group, article)
    families = [list(stories.values()) for stories in by_event.values() if len(stories) > 1]
    assert len(families) > 20
    for family in families:
        first = family[0]
        for other in family[1:]:
            assert other.body != first.body
            if first.published_at and other.published_at and first.source and other.source:
                assert other.source == first.source


def test_published_at_follows_the_written_time(pages: list[GeneratedPage]) -> None:
    """published_at is never after the fetch and matches the age the page states."""
    checked = 0
    for page, article in _articles(pages):
        fetched = datetime.fromisoformat(str(page.page["fetched_at"]))
        if article.time_text is None:
            assert article.published_at is None
            continue
        assert article.published_at is not None
        assert article.published_at <= fetched
        age = re.fullmatch(r"(?:Updated )?(\d+) (minutes|hours) ago", article.time_text)
        if age:
            delta = timedelta(**{age[2]: int(age[1])})
            assert article.published_at == fetched - delta
            checked += 1
        if article.time_text == "yesterday":
            assert article.published_at == fetched - timedelta(days=1)
    assert checked > 100
