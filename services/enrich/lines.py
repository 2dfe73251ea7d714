"""What each line of a text page is: widget, time, publisher and time, byline, title or text.

Owns `classify_line`, the first pass of the text-page splitter (`split`). A line is read on
its own: boilerplate through `boilerplate`, times through `timestamps`, everything else by
its shape (`text`). The result is memoised for short lines, which repeat from page to page.
"""

from __future__ import annotations

import re
from enum import Enum, auto
from functools import lru_cache
from typing import Final, NamedTuple

from services.enrich.boilerplate import BoilerplateKind, boilerplate_kind
from services.enrich.text import is_name_like, is_paragraph_like, word_count
from services.enrich.timestamps import find_time_expression, is_time_expression


class LineKind(Enum):
    """The kinds of non-blank line on a text page."""

    SECTION = auto()
    """Boilerplate that opens another part of the page ("Related Articles")."""
    INLINE = auto()
    """Boilerplate inside or between articles ("Advertisement")."""
    TIME = auto()
    """An age or a date alone ("17 minutes ago", "Jun 21, 2025")."""
    SOURCE_TIME = auto()
    """A publisher and a time on one line ("Russia Today · 4h")."""
    DASH = auto()
    """A dashed publisher ("- Russia Today"); a header line only beside one (see `split`)."""
    BYLINE = auto()
    """A credit line naming a publisher ("By Reuters", "Source: AFP"): neither title nor text."""
    SHORT = auto()
    """Headline-shaped text: a title, a publisher name, a subheading."""
    PARA = auto()
    """Sentence-shaped text: a paragraph."""


# Tuples rather than sets: `in` compares members by identity, where a set would call
# `Enum.__hash__`, a Python function, on every test of the splitter's inner loops.
HEADER_KINDS: Final = (LineKind.TIME, LineKind.SOURCE_TIME, LineKind.DASH)
TEXT_KINDS: Final = (LineKind.SHORT, LineKind.PARA)


class Line(NamedTuple):
    """A classified non-blank line (a NamedTuple: built once per line, it must be cheap)."""

    text: str
    kind: LineKind
    source: str | None = None
    """The publisher the line names (SOURCE_TIME, DASH, BYLINE)."""
    time_text: str | None = None
    """The time the line states (TIME, SOURCE_TIME), as written."""


# Time lines are short; longer lines are not even offered to the time parser.
_TIME_MAX_CHARS: Final = 64
_SOURCE_TIME_MAX_CHARS: Final = 96
_CACHED_CHARS: Final = 120
_DASH: Final = re.compile(r"^[-–—]\s*(\S.*)$")
# Between a publisher and a time on one line: "·", "|", "•", a spaced dash, or a comma.
_JOIN: Final = re.compile(r"\s*[·|•]\s*|\s+[-–—]\s+|,\s+")
# Every _JOIN match holds one of these: `_JOIN` can use no prefix scan (it may start with
# spaces), so this one-character class is searched first and rules out most lines at once.
_JOIN_MARKS: Final = re.compile(r"[·|•,\-–—]")
_SEPARATOR_CHARS: Final = " ·|•-–—,:/"
_BY: Final = re.compile(r"^(?:by|por|von|par|di|door|от)\s+", re.IGNORECASE)
_CREDIT: Final = re.compile(
    r"^(?:(?:by|por|von|par|door)\s+|(?:source|sources|fuente|quelle|fonte|bron|источник)\s*:\s*)"
    r"(\S.*)$",
    re.IGNORECASE,
)
# Words that introduce a time rather than name a publisher ("Updated · 2h").
_NOT_PUBLISHERS: Final = frozenset(
    (
        "updated", "published", "posted", "last updated", "actualizado", "publicado",
        "aktualisiert", "veröffentlicht", "mis à jour", "publié", "modifié", "aggiornato",
        "pubblicato", "atualizado", "обновлено", "опубликовано",
    )
)  # fmt: skip


