"""Whitespace normalisation of raw page text and the line-shape tests the splitter reads.

Owns `normalise_text` (line endings, Unicode spaces, invisible and control characters; every
other character is kept, so bodies are emitted verbatim apart from whitespace) and small pure
predicates over one line: is it sentence-like (a paragraph), or could it be a publisher name.
"""

from __future__ import annotations

import re
from typing import Final

# Every Unicode space separator (category Zs) except the plain space, plus tab and the unit
# separator (whitespace to `str.split`): all become " ".
_SPACE_SEPARATORS: Final = (
    "\t\x1f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
# Line breaks other than "\n": they split lines like "\n" does.
_LINE_BREAKS: Final = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Invisible characters scrapers leave behind (zero-width space/joiners, word joiner, BOM,
# soft hyphen, Mongolian vowel separator): removed outright.
_INVISIBLE: Final = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
# C0 control characters that are neither spaces nor line breaks (above), and DEL: never text
# on a page (a NUL from a broken scraper, an escape code), refused by XML parsers and by
# PostgreSQL text columns. Removed outright.
CONTROLS: Final = "".join(map(chr, (*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F)))
# The C0 controls among the spaces and line breaks above: what XML refuses of them.
_SEPARATOR_CONTROLS: Final = "\v\f\x1c\x1d\x1e\x1f"
_REMOVED: Final = _INVISIBLE + CONTROLS

# Sentence ends, including CJK full stops and the ellipsis character.
_TERMINAL: Final = frozenset(".!?。！？…")
# Closing marks that may follow a sentence end: quotes, brackets, guillemets.
_CLOSERS: Final = "\"'’”»)]}›」』"
# Lower-case words a publisher name may contain: "The Times of India", "Corriere della Sera".
_NAME_CONNECTORS: Final = frozenset(
    (
        "of", "the", "and", "&", "de", "del", "della", "dei", "la", "le", "les", "el", "los",
        "das", "der", "die", "du", "des", "di", "da", "do", "van", "von", "y", "e", "et", "und",
    )
)  # fmt: skip
_DOMAIN: Final = re.compile(r"^[\w-]+(?:\.[\w-]+)+$")
_SENTENCE_BREAK: Final = re.compile(r"[.!?。！？][\"'’”»)]*\s+[\"'‘“«(]*[A-ZÀ-ÖØ-ÞА-ЯЁ0-9]")

TITLE_MAX_WORDS: Final = 30
"""A line with more words than this reads as a paragraph, never as a title."""
TITLE_MAX_CHARS: Final = 200
"""Likewise for lines without spaces between words (CJK scripts)."""


def normalise_text(raw: str) -> str:
    """Raw page text with "\\n" line ends, single plain spaces and no invisible characters.

    CRLF, CR and Unicode line separators become "\\n"; NBSP, tabs and every other Unicode
    space separator become " "; zero-width characters, BOM, soft hyphens and control
    characters other than those (NUL, escape, DEL...) are removed;
    runs of spaces collapse to one and each line is stripped. Quotes, dashes and all other
    characters are kept as they are.
    """
    text = _single_spaced(raw)
    if " \n" in text or "\n " in text:
        text = text.replace(" \n", "\n").replace("\n ", "\n")
    return text.strip(" ")


def _single_spaced(raw: str) -> str:
    text = raw.replace("\r\n", "\n") if "\r" in raw else raw
    text = _replaced(text, ((_LINE_BREAKS, "\n"), (_SPACE_SEPARATORS, " "), (_REMOVED, "")))
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def one_line(text: str) -> str:
    """`normalise_text(text)` on one line: line breaks become single spaces."""
    return " ".join(normalise_text(text).split())


def markup_safe(html: str) -> str:
    """HTML source without the C0 control characters XML tools refuse, tab, LF and CR aside.

    `CONTROLS` (NUL, escape, DEL...) are removed as `normalise_text` removes them; vertical
    tab, form feed and the separators 0x1c-0x1f become spaces. trafilatura builds lxml
    elements from the page's text and, given one of those characters, lost the whole page.
    """
    return _replaced(html, ((CONTROLS, ""), (_SEPARATOR_CONTROLS, " ")))


def _replaced(text: str, table: tuple[tuple[str, str], ...]) -> str:
    # Each character of each group replaced by the group's replacement. `in` and `replace`
    # are fast C scans; a regex character class over a non-ASCII page is several times
    # slower, and most pages hold none of these characters at all.
    for chars, by in table:
        for char in chars:
            if char in text:
                text = text.replace(char, by)
    return text


def split_lines(text: str) -> list[str]:
    """The lines of normalised text, blank lines included (as "")."""
    return normalise_text(text).split("\n")


def text_lines(raw: str) -> list[str]:
    """The non-blank lines of `normalise_text(raw)`, in order.

    Stripping each line here costs less than the two scans of the whole page that
    `normalise_text` needs to strip them in place.
    """
    return [stripped for line in _single_spaced(raw).split("\n") if (stripped := line.strip(" "))]


def word_count(line: str) -> int:
    """Number of space-separated words in a normalised line."""
    return line.count(" ") + 1 if line else 0


def _last_significant(line: str) -> str:
    stripped = line.rstrip(_CLOSERS)
    return stripped[-1] if stripped else ""


def ends_sentence(line: str) -> bool:
    """True when the line ends like a sentence (".", "!", "?", "…", possibly inside quotes)."""
    return _last_significant(line) in _TERMINAL


def ends_with_full_stop(line: str) -> bool:
    """True when the line's last sentence mark is a full stop (not "?" or "!")."""
    return _last_significant(line) in ".。"


def is_paragraph_like(line: str, words: int | None = None) -> bool:
    """True when a normalised line reads as running text rather than a headline.

    A headline is short and has no final period; a question or exclamation headline is
    still a headline while it is short and holds a single sentence. `words` is the line's
    `word_count` when the caller has it already.
    """
    if words is None:
        words = word_count(line)
    if words > TITLE_MAX_WORDS or len(line) > TITLE_MAX_CHARS:
        return True
    last = _last_significant(line)
    if last in ".。…":
        # "...", "…": a headline trailing off, unless it is sentence-length.
        return not (line.rstrip(_CLOSERS).endswith(("...", "…")) and words <= 12)
    if last in "!?！？":
        return words > 18 or _SENTENCE_BREAK.search(line) is not None
    return words > 22


def is_name_like(line: str) -> bool:
    """True when a line could be a publisher name: "Russia Today", "El País", "rt.com".

    One to five words, no sentence punctuation at the end, and every word capitalised or a
    short connector ("of", "de", "la").
    """
    if not line or len(line) > 48 or line[-1] in ".!?:;,":
        return False
    words = line.split(" ")
    if len(words) > 5 or not all(words):
        return False
    if len(words) == 1 and _DOMAIN.match(line):
        return True
    first = words[0][0]
    if not (first.isupper() or first.isdigit()):
        return False
    return all(
        word[0].isupper() or word[0].isdigit() or word.casefold() in _NAME_CONNECTORS
        for word in words
    )
