"""Deterministic synthetic aggregator text pages, each with the articles a careful reader finds.

Owns `generate_pages`: a seeded `random.Random` writes pages (no I/O) that vary what real
aggregator pages vary: site, language (en, es, de, fr), widget lines and where they sit,
0-12 list items, lead or none, item header layout (publisher / age / "- publisher" in either
order, "publisher · age" on one line, "- publisher" missing, no publisher), age and date
forms, multi-paragraph items, CRLF or CR, curly quotes, NBSP and other odd whitespace.

Across pages it reuses articles verbatim (exact duplicates), rewrites some slightly (an
added sentence, a trimmed last sentence, a one-word fix: near duplicates) and writes other
articles on the same event, from the same publisher, the same day (near misses). The ground
truth flags them. `published_at` is computed from the age or date the generator wrote,
independently of `services.enrich.timestamps`, with the same conventions: an age is exact,
"yesterday" is 24 hours before the fetch, a written date is its midnight UTC.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final

from benchmarks.corpus_stories import (
    Quotes,
    Story,
    event_slots,
    near_duplicate,
    time_text,
    time_text_on_day,
    write_story,
)
from benchmarks.corpus_words import LANGUAGES, PLACES, SITES, Language
from schemas import DuplicateKind

_START: Final = datetime(2025, 6, 1, 6, 0, tzinfo=UTC)
_QUOTES: Final = (("'", "'", "'"), ("‘", "’", "’"), ('"', '"', "'"), ("“", "”", "’"))
_LAYOUTS: Final = ("src_age_dash", "src_age", "age_src_dash", "age_src", "src·age", "age·src")
# Layouts whose age shares a line with the publisher.
_ONE_LINE: Final = frozenset({"src·age", "age·src", "title_first"})


@dataclass(frozen=True, slots=True)
class ExpectedArticle:
    """One article of a generated page as the splitter should find it."""

    title: str
    body: str
    """Paragraphs joined by a blank line, whitespace-normalised, quotes as written."""
    source: str | None
    time_text: str | None
    """The age or date as the page writes it, or None."""
    published_at: datetime | None
    language: str
    duplicate_group: str
    """The story: exact and near duplicates of one article share it."""
    duplicate_kind: DuplicateKind | None
    """None for the first sighting in generation order, else EXACT or NEAR."""
    event_group: str
    """The event: near misses (another article on it, same publisher, same day) share it."""


@dataclass(frozen=True, slots=True)
class GeneratedPage:
    """A RawPage-compatible dict and its expected articles in page order."""

    page: dict[str, str | None]
    """page_id, url, source, fetched_at (RFC 3339), content_type "text/plain", body."""
    articles: tuple[ExpectedArticle, ...]
    features: frozenset[str]
    """Layout choices made for the page ("crlf", "nbsp", "layout:age_src", ...), for reports."""


class _Generator:
    """Pages one after another, remembering earlier stories to duplicate them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.history: dict[str, list[Story]] = {lang.code: [] for lang in LANGUAGES}
        self.stories = 0
        self.texts: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def _new_group(self) -> str:
        self.stories += 1
        return f"s{self.seed}-{self.stories}"

    def story(
        self, lang: Language, quotes: Quotes, page: list[tuple[Story, date]]
    ) -> tuple[Story, DuplicateKind | None, date | None]:
        """The next story of a page, its duplicate kind, and the day it must be dated on."""
        rng, seen = self.rng, self.history[lang.code][-200:]
        roll = rng.random()
        if roll < 0.08 and seen:
            return rng.choice(seen), DuplicateKind.EXACT, None
        if roll < 0.14 and seen:
            story = near_duplicate(rng, rng.choice(seen))
            # Trimming the same original twice gives the same text: the second is then exact.
            texts = self.texts[story.group]
            kind = DuplicateKind.EXACT if (story.title, story.body) in texts else DuplicateKind.NEAR
            texts.add((story.title, story.body))
            return story, kind, None
        if roll < 0.20 and page:
            # A near miss: another article on an event of this page, same publisher, same day.
            base, day = rng.choice(page)
            group = self._new_group()
            story = write_story(
                rng, lang, base.slots, source=base.source, group=group, event=base.event_group
            )
            return story, None, day
        group = self._new_group()
        source = rng.choice(lang.publishers)
        story = write_story(
            rng, lang, event_slots(rng, lang, quotes), source=source, group=group, event=group
        )
        return story, None, None