def publisher_name(name: str) -> str | None:
    """The publisher a short name fragment gives ("By Reuters," -> "Reuters"), if it can be one."""
    name = _BY.sub("", name.strip(_SEPARATOR_CHARS))
    if (
        not name
        or word_count(name) > 6
        or len(name) > 48
        or name[-1] in ".!?;"
        or name.casefold() in _NOT_PUBLISHERS
        or _JOIN.search(name) is not None
    ):
        return None
    return name


def is_publisher(line: str) -> bool:
    """Whether a line can name a publisher: "Russia Today", "El País", but also "n-tv"."""
    return is_name_like(line) or (" " not in line and publisher_name(line) == line)


def _source_and_time(text: str) -> tuple[str | None, str] | None:
    """(publisher, time text) for a line such as "Russia Today · 4h" or "4h | Reuters"."""
    joins = list(_JOIN.finditer(text)) if _JOIN_MARKS.search(text) else []
    for join in joins:
        left, right = text[: join.start()], text[join.end() :]
        for name, when in ((left, right), (right, left)):
            # "June 1, 2025 · Reuters" also splits at its comma: the time must take a whole side.
            if is_time_expression(when):
                if name.casefold() in _NOT_PUBLISHERS:
                    return None, when
                source = publisher_name(name)
                if source is not None:
                    return source, when
    if joins or word_count(text) > 6 or not any(map(str.isdigit, text)):
        return None
    # No separator: "Reuters 2 hours ago". Only an explicit age or dated day is found here,
    # and the rest must read as a name, so that a headline ending in "today" stays one.
    span = find_time_expression(text)
    if span is None or (span[0] == 0) == (span[1] == len(text)):
        return None
    rest = text[span[1] :] if span[0] == 0 else text[: span[0]]
    source = publisher_name(rest)
    return (source, text[span[0] : span[1]]) if source and is_name_like(source) else None


def _time_alone(text: str) -> str | None:
    """The time a short line states on its own, as written; "(4h)" gives "4h"."""
    if len(text) > _TIME_MAX_CHARS:
        return None
    if text[:1] in "([" and text[-1:] in ")]":
        text = text[1:-1].strip()
    return text if text and is_time_expression(text) else None


def _header_line(text: str) -> Line | None:
    """A time, publisher-and-time, dashed publisher or byline line; None for other lines."""
    dash = _DASH.match(text)
    rest = dash.group(1) if dash else text
    when = _time_alone(text) or (_time_alone(rest) if dash else None)
    if when is not None:
        return Line(text, LineKind.TIME, time_text=when)
    if len(rest) > _SOURCE_TIME_MAX_CHARS:
        return None
    found = _source_and_time(rest)
    if found is not None:
        return Line(text, LineKind.SOURCE_TIME, source=found[0], time_text=found[1])
    if dash and (source := publisher_name(rest)) is not None and not is_paragraph_like(rest):
        return Line(text, LineKind.DASH, source=source)
    credit = _CREDIT.match(rest)
    if credit and (source := publisher_name(credit[1])) and is_name_like(source):
        return Line(text, LineKind.BYLINE, source=source)
    return None


def _classify(text: str) -> Line:
    # Counting the words of a long paragraph is a scan of every character: done once here.
    words = word_count(text)
    kind = boilerplate_kind(text, words)
    if kind is not None:
        return Line(text, LineKind.SECTION if kind is BoilerplateKind.SECTION else LineKind.INLINE)
    return _header_line(text) or _text_line(text, words)


# Short lines repeat from page to page (widgets, publishers, ages): their classification is
# pure, so it is memoised. Paragraph-length lines are rarely seen twice and stay out.
_classify_short = lru_cache(maxsize=16384)(_classify)


def classify_line(text: str) -> Line:
    """The kind of one non-blank, whitespace-normalised line, with what it names."""
    return _classify_short(text) if len(text) <= _CACHED_CHARS else _classify(text)


def _text_line(text: str, words: int | None = None) -> Line:
    return Line(text, LineKind.PARA if is_paragraph_like(text, words) else LineKind.SHORT)


def as_text(line: Line) -> Line:
    """The same line read as plain text (a dashed name that turned out not to be a header)."""
    return _text_line(line.text)
