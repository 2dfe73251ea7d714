"""Content fingerprints of articles: normalised text, event ids, content hashes, MinHash.

Pure functions only. ``make_fingerprint`` turns one article into a ``Fingerprint``: the
event id (same normalised content, same id, wherever and whenever it is seen), a 128-value
MinHash signature of its shingles and the LSH band keys under which a dedupe store files it.
``make_fingerprints`` does the same for a whole batch of articles in a few numpy passes
(see ``fingerprint_minhash``), which is what the enrich step calls.

Shingles are 3-token windows. Scripts written with spaces tokenise into words; scripts
written without them (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar) contribute one
token per character, so their shingles are character 3-grams, and mixed text works alike.

LSH uses 32 bands of 4 rows (all 128 values). A pair with Jaccard similarity s shares a band
with probability 1 - (1 - s**4)**32: 0.05 at s = 0.2 (different articles about one event),
0.56 at 0.4, 0.988 at 0.6 and 0.9998 at 0.7. The S-curve's midpoint (1/32)**(1/4) ≈ 0.42 sits
below the default dedupe threshold of 0.6, so the band step almost never misses a near
duplicate and the signature comparison, not the banding, makes the decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Final, NamedTuple

import numpy as np
import regex  # type: ignore[import-untyped]  # no stubs ship with it; one call below
import xxhash

from services.enrich.fingerprint_minhash import NUM_PERM, shingle_spans, signatures, xxh32

__all__ = [
    "BANDS",
    "NUM_PERM",
    "ROWS",
    "ArticleText",
    "Fingerprint",
    "band_keys",
    "content_hash_for",
    "estimate_jaccard",
    "event_id_for",
    "make_fingerprint",
    "make_fingerprints",
    "minhash_signature",
    "normalise_for_fingerprint",
    "shingles",
]

BANDS: Final = 32
ROWS: Final = 4
SIGNATURE_BYTES: Final = NUM_PERM * 4

# Apostrophes join the word they sit in ("don’t" and "don't" both give "dont"); every
# other punctuation or symbol character (quotes, dashes, brackets, emoji) splits words.
_APOSTROPHES: Final = ("'", "’", "‘", "ʼ", "`", "´", "＇")
_PUNCTUATION: Final = regex.compile(r"[\p{P}\p{S}]")
_ASCII_PUNCTUATION: Final = {
    code: " " for code in range(128) if _PUNCTUATION.fullmatch(chr(code)) is not None
}
# Which characters _PUNCTUATION matches, learnt one character at a time as texts bring
# them: a set lookup per distinct character of a text instead of a regex step per
# character. Bounded by the characters Unicode has; the ASCII ones are known from the start.
_PUNCTUATION_SEEN: Final = {chr(code) for code in _ASCII_PUNCTUATION}
_CLASSIFIED: Final = {chr(code) for code in range(128)}

# Scripts written without spaces between words, plus ideographic iteration marks.
_UNSPACED: Final = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0003134f"  # CJK extensions B to G
)
_HAS_UNSPACED: Final = re.compile(f"[{_UNSPACED}]")
_TOKEN: Final = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")
_SHINGLE_SIZE: Final = 3


def _utf8(text: str) -> bytes:
    # Pages may carry lone surrogates from JSON escapes; they must hash, not crash.
    return text.encode("utf-8", "surrogatepass")


def normalise_for_fingerprint(title: str, body: str) -> str:
    """The article's text as compared for duplicates: NFKC, casefolded, no punctuation,
    curly and straight quotes and all dashes alike, single spaces."""
    text = f"{title}\n{body}"
    for apostrophe in _APOSTROPHES:  # before NFKC, which splits "´" into a space and an accent
        text = text.replace(apostrophe, "")
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        text = text.translate(_ASCII_PUNCTUATION)
    else:
        # Every punctuation or symbol character becomes a space; the split below folds the
        # runs, as replacing each run by one space would.
        chars = set(text)
        unknown = chars - _CLASSIFIED
        if unknown:
            _PUNCTUATION_SEEN.update(_PUNCTUATION.findall("".join(unknown)))
            _CLASSIFIED.update(unknown)
        for char in chars & _PUNCTUATION_SEEN:
            text = text.replace(char, " ")
    return " ".join(text.split())


def event_id_for(normalised: str) -> str:
    """A UUID-formatted id from the xxh3-128 of the normalised text."""
    return _event_id(_utf8(normalised))


def _event_id(normalised: bytes) -> str:
    # str(uuid.UUID(bytes=digest)) written out: the same text at a quarter of the cost.
    h = xxhash.xxh3_128_hexdigest(normalised)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def content_hash_for(title: str, body: str) -> str:
    """Hex xxh3-128 of the text exactly as emitted ("title\\n\\nbody")."""
    return xxhash.xxh3_128_hexdigest(_utf8(f"{title}\n\n{body}"))


def _tokens(normalised: str) -> list[bytes]:
    if _HAS_UNSPACED.search(normalised) is None:
        return _utf8(normalised).split()
    return [_utf8(token) for token in _TOKEN.findall(normalised)]


def _shingle_text(normalised: str, encoded: bytes) -> bytes:
    # The tokens joined by single spaces, in which every shingle is a contiguous slice.
    if normalised.isascii() or _HAS_UNSPACED.search(normalised) is None:
        return encoded
    return _utf8(" ".join(_TOKEN.findall(normalised)))


def shingles(normalised: str) -> list[bytes]:
    """3-token shingles (word 3-grams, or character 3-grams in unspaced scripts).

    A text of one to three tokens is a single shingle; an empty text has none.
    """
    tokens = _tokens(normalised)
    if len(tokens) <= _SHINGLE_SIZE:
        return [b" ".join(tokens)] if tokens else []
    return list(map(b" ".join, zip(tokens, tokens[1:], tokens[2:], strict=False)))


def minhash_signature(shingle_list: list[bytes]) -> bytes:
    """128 MinHash values (uint32, little endian) of a shingle set, as 512 bytes.

    The MinHash of datasketch's affine32 scheme with xxh32 as the hash, computed here with
    numpy directly: datasketch's per-sketch set-up cost more than the hashing of a short
    article, and importing it pulls in scipy (about a second at every process start).
    """
    data = b"".join(shingle_list)
    ends = np.fromiter(accumulate(map(len, shingle_list)), dtype=np.int64, count=len(shingle_list))
    starts = ends - np.fromiter(map(len, shingle_list), dtype=np.int64, count=len(shingle_list))
    firsts = np.array([0, len(shingle_list)], dtype=np.int64)
    return _signature_bytes(signatures(xxh32(data, starts, ends), firsts))


def _signature_bytes(values: np.ndarray) -> bytes:
    return values.astype("<u4", copy=False).tobytes()


_BAND_PREFIXES: Final = tuple(f"{band:02d}" for band in range(BANDS))
_BAND_HEX: Final = ROWS * 8  # hex digits per band


def band_keys(signature: bytes) -> tuple[str, ...]:
    """One key per LSH band: the band number and the hex of its rows' 16 bytes."""
    hexed = signature.hex()
    chunks = (hexed[start : start + _BAND_HEX] for start in range(0, len(hexed), _BAND_HEX))
    return tuple(map(str.__add__, _BAND_PREFIXES, chunks))


