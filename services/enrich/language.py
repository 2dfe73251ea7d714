"""The language of an article: ISO 639-1 codes from declared tags and from the text itself.

Owns `to_iso639_1` (reduce a declared tag such as "en-GB", "zh_CN" or "deu" to a two-letter
code) and `detect_language` (py3langid over the start of the text, weighed against the
language the page declares). The py3langid model is pure data, loaded once on first use.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Enough text to tell any language apart; py3langid's cost grows with the length it reads
# (about 1.3 ms per 1,000 characters).
_SAMPLE_CHARS: Final = 1200
# Fewer letters than this (a headline, a name, a number) is too little to judge.
_MIN_LETTERS: Final = 20
# A detection this sure overrides a declaration that disagrees (CMS templates often keep
# a default lang="en" on pages in other languages).
_CONFIDENT: Final = 0.9
# Without a declaration, a detection below this is a guess and gives no language.
_PLAUSIBLE: Final = 0.5

_TWO_LETTERS: Final = re.compile(r"[a-z]{2}")

# Retired two-letter codes and the three-letter codes pages and py3langid use for languages
# that have a two-letter code (dialects fold into their macrolanguage).
_ALIASES: Final = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
    "ara": "ar",
    "arb": "ar",
    "ary": "ar",
    "arz": "ar",
    "chi": "zh",
    "zho": "zh",
    "cmn": "zh",
    "yue": "zh",
    "wuu": "zh",
    "ces": "cs",
    "cze": "cs",
    "dan": "da",
    "deu": "de",
    "ger": "de",
    "ell": "el",
    "gre": "el",
    "eng": "en",
    "spa": "es",
    "fas": "fa",
    "per": "fa",
    "fin": "fi",
    "fra": "fr",
    "fre": "fr",
    "heb": "he",
    "hin": "hi",
    "hun": "hu",
    "ind": "id",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "msa": "ms",
    "may": "ms",
    "zsm": "ms",
    "nld": "nl",
    "dut": "nl",
    "nor": "no",
    "nob": "nb",
    "pol": "pl",
    "por": "pt",
    "ron": "ro",
    "rum": "ro",
    "rus": "ru",
    "swe": "sv",
    "tha": "th",
    "tur": "tr",
    "ukr": "uk",
    "urd": "ur",
    "vie": "vi",
    "sdh": "ku",
    "uzs": "uz",
}

# Languages so close that a short text cannot separate them: the declaration decides.
_CLOSE_GROUPS: Final = (
    frozenset({"da", "nb", "nn", "no"}),
    frozenset({"bs", "hr", "sr"}),
    frozenset({"id", "ms"}),
    frozenset({"gl", "pt"}),
)


def to_iso639_1(tag: str | None) -> str | None:
    """The ISO 639-1 code of a language tag ("en-GB", "zh_CN", "deu", "en, fr"), or None."""
    if not tag:
        return None
    first = tag.split(",", 1)[0].strip().lower().replace("_", "-")
    primary = first.split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    return primary if _TWO_LETTERS.fullmatch(primary) else None


@cache
def _identifier() -> LanguageIdentifier:
    # norm_probs gives calibrated probabilities, which the thresholds above are set against.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _ranked(sample: str) -> list[tuple[str, float]]:
    """Probabilities per ISO 639-1 code, dialect scores folded into their language, best first."""
    folded: dict[str, float] = {}
    for label, score in _identifier().rank(sample):
        code = to_iso639_1(str(label))
        if code is not None:
            folded[code] = folded.get(code, 0.0) + float(score)
    return sorted(folded.items(), key=lambda item: item[1], reverse=True)


def _close(one: str, other: str) -> bool:
    return any(one in group and other in group for group in _CLOSE_GROUPS)


def detect_language(text: str, declared: str | None = None) -> str | None:
    """The ISO 639-1 code of the text's language, weighed against the page's declared tag.

    Too little text to judge (fewer than 20 letters) gives the declared language; a confident
    detection wins over a declaration that disagrees; otherwise the declaration stands, and
    without one an implausible detection gives None.
    """
    declared_code = to_iso639_1(declared)
    sample = text[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS:
        return declared_code
    ranked = _ranked(sample)
    if not ranked:
        return declared_code
    detected, probability = ranked[0]
    if declared_code is None:
        return detected if probability >= _PLAUSIBLE else None
    if detected == declared_code or _close(detected, declared_code):
        return declared_code
    return detected if probability >= _CONFIDENT else declared_code
