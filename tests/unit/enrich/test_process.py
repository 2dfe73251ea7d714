"""The enrich core end to end over real pages: split, date, fingerprint, dedupe, events."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.corpus import generate_pages
from schemas import ContentType, DeadLetterReason, DuplicateKind, PublishedAtSource, RawPage
from services.enrich.dedupe import Deduper, InMemoryDedupeStore
from services.enrich.process import PageProcessor
from tests.samples import SAMPLE_PAGE, SAMPLES


def _sample() -> tuple[RawPage, dict[str, Any]]:
    line = SAMPLE_PAGE.read_text(encoding="utf-8").splitlines()[0]
    expected = json.loads((SAMPLES / "aggregator-seed.expected.json").read_text(encoding="utf-8"))
    return RawPage.model_validate_json(line), expected


def _processor() -> PageProcessor:
    return PageProcessor(Deduper(InMemoryDedupeStore()))


async def test_sample_page_gives_exactly_its_four_articles() -> None:
    """The sample aggregator page yields the four expected articles with sources and UTC times."""
    page, expected = _sample()
    [outcome] = await _processor().process([page])
    assert outcome.rejection is None
    articles = sorted(expected["articles"], key=lambda a: a["position"])
    assert len(outcome.events) == len(articles)
    for event, want in zip(outcome.events, articles, strict=True):
        assert event.position == want["position"]
        assert event.title == want["title"]
        assert event.body == want["body"]
        assert event.source == want["source"]
        want_at = want["published_at"]
        assert event.published_at == (None if want_at is None else datetime.fromisoformat(want_at))
        assert event.language == "en"
        assert event.duplicate_of is None
        assert event.page_id == "seed-0001"
    assert outcome.events[1].published_at_source is PublishedAtSource.RELATIVE_AGE
    assert outcome.events[1].published_at_text == "17 minutes ago"
    for line in expected["not_article_text"]:
        for event in outcome.events:
            assert line not in event.body.split("\n")
            assert line != event.title


async def test_same_page_again_gives_same_ids_and_no_self_duplicates() -> None:
    """Processing a page a second time (a replay) re-emits the same event ids as originals."""
    page, _ = _sample()
    processor = _processor()
    [first] = await processor.process([page])
    [again] = await processor.process([page])
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    assert all(e.duplicate_of is None for e in again.events)


async def test_the_same_article_on_another_page_is_an_exact_duplicate() -> None:
    """An article re-published on another page, with other whitespace and quotes, is a duplicate."""
    page, _ = _sample()
    noisy = page.body.replace("'", "’").replace(". ", ".  ")
    other = RawPage(
        page_id="seed-0002",
        source="Other",
        fetched_at=page.fetched_at + timedelta(hours=1),
        body=noisy,
    )
    processor = _processor()
    [first] = await processor.process([page])
    [second] = await processor.process([other])
    assert [e.event_id for e in second.events] == [e.event_id for e in first.events]
    assert [e.duplicate_of for e in second.events] == [e.event_id for e in first.events]
    assert {e.duplicate_kind for e in second.events} == {DuplicateKind.EXACT}


async def test_pages_without_articles_are_rejected_with_a_reason() -> None:
    """An empty page and a page of widget lines only become rejections, not exceptions."""
    fetched = datetime(2025, 6, 21, 18, tzinfo=UTC)
    empty = RawPage(page_id="e", source="s", fetched_at=fetched, body="  \n ")
    widgets = RawPage(
        page_id="w", source="s", fetched_at=fetched, body="Comments\nNo comments yet...\nHashtags"
    )
    bad_html = RawPage(
        page_id="h",
        source="s",
        fetched_at=fetched,
        body="<html><body></body></html>",
        content_type=ContentType.HTML,
    )
    outcomes = await _processor().process([empty, widgets, bad_html])
    reasons = [o.rejection.reason if o.rejection else None for o in outcomes]
    assert reasons[0] is DeadLetterReason.EMPTY_PAGE
    assert reasons[1] is DeadLetterReason.NO_ARTICLES
    assert reasons[2] in {
        DeadLetterReason.EMPTY_PAGE,
        DeadLetterReason.NO_ARTICLES,
        DeadLetterReason.UNDECODABLE,
    }
    assert all(not o.events for o in outcomes)


async def test_verdicts_do_not_depend_on_how_the_pages_are_batched() -> None:
    """Generated pages spanning weeks, with exact copies seen again past the window (original
    again) and near duplicates of their first sighting: one batch, batches of offline's 256,
    of 100 and of 7 give every article the same verdict, as the pipeline's batches must."""
    pages = [RawPage.model_validate(g.page) for g in generate_pages(400, seed=7)]
    runs = []
    for size in (len(pages), 256, 100, 7):
        processor = _processor()
        verdicts = {}
        for start in range(0, len(pages), size):
            for outcome in await processor.process(pages[start : start + size]):
                for e in outcome.events:
                    verdicts[e.page_id, e.position] = (e.event_id, e.duplicate_of, e.duplicate_kind)
        runs.append(verdicts)
    kinds = [kind for _, _, kind in runs[0].values()]
    assert DuplicateKind.NEAR in kinds
    assert DuplicateKind.EXACT in kinds
    originals = [event_id for event_id, of, _ in runs[0].values() if of is None]
    assert len(originals) > len(set(originals))  # some article is original twice
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]
    assert runs[3] == runs[0]


async def test_the_event_loop_keeps_running_while_a_slow_page_is_read() -> None:
    """A worker's Kafka heartbeats are coroutines on its event loop: a page that takes long to
    read (here 1.3 MiB of HTML) must not stop them, or past the session timeout the group
    drops the worker and hands the page to another, which meets it again. A task sleeping
    5 ms at a time keeps running while the page is read."""
    items = "".join(
        f"<li><a href='/n/{i}'>Item {i} of the list</a> {i % 59 + 1} minutes ago</li>"
        for i in range(20_000)
    )
    article = "<p>" + "The regional transport authority confirmed the plan on Monday. " * 8
    page = RawPage(
        page_id="slow-1",
        url="https://news.example.org/slow",
        source="Example News",
        fetched_at=datetime(2025, 6, 21, 18, tzinfo=UTC),
        content_type=ContentType.HTML,
        body=f"<html><body><ul>{items}</ul><article><h1>Night buses</h1>{article}</p>"
        "</article></body></html>",
    )
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)
    before, started = ticks, time.perf_counter()
    [outcome] = await _processor().process([page])
    during, seconds = ticks - before, time.perf_counter() - started
    ticker.cancel()
    assert outcome.rejection is None
    assert [e.title for e in outcome.events] == ["Night buses"]
    assert seconds > 0.1, "the page was read too fast to tell"
    # On the loop itself the page would leave the task a tick or two, between steps.
    assert during >= 10, f"{during} ticks in {seconds:.2f} s"
