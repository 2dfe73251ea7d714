"""Pages in, article events or dead letters out: the enrich step every shell calls.

`PageProcessor` runs the pure `read_page` on each page and fingerprints the articles of the
whole batch at once, both in a worker thread so that the event loop stays free; it asks
the `Deduper` for their verdicts at once (one store round trip per batch, in page order),
and builds the `ArticleEvent`s. Failures of one page become its dead letter; the batch
goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas import ArticleEvent, DeadLetter, DeadLetterReason, RawPage, Stage
from services.enrich.articles import Candidate, PageArticles, fingerprinted, read_page
from services.enrich.dedupe import Deduper, Verdict
from services.enrich.errors import PageRejected
from services.enrich.fingerprint import content_hash_for


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a page gave no articles, before it is wrapped as a DeadLetter."""

    reason: DeadLetterReason
    message: str
    page_id: str | None = None
    """The page id an input that is not a valid page states, when it is one by the contract."""


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What one page became: its events (duplicates included, marked) or a rejection."""

    page: RawPage
    events: tuple[ArticleEvent, ...] = ()
    rejection: Rejection | None = None

    @property
    def originals(self) -> tuple[ArticleEvent, ...]:
        """The events that are first sightings."""
        return tuple(e for e in self.events if e.duplicate_of is None)


def build_event(candidate: Candidate, verdict: Verdict) -> ArticleEvent:
    """The ArticleEvent for a candidate and its dedupe verdict."""
    draft, page, published = candidate.draft, candidate.page, candidate.published
    return ArticleEvent(
        event_id=candidate.fingerprint.event_id,
        page_id=page.page_id,
        position=candidate.position,
        title=draft.title,
        body=draft.body,
        source=draft.source,
        url=draft.url or page.url,
        page_source=page.source,
        published_at=published.at if published else None,
        published_at_source=published.how if published else None,
        published_at_text=published.text if published else None,
        fetched_at=page.fetched_at,
        language=candidate.language,
        content_hash=content_hash_for(draft.title, draft.body),
        duplicate_of=verdict.duplicate_of,
        duplicate_kind=verdict.kind,
    )


def dead_letter(
    rejection: Rejection,
    *,
    raw: str,
    page_id: str | None,
    failed_at: datetime,
    origin: str | None = None,
) -> DeadLetter:
    """Wrap a rejection as the DeadLetter contract."""
    return DeadLetter(
        page_id=page_id,
        stage=Stage.ENRICH,
        reason=rejection.reason,
        message=rejection.message,
        raw=raw,
        failed_at=failed_at,
        origin=origin,
    )


def _find(page: RawPage) -> PageArticles | Rejection:
    # The enrich error policy for one page: a page the core rejects, or one that trips an
    # unexpected error in it, becomes that page's dead letter (with the error named) instead
    # of failing the batch or the worker. Store errors are not caught here: they fail the
    # batch, which the shell retries.
    try:
        return read_page(page)
    except PageRejected as rejected:
        return Rejection(rejected.reason, rejected.message)
    except Exception as error:
        return Rejection(DeadLetterReason.PROCESSING_ERROR, f"{type(error).__name__}: {error}")


def _fingerprinted(read: list[PageArticles | Rejection]) -> list[list[Candidate] | Rejection]:
    readable = [r for r in read if not isinstance(r, Rejection)]
    try:
        candidates = iter(fingerprinted(readable))
    except Exception:
        # Fingerprinting has no known failure; should one appear, it is the page's, as in _find.
        return [r if isinstance(r, Rejection) else _fingerprinted_alone(r) for r in read]
    return [r if isinstance(r, Rejection) else next(candidates) for r in read]


def _fingerprinted_alone(read: PageArticles) -> list[Candidate] | Rejection:
    try:
        return fingerprinted([read])[0]
    except Exception as error:
        return Rejection(DeadLetterReason.PROCESSING_ERROR, f"{type(error).__name__}: {error}")


def _read_batch(pages: Sequence[RawPage]) -> list[list[Candidate] | Rejection]:
    return _fingerprinted([_find(page) for page in pages])


class PageProcessor:
    """Runs the enrich core over batches of pages against one dedupe context."""

    def __init__(self, deduper: Deduper) -> None:
        self._deduper = deduper

    async def process(
        self, pages: Sequence[RawPage], lanes: Mapping[str, datetime] | None = None
    ) -> list[PageOutcome]:
        """One outcome per page, in order; verdicts see the pages in this order.

        ``lanes``: where the pages come from (see ``Deduper.judge``); None for one stream.
        """
        # Reading and fingerprinting run in a worker thread: one page can take seconds (a
        # few MiB of HTML), and the event loop must keep the consumer's heartbeats going
        # meanwhile, or the group drops the worker after its session timeout and the batch
        # is handled again, by a worker that meets the same page. The GIL passes to the loop
        # within its switch interval (5 ms) whenever it has something to do.
        found = await asyncio.to_thread(_read_batch, pages)
        fingerprints = [c.fingerprint for f in found if isinstance(f, list) for c in f]
        verdicts = iter(await self._deduper.judge(fingerprints, lanes))
        outcomes = []
        for page, result in zip(pages, found, strict=True):
            if isinstance(result, Rejection):
                outcomes.append(PageOutcome(page=page, rejection=result))
            else:
                events = tuple(build_event(c, next(verdicts)) for c in result)
                outcomes.append(PageOutcome(page=page, events=events))
        return outcomes