def estimate_jaccard(signature: bytes, other: bytes) -> float:
    """The Jaccard similarity two signatures estimate: the share of equal values."""
    if len(signature) != len(other):
        raise ValueError("signatures of different lengths cannot be compared")
    mine = np.frombuffer(signature, dtype="<u4")
    theirs = np.frombuffer(other, dtype="<u4")
    return int(np.count_nonzero(mine == theirs)) / len(mine)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedupe needs to know about one article."""

    event_id: str
    """Id from the normalised content (see ``event_id_for``)."""
    owner: str
    """The slot the article came from, "page_id#position"; a reprocess has the same owner."""
    fetched_at: datetime
    """When its page was fetched, in UTC."""
    signature: bytes
    """128 MinHash values, uint32 little endian."""

    @property
    def bands(self) -> tuple[str, ...]:
        """LSH band keys, one per band (see ``band_keys``), computed from the signature."""
        return band_keys(self.signature)


class ArticleText(NamedTuple):
    """One article to fingerprint: its text, the slot it came from and its fetch time."""

    title: str
    body: str
    owner: str
    """"page_id#position", see ``Fingerprint.owner``."""
    fetched_at: datetime
    """Timezone-aware."""


def make_fingerprint(title: str, body: str, *, owner: str, fetched_at: datetime) -> Fingerprint:
    """Fingerprint one article; ``fetched_at`` must be timezone-aware."""
    return make_fingerprints([ArticleText(title, body, owner, fetched_at)])[0]


PASS_BYTES: Final = 256 * 1024
"""Most text one numpy pass of ``make_fingerprints`` takes (an article longer than this gets
a pass of its own). A pass's arrays take many times its text in memory, so passes bound
what fingerprinting a batch holds at once, whatever the batch's size: a batch of 200
aggregator pages peaked at about 7 MiB of allocations in passes of this size, 19 MiB in one
pass, at the same CPU time (passes of 128 KiB took about a tenth more). Measured again with
malloc's thresholds fixed (`newsflow.heap`), smaller passes spent less system time mapping
their arrays but no less time in all."""


def _passes(texts: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    # Consecutive runs of texts of at most PASS_BYTES together (a longer text alone).
    start, size = 0, 0
    for end, text in enumerate(texts):
        if size and size + len(text) > PASS_BYTES:
            yield texts[start:end]
            start, size = end, 0
        size += len(text)
    if start < len(texts):
        yield texts[start:]


def _signed(texts: Sequence[bytes]) -> bytes:
    # The signatures of one pass, SIGNATURE_BYTES per text, in order.
    data = b"".join(texts)
    starts, ends, firsts = shingle_spans(data, [0, *accumulate(map(len, texts))])
    return _signature_bytes(signatures(xxh32(data, starts, ends), firsts))


def make_fingerprints(articles: Sequence[ArticleText]) -> list[Fingerprint]:
    """Fingerprint many articles (a page, or a batch of pages) at once, in order.

    Equal to ``make_fingerprint`` on each article, at a fraction of the cost: the shingles
    of all of them are hashed and minimised in a few dozen numpy passes, so the more
    articles a call gets, the less each one costs.
    """
    for article in articles:
        if article.fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be timezone-aware")
    if not articles:
        return []
    normalised = [normalise_for_fingerprint(article.title, article.body) for article in articles]
    encoded = list(map(_utf8, normalised))
    texts = list(map(_shingle_text, normalised, encoded))
    signed = b"".join(map(_signed, _passes(texts)))
    return [
        Fingerprint(
            event_id=_event_id(text),
            owner=article.owner,
            fetched_at=article.fetched_at.astimezone(UTC),
            signature=signed[index * SIGNATURE_BYTES : (index + 1) * SIGNATURE_BYTES],
        )
        for index, (article, text) in enumerate(zip(articles, encoded, strict=True))
    ]
