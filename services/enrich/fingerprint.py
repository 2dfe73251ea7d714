"""Content fingerprints of articles: normalised text, event ids, content hashes, MinHash.

Pure functions only. ``make_fingerprint`` turns one article into a ``Fingerprint``: the
event id (same normalised content, same id, wherever and whenever it is seen), a 128-value
MinHash signature of its shingles and the LSH band keys under which a dedupe store files it.

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
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import regex  # type: ignore[import-untyped]  # no stubs ship with it; one call below
import xxhash

NUM_PERM: Final = 128
BANDS: Final = 32
ROWS: Final = 4
_SEED: Final = 1
_MAX_HASH: Final = np.uint32(0xFFFFFFFF)
_FMIX32: Final = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # The affine permutations of datasketch's "affine32" scheme, drawn the same way, so that
    # signatures equal datasketch.MinHash(seed=1, scheme="affine32", hashfunc=xxh32)
    # (a test checks it against datasketch itself). Pure data, built once.
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_A, _B = _permutations(NUM_PERM, _SEED)

# Apostrophes join the word they sit in ("don’t" and "don't" both give "dont"); every
# other punctuation or symbol character (quotes, dashes, brackets, emoji) splits words.
_APOSTROPHES: Final = ("'", "’", "‘", "ʼ", "`", "´", "＇")
_PUNCTUATION: Final = regex.compile(r"[\p{P}\p{S}]+")

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
_BATCH: Final = 512


def _utf8(text: str) -> bytes:
    # Pages may carry lone surrogates from JSON escapes; they must hash, not crash.
    return text.encode("utf-8", "surrogatepass")


def normalise_for_fingerprint(title: str, body: str) -> str:
    """The article's text as compared for duplicates: NFKC, casefolded, no punctuation,
    curly and straight quotes and all dashes alike, single spaces."""
    text = f"{title}\n{body}"
    for apostrophe in _APOSTROPHES:  # before NFKC, which splits "´" into a space and an accent
        text = text.replace(apostrophe, "")
    text = _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())


def event_id_for(normalised: str) -> str:
    """A UUID-formatted id from the xxh3-128 of the normalised text."""
    return str(uuid.UUID(bytes=xxhash.xxh3_128_digest(_utf8(normalised))))


def content_hash_for(title: str, body: str) -> str:
    """Hex xxh3-128 of the text exactly as emitted ("title\\n\\nbody")."""
    return xxhash.xxh3_128_hexdigest(_utf8(f"{title}\n\n{body}"))


def _tokens(normalised: str) -> list[bytes]:
    if _HAS_UNSPACED.search(normalised) is None:
        return _utf8(normalised).split()
    return [_utf8(token) for token in _TOKEN.findall(normalised)]


def shingles(normalised: str) -> list[bytes]:
    """3-token shingles (word 3-grams, or character 3-grams in unspaced scripts).

    A text of one to three tokens is a single shingle; an empty text has none.
    """
    tokens = _tokens(normalised)
    if len(tokens) <= _SHINGLE_SIZE:
        return [b" ".join(tokens)] if tokens else []
    return list(map(b" ".join, zip(tokens, tokens[1:], tokens[2:], strict=False)))


def _fmix32(values: np.ndarray) -> np.ndarray:
    # MurmurHash3's finalizer, as datasketch pre-mixes hashes before the affine permutations.
    s1, m1, s2, m2 = _FMIX32
    values = values ^ (values >> s1)
    values = values * m1
    values = values ^ (values >> s2)
    values = values * m2
    mixed: np.ndarray = values ^ (values >> s1)
    return mixed


def minhash_signature(shingle_list: list[bytes]) -> bytes:
    """128 MinHash values (uint32, little endian) of a shingle set, as 512 bytes.

    The MinHash of datasketch's affine32 scheme with xxh32 as the hash, computed here with
    numpy directly: datasketch's per-sketch set-up cost more than the hashing of a short
    article, and importing it pulls in scipy (about a second at every process start).
    """
    values = np.full(NUM_PERM, _MAX_HASH, dtype=np.uint32)
    hashes = np.fromiter(
        map(xxhash.xxh32_intdigest, shingle_list), dtype=np.uint32, count=len(shingle_list)
    )
    # Chunks keep the shingles x 128 matrix small enough for the allocator to reuse.
    for start in range(0, len(hashes), _BATCH):
        mixed = _fmix32(hashes[start : start + _BATCH]).reshape(-1, 1)
        np.minimum(values, (mixed * _A + _B).min(axis=0), out=values)
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
    bands: tuple[str, ...]
    """LSH band keys, one per band."""


def make_fingerprint(title: str, body: str, *, owner: str, fetched_at: datetime) -> Fingerprint:
    """Fingerprint one article; ``fetched_at`` must be timezone-aware."""
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    normalised = normalise_for_fingerprint(title, body)
    signature = minhash_signature(shingles(normalised))
    return Fingerprint(
        event_id=event_id_for(normalised),
        owner=owner,
        fetched_at=fetched_at.astimezone(UTC),
        signature=signature,
        bands=band_keys(signature),
    )