@dataclass
class _Page:
    """One page being written: its lines and the articles a reader should find in them."""

    generator: _Generator
    lang: Language
    site: str
    fetched: datetime
    quotes: Quotes
    primary: str
    lines: list[str] = field(default_factory=list)
    expected: list[ExpectedArticle] = field(default_factory=list)
    dated: list[tuple[Story, date]] = field(default_factory=list)

    def widgets(self, pool: tuple[str, ...], least: int, most: int, gaps: int = 0) -> None:
        """Some lines of a widget pool, in pool order, with up to `gaps` blank lines after each."""
        rng = self.generator.rng
        for i in sorted(rng.sample(range(len(pool)), rng.randint(least, min(most, len(pool))))):
            topic = rng.choice(self.lang.topics).replace("{a}", self.quotes[2])
            n, place = str(rng.randint(2, 40)), rng.choice(PLACES)
            self.lines.append(pool[i].format(site=self.site, topic=topic, n=n, place=place))
            self.lines.extend([""] * rng.randint(0, gaps))

    def _header(self, story: Story, layout: str, when: str | None) -> tuple[list[str], list[str]]:
        """The lines above and below the title for an item's header layout."""
        rng = self.generator.rng
        src = story.source
        dash = rng.choice(("- ", "- ", "– ", "— ")) + src
        if when is None:
            return ([src, dash], []) if layout == "src_dash" else ([], [])
        if layout == "lead":
            return [], [when]
        sep = rng.choice((" · ", " | ", " • ", " - ", ", "))
        by = "By " if self.lang.code == "en" and rng.random() < 0.2 else ""
        if layout in ("src·age", "title_first") and rng.random() < 0.5:
            combined = f"{by}{src}{sep}{when}"
        else:
            combined = f"{when}{sep.replace(', ', ' · ')}{src}"
        split_below = [combined] if rng.random() < 0.6 else [src, when]
        return {
            "age": ([when], []),
            "src_age_dash": ([src, when, dash], []),
            "src_age": ([src, when], []),
            "age_src_dash": ([when, src, dash], []),
            "age_src": ([when, src], []),
            "src·age": ([combined], []),
            "age·src": ([combined], []),
            "title_first": ([], split_below),
        }[layout]

    def article(
        self, story: Story, kind: DuplicateKind | None, twin: date | None, lead: bool
    ) -> None:
        """Write one article (the lead or a list item) and what the splitter should find."""
        rng, lang, fetched = self.generator.rng, self.lang, self.fetched
        layout = "lead" if lead else self.primary
        if not lead and rng.random() < 0.15:
            layout = rng.choice((*_LAYOUTS, "age", "src_dash", "title_first"))
        when = published = None
        if layout != "src_dash" and (twin is not None or not lead or rng.random() < 0.1):
            back = timedelta(days=rng.choice((1, 1, 1, 4, 25)))
            when, published = (
                time_text_on_day(rng, lang, fetched, twin)
                if twin
                else time_text(rng, lang, fetched, back)
            )
            if lang.code == "en" and layout not in _ONE_LINE and rng.random() < 0.05:
                when = f"Updated {when}"
        above, below = self._header(story, layout, when)
        self.lines.extend([*above, story.title, *below])
        if rng.random() < 0.05:
            self.lines.append(rng.choice(lang.between))
        spaced = rng.random() < 0.2
        for paragraph in story.paragraphs:
            self.lines.extend([" ".join(paragraph), *[""] * spaced])
        source = None if layout in ("lead", "age") else story.source
        self.expected.append(
            ExpectedArticle(
                title=story.title,
                body=story.body,
                source=source,
                time_text=when,
                published_at=published,
                language=lang.code,
                duplicate_group=story.group,
                duplicate_kind=kind,
                event_group=story.event_group,
            )
        )
        self.dated.append((story, (published or fetched).date()))
        if kind is None:
            self.generator.history[lang.code].append(story)

    def next_article(self, lead: bool) -> None:
        """Choose the next story for the page and write it."""
        self.article(*self.generator.story(self.lang, self.quotes, self.dated), lead=lead)


