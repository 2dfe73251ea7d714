"""One raw page to its article candidates: split or extract, date, detect language, fingerprint.

Pure: no I/O and no clock; the page's `fetched_at` is the only notion of now. A page that
cannot yield articles raises `PageRejected` with a dead-letter reason. `read_page` does all
but the fingerprints, `fingerprinted` adds those to many pages at once (MinHash is much
cheaper per article over a batch), `find_articles` is both for one page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from schemas import ContentType, DeadLetterReason, PublishedAtSource, RawPage
from services.enrich.draft import ArticleDraft, ResolvedTime
from services.enrich.errors import PageRejected
from services.enrich.fingerprint import ArticleText, Fingerprint, make_fingerprints
from services.enrich.language import detect_language, dominant_script
from services.enrich.split import split_text_page
from services.enrich.timestamps import resolve_time

_HTML_SNIFF = ("<!doctype html", "<html", "<head", "<body")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article found in a page, dated and fingerprinted, waiting for its dedupe verdict."""

    page: RawPage
    position: int
    draft: ArticleDraft
    published: ResolvedTime | None
    language: str | None
    fingerprint: Fingerprint


def _looks_like_html(body: str) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith(_HTML_SNIFF)


def _drafts(page: RawPage) -> list[ArticleDraft]:
    if page.content_type is ContentType.HTML or _looks_like_html(page.body):
        # Imported on first HTML page: trafilatura and lxml cost about 0.6 s at every start,
        # which a worker fed text pages only never needs to pay.
        from services.enrich.html import extract_html  # noqa: PLC0415

        return [extract_html(page.body, page.url)]
    return split_text_page(page.body)


def _published(draft: ArticleDraft, page: RawPage) -> ResolvedTime | None:
    fetched_at = page.fetched_at.astimezone(UTC)
    if draft.published_at is not None:
        at = min(draft.published_at.astimezone(UTC), fetched_at)
        how = draft.published_at_source or PublishedAtSource.HTML_METADATA
        return ResolvedTime(at=at, how=how, text=draft.time_text or draft.published_at.isoformat())
    if draft.time_text:
        return resolve_time(draft.time_text, fetched_at)
    return None


_PAGE_SAMPLE_ARTICLES = 4
_PAGE_SAMPLE_CHARS = 80


def _languages(drafts: list[ArticleDraft]) -> list[str | None]:
    """One language per draft, detecting once per page where the page allows it.

    Detection costs about as much as everything else done to an article, so an aggregator
    page is detected once, from the start of its first articles; an article written in
    another script than that sample is detected on its own.
    """
    texts = [f"{d.title}\n{d.body}" for d in drafts]
    if len(drafts) == 1:
        return [detect_language(texts[0], drafts[0].language)]
    sample = "\n".join(t[:_PAGE_SAMPLE_CHARS] for t in texts[:_PAGE_SAMPLE_ARTICLES])
    page_language = detect_language(sample)
    page_script = dominant_script(sample)
    return [
        page_language
        if dominant_script(text) == page_script
        else detect_language(text, draft.language)
        for draft, text in zip(drafts, texts, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class PageArticles:
    """A page's articles, dated and with their language, waiting for their fingerprints."""

    page: RawPage
    drafts: tuple[ArticleDraft, ...]
    published: tuple[ResolvedTime | None, ...]
    languages: tuple[str | None, ...]


def read_page(page: RawPage) -> PageArticles:
    """The page's articles in page order, or `PageRejected` when it has none."""
    if not page.body.strip():
        raise PageRejected(DeadLetterReason.EMPTY_PAGE, "the page body holds no text")
    drafts = _drafts(page)
    if not drafts:
        raise PageRejected(
            DeadLetterReason.NO_ARTICLES,
            f"no article found in the {page.content_type.value} body ({len(page.body)} chars)",
        )
    return PageArticles(
        page=page,
        drafts=tuple(drafts),
        published=tuple(_published(draft, page) for draft in drafts),
        languages=tuple(_languages(drafts)),
    )


def fingerprinted(pages: Sequence[PageArticles]) -> list[list[Candidate]]:
    """Each page's candidates, fingerprinted all at once."""
    fingerprints = iter(
        make_fingerprints(
            [
                ArticleText(
                    draft.title,
                    draft.body,
                    f"{found.page.page_id}#{position}",
                    found.page.fetched_at,
                )
                for found in pages
                for position, draft in enumerate(found.drafts)
            ]
        )
    )
    return [
        [
            Candidate(
                page=found.page,
                position=position,
                draft=draft,
                published=published,
                language=language,
                fingerprint=next(fingerprints),
            )
            for position, (draft, published, language) in enumerate(
                zip(found.drafts, found.published, found.languages, strict=True)
            )
        ]
        for found in pages
    ]


def find_articles(page: RawPage) -> list[Candidate]:
    """The page's articles in page order, or `PageRejected` when it has none."""
    return fingerprinted([read_page(page)])[0]
