"""Split an aggregator text page into its articles.

Owns `split_text_page`. A text page is a lead article (a title line and paragraph lines),
widget and navigation lines, and a list of items, each with a header (a publisher line, an
age or date line, sometimes a repeated "- publisher" line, or "publisher · age" on one line,
in either order) followed by a title line and paragraph lines.

The page is read in three passes over its non-blank lines:

1. classify each line on its own (`lines.classify_line`): boilerplate, time, publisher and
   time, "- publisher", byline, short (title-like) or paragraph;
2. group time lines with the publisher lines around them into headers, and decide from the
   lines after each header which line is the title (the header may also sit under it);
3. give each titled header the text lines up to the next header or section boilerplate as
   its body, and read the stretches no header claims (the lead, text after a section line)
   as headerless articles: a title line right above at least one paragraph.

Bodies hold sentences: short fragments without a sentence end (an unlisted widget, a site
name, a stray bullet) are dropped from them, and an article needs at least one body line.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.enrich.draft import ArticleDraft
from services.enrich.lines import (
    HEADER_KINDS,
    TEXT_KINDS,
    Line,
    LineKind,
    as_text,
    classify_line,
    is_publisher,
)
from services.enrich.text import (
    TITLE_MAX_CHARS,
    TITLE_MAX_WORDS,
    ends_sentence,
    ends_with_full_stop,
    is_name_like,
    text_lines,
    word_count,
)


def _dash_is_header(lines: list[Line], i: int) -> bool:
    """Whether the "- name" line lines[i] belongs to an item header.

    It does right under a time line ("17 minutes ago / - Russia Today"), under its own name
    ("Russia Today / - Russia Today") or where no text precedes it; under other text it is
    a bullet.
    """
    if i == 0:
        return True
    above, name = lines[i - 1], lines[i].source or ""
    return (
        above.kind in (LineKind.TIME, LineKind.SOURCE_TIME)
        or above.kind not in TEXT_KINDS
        or above.text.casefold() == name.casefold()
    )


def _demote_stray_dashes(lines: list[Line]) -> None:
    for i, line in enumerate(lines):
        if line.kind is LineKind.DASH and not _dash_is_header(lines, i):
            lines[i] = as_text(line)


@dataclass(frozen=True, slots=True)
class _Header:
    start: int
    """First line the header claims (a publisher or title line before the time may be one)."""
    title: int | None
    """The title line, or None when the header is followed by no title."""
    body_start: int
    source: str | None
    time_text: str | None


def _reads_as_title(line: Line) -> bool:
    """Short, or title-sized without a final period (a long question headline)."""
    return line.kind is LineKind.SHORT or (
        len(line.text) <= TITLE_MAX_CHARS
        and not ends_with_full_stop(line.text)
        and word_count(line.text) <= TITLE_MAX_WORDS
    )


def _next_text(lines: list[Line], i: int) -> int | None:
    """Index of the next text line from i on, stepping over inline boilerplate and bylines."""
    while i < len(lines) and lines[i].kind in (LineKind.INLINE, LineKind.BYLINE):
        i += 1
    return i if i < len(lines) and lines[i].kind in TEXT_KINDS else None


def _extent(lines: list[Line], first: int) -> tuple[int, str | None, str | None]:
    """Where the header starting at lines[first] ends, and the publisher and time it gives."""
    end = first + 1
    source, time_text = lines[first].source, lines[first].time_text
    while end < len(lines):
        line = lines[end]
        if line.kind in HEADER_KINDS or line.kind is LineKind.BYLINE:
            source = source or line.source
            time_text = time_text or line.time_text
        elif (
            line.kind is LineKind.SHORT
            and end + 1 < len(lines)
            and lines[end + 1].kind in HEADER_KINDS
            and is_publisher(line.text)
        ):
            # "17 minutes ago / Russia Today / - Russia Today": a publisher between header lines.
            source = source or line.text
        else:
            break
        end += 1
    return end, source, time_text


def _short_above(lines: list[Line], at: int, floor: int) -> int | None:
    return at if at >= floor and lines[at].kind is LineKind.SHORT else None


def _read_header(lines: list[Line], first: int, floor: int) -> tuple[_Header, int]:
    """The header whose first time or dash line is lines[first]; also where it ends.

    The title is normally the first text line after the header lines; before that, the
    line right above them may be the publisher ("Russia Today / 17 minutes ago"). When the
    first line after the header is a paragraph, the header sits under its title instead,
    which is then the line above (or the one above a publisher line). `floor` is where the
    previous header's claim ends: lines above it are never taken.
    """
    end, source, time_text = _extent(lines, first)
    above = first - 1
    while above >= floor and lines[above].kind is LineKind.BYLINE:
        # "<title> / By Reuters / 2h / <paragraphs>": the credit belongs to this header.
        source = source or lines[above].source
        above -= 1
    before = _short_above(lines, above, floor)
    f1 = _next_text(lines, end)
    if f1 is None:
        return _Header(first, None, end, source, time_text), end
    f2 = _next_text(lines, f1 + 1)
    first_line = lines[f1]
    start, title, body = first, f1, f1 + 1
    if (
        source is None
        and first_line.kind is LineKind.SHORT
        and is_publisher(first_line.text)
        and f2 is not None
        and lines[f2].kind is LineKind.SHORT
    ):
        # Age before publisher: "4 hours ago / Russia Today / <title> / <paragraphs>".
        source, title, body = first_line.text, f2, f2 + 1
    elif before is not None:
        before_text = lines[before].text
        named = source is not None and before_text.casefold() == source.casefold()
        title_above = _short_above(lines, before - 1, floor)
        if (named or (source is None and is_publisher(before_text))) and (
            _reads_as_title(first_line) or title_above is not None or named
        ):
            source = source or before_text
            if _reads_as_title(first_line) or title_above is None:
                start = before
            else:
                # "<title> / <publisher> / <age> / <paragraphs>".
                start, title, body = title_above, title_above, f1
        elif first_line.kind is LineKind.PARA:
            # The header sits under its title: "<title> / By Reuters · 2h / <paragraphs>".
            start, title, body = before, before, f1
    return _Header(start, title, body, source, time_text), body


def _find_headers(lines: list[Line]) -> list[_Header]:
    headers: list[_Header] = []
    floor = 0
    i = 0
    while i < len(lines):
        if lines[i].kind in HEADER_KINDS:
            header, i = _read_header(lines, i, floor)
            headers.append(header)
            floor = i
        else:
            i += 1
    return headers


def _is_stray(line: str) -> bool:
    """A few words with no sentence end: a credit, a site name or an unknown widget."""
    return not ends_sentence(line) and word_count(line) <= 8


def _trim(paragraphs: list[str]) -> list[str]:
    # Paragraphs are sentences: a few words with no sentence end (an unlisted widget, a
    # site name, a credit) are page furniture, unless they are all the body there is.
    kept = [p for p in paragraphs if not _is_stray(p)]
    return kept or paragraphs[:1]


def _paragraphs(lines: list[Line], start: int, stop: int) -> tuple[list[str], int]:
    """Text lines from start up to stop or the first section line; and where they ended."""
    found: list[str] = []
    i = start
    while i < stop and lines[i].kind is not LineKind.SECTION:
        if lines[i].kind in TEXT_KINDS:
            found.append(lines[i].text)
        i += 1
    return _trim(found), i


def _headerless(lines: list[Line], start: int, stop: int) -> list[tuple[int, ArticleDraft]]:
    """Articles in a stretch no header claims: each part between section lines gives one at most.

    The opening of the page, up to its first article, holds the lead. After it, a title
    must have three words at least, so that a commenter's name above a comment is not
    taken for an article.
    """
    found: list[tuple[int, ArticleDraft]] = []
    part: list[int] = []
    opening = start == 0
    for i in range(start, stop + 1):
        kind = lines[i].kind if i < stop else LineKind.SECTION
        if kind is not LineKind.SECTION:
            if kind is not LineKind.INLINE:
                part.append(i)
            continue
        if not part:
            continue
        article = _part_article(lines, part, opening=opening)
        if article is not None:
            found.append(article)
            opening = False
        part = []
    return found


def _part_article(
    lines: list[Line], part: list[int], *, opening: bool
) -> tuple[int, ArticleDraft] | None:
    """The article of one part: the short line right above the first paragraph is its title.

    Lines above the title are furniture, except a byline or, below the top of the page, a
    publisher name right above it ("Reuters / <title> / <paragraphs>"); a name above the
    lead is the site's masthead.
    """
    kinds = [lines[j].kind for j in part]
    if LineKind.PARA not in kinds:
        return None
    first_para = kinds.index(LineKind.PARA)
    at = first_para - 1
    source = None
    while at >= 0 and kinds[at] is LineKind.BYLINE:
        source = lines[part[at]].source
        at -= 1
    if at < 0 or kinds[at] is not LineKind.SHORT:
        return None
    title = lines[part[at]].text
    if not opening and word_count(title) < 3:
        return None
    above = lines[part[at - 1]] if at > 0 else None
    if source is None and above is not None:
        if above.kind is LineKind.BYLINE:
            source = above.source
        elif not opening and above.kind is LineKind.SHORT and is_name_like(above.text):
            source = above.text
    body = _trim([lines[j].text for j in part[first_para:] if lines[j].kind in TEXT_KINDS])
    return part[at], ArticleDraft(title=title, body="\n\n".join(body), source=source)


def split_text_page(text: str) -> list[ArticleDraft]:
    """The articles of an aggregator text page, in page order; [] when there are none."""
    lines = [classify_line(line) for line in text_lines(text)]
    _demote_stray_dashes(lines)
    headers = _find_headers(lines)
    found: list[tuple[int, ArticleDraft]] = []
    free_from = 0
    for n, header in enumerate(headers):
        found.extend(_headerless(lines, free_from, header.start))
        stop = headers[n + 1].start if n + 1 < len(headers) else len(lines)
        free_from = header.body_start
        if header.title is None:
            continue
        body, free_from = _paragraphs(lines, header.body_start, stop)
        if body:
            draft = ArticleDraft(
                title=lines[header.title].text,
                body="\n\n".join(body),
                source=header.source,
                time_text=header.time_text,
            )
            found.append((header.title, draft))
    found.extend(_headerless(lines, free_from, len(lines)))
    found.sort(key=lambda item: item[0])
    return [draft for _, draft in found]