def _write_page(generator: _Generator, index: int, fetched: datetime) -> GeneratedPage:
    rng = generator.rng
    lang = rng.choices(LANGUAGES, weights=(70, 10, 10, 10))[0]
    site = rng.choice(SITES)
    page = _Page(generator, lang, site, fetched, rng.choice(_QUOTES), rng.choice(_LAYOUTS))
    n_items = rng.choices(
        (0, rng.randint(1, 4), rng.randint(5, 8), rng.randint(9, 12)), weights=(8, 45, 30, 17)
    )[0]
    has_lead = rng.random() < 0.75
    features = {f"lang:{lang.code}", f"layout:{page.primary}", f"items:{n_items}"}
    features.add("lead" if has_lead else "no_lead")
    if rng.random() < 0.3:
        page.widgets(lang.top, 1, 3)
    if rng.random() < 0.1:
        # The site's name above the lead, before or after the navigation lines.
        features.add("masthead")
        page.lines.insert(rng.choice((0, len(page.lines))), site)
    if has_lead:
        page.next_article(lead=True)
    if rng.random() < 0.15:
        page.widgets(lang.stray, 1, 1)
    page.widgets(lang.middle, 0, 6, gaps=1)
    if n_items and rng.random() < 0.85:
        page.widgets(lang.related, 1, 1, gaps=2)
    for _ in range(n_items):
        page.lines.extend([""] * rng.randint(0, 2))
        page.next_article(lead=False)
        if rng.random() < 0.08:
            page.widgets(lang.between, 1, 1)
    if rng.random() < 0.5:
        features.add("footer")
        page.lines.extend([""] * rng.randint(0, 2))
        page.widgets(lang.stray, 0, 1)
        page.widgets(lang.footer, 1, 4)
    raw: dict[str, str | None] = {
        "page_id": f"gen-{generator.seed}-{index:05d}",
        "url": None
        if rng.random() < 0.5
        else f"https://{site.lower().replace(' ', '')}.example/{lang.code}/{index}",
        "source": site,
        "fetched_at": fetched.isoformat().replace("+00:00", "Z"),
        "content_type": "text/plain",
        "body": _render(rng, page.lines, features),
    }
    return GeneratedPage(raw, tuple(page.expected), frozenset(features))


def _odd_spaces(rng: random.Random, line: str, features: set[str]) -> str:
    if "nbsp" in features:
        line = "".join(
            rng.choice(("\u00a0", "\u202f", " ")) if c == " " and rng.random() < 0.15 else c
            for c in line
        )
    if "double_spaces" in features and rng.random() < 0.3:
        line = line.replace(" ", "  ", 1) + rng.choice(("", " ", "\t"))
    if "invisible" in features and " " in line and rng.random() < 0.3:
        cut = rng.randrange(len(line))
        line = line[:cut] + rng.choice(("\u200b", "\u00ad", "\u2060")) + line[cut:]
    return line


def _render(rng: random.Random, lines: list[str], features: set[str]) -> str:
    """The page text: the lines with this page's line ends and whitespace oddities."""
    for name, share in (("nbsp", 0.2), ("double_spaces", 0.1), ("invisible", 0.05), ("bom", 0.03)):
        if rng.random() < share:
            features.add(name)
    newline = rng.choices(("\n", "\r\n", "\r"), weights=(73, 25, 2))[0]
    if newline != "\n":
        features.add("crlf" if newline == "\r\n" else "cr")
    text = newline.join(_odd_spaces(rng, line, features) for line in lines)
    return ("\ufeff" if "bom" in features else "") + text


def generate_pages(n: int, seed: int = 0) -> list[GeneratedPage]:
    """n pages and their ground truth; the same (n, seed) always gives the same pages."""
    generator = _Generator(seed)
    fetched = _START
    pages = []
    for index in range(n):
        fetched += timedelta(minutes=generator.rng.randint(5, 90))
        pages.append(_write_page(generator, index, fetched))
    return pages
