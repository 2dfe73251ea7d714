"""MinHash signatures of many texts at once: xxh32 of every shingle and the minima in numpy.

Pure functions over bytes. A shingle of a text whose tokens are separated by single spaces
is a contiguous slice of it (from the start of its first token to the end of its third),
so the shingles of a whole page are (start, end) pairs into one buffer: nothing is built
per shingle. ``xxh32`` runs the 32-bit xxHash over all those slices in a few dozen numpy
passes, lane by lane, and gives exactly ``xxhash.xxh32_intdigest`` of each slice (a test
checks it on arbitrary bytes). ``signatures`` then takes the affine32 MinHash of each
text's shingle hashes in one pass, exactly as datasketch does (see ``fingerprint``).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

import numpy as np

NUM_PERM: Final = 128
SEED: Final = 1
_MAX_HASH: Final = np.uint32(0xFFFFFFFF)
_P1: Final = np.uint32(2654435761)
_P2: Final = np.uint32(2246822519)
_P3: Final = np.uint32(3266489917)
_P4: Final = np.uint32(668265263)
_P5: Final = np.uint32(374761393)
_FMIX32: Final = (np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35))
_SHINGLE_SIZE: Final = 3
_ROWS_PER_PASS: Final = 4096  # shingles per (shingles x 128) block: a few MB at most
_SPACE: Final = 32


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # The affine permutations of datasketch's "affine32" scheme, drawn the same way, so that
    # signatures equal datasketch.MinHash(seed=1, scheme="affine32", hashfunc=xxh32)
    # (a test checks it against datasketch itself). Pure data, built once.
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_A, _B = _permutations(NUM_PERM, SEED)


def _rotl(values: np.ndarray, bits: int) -> np.ndarray:
    rotated: np.ndarray = (values << np.uint32(bits)) | (values >> np.uint32(32 - bits))
    return rotated


def xxh32(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """xxh32 (seed 0) of every slice ``data[start:end]``, as uint32."""
    count = len(starts)
    if count == 0:
        return np.zeros(0, dtype=np.uint32)
    padded = data + b"\0\0\0\0"
    raw = np.frombuffer(padded, dtype=np.uint8)
    # The little-endian uint32 that starts at every byte offset, copied out of an unaligned
    # view: gathering from a contiguous array is several times faster.
    words = np.ndarray((len(data) + 1,), dtype="<u4", buffer=padded, strides=(1,)).copy()
    lengths = np.asarray(ends, dtype=np.int64) - starts
    # Longest first: the slices still in their 16-byte stripes at any step are a prefix, and
    # slices of one length (one tail to hash) are a run.
    order = np.argsort(lengths, kind="stable")[::-1]
    at = np.asarray(starts, dtype=np.int64)[order]
    sizes = lengths[order]
    hashes = np.full(count, _P5, dtype=np.uint32)
    stripes = sizes >> 4
    striped = int(np.count_nonzero(stripes))
    if striped:
        hashes[:striped] = _stripes(words, at[:striped], stripes[:striped])
    hashes += sizes.astype(np.uint32)
    runs = [0, *(np.flatnonzero(sizes[1:] != sizes[:-1]) + 1).tolist(), count]
    for low, high in pairwise(runs):
        tail = int(sizes[low]) & 15
        run = hashes[low:high]
        offsets = at[low:high] + (int(sizes[low]) - tail)
        for _ in range(tail >> 2):
            run[:] = _rotl(run + words[offsets] * _P3, 17) * _P4
            offsets += 4
        for _ in range(tail & 3):
            run[:] = _rotl(run + raw[offsets].astype(np.uint32) * _P5, 11) * _P1
            offsets += 1
    hashes ^= hashes >> np.uint32(15)
    hashes *= _P2
    hashes ^= hashes >> np.uint32(13)
    hashes *= _P3
    hashes ^= hashes >> np.uint32(16)
    unsorted = np.empty_like(hashes)
    unsorted[order] = hashes
    return unsorted


def _stripes(words: np.ndarray, starts: np.ndarray, stripes: np.ndarray) -> np.ndarray:
    # The four accumulators over the 16-byte stripes; stripes come longest first, so the
    # slices still running at stripe k are a prefix.
    count = len(starts)
    lanes = [
        np.full(count, np.uint32((int(_P1) + int(_P2)) & 0xFFFFFFFF), dtype=np.uint32),
        np.full(count, _P2, dtype=np.uint32),
        np.zeros(count, dtype=np.uint32),
        np.full(count, np.uint32(-int(_P1) & 0xFFFFFFFF), dtype=np.uint32),
    ]
    running = np.bincount(stripes)[::-1].cumsum()[::-1]  # running[k]: slices with k stripes or more
    for stripe in range(1, len(running)):
        live = int(running[stripe])
        base = starts[:live] + (stripe - 1) * 16
        for offset, lane in enumerate(lanes):
            lane[:live] = _rotl(lane[:live] + words[base + 4 * offset] * _P2, 13) * _P1
    merged: np.ndarray = (
        _rotl(lanes[0], 1) + _rotl(lanes[1], 7) + _rotl(lanes[2], 12) + _rotl(lanes[3], 18)
    )
    return merged


def shingle_spans(data: bytes, bounds: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shingles of texts laid end to end in ``data``: (starts, ends, first shingle of each).

    Text ``i`` is ``data[bounds[i]:bounds[i + 1]]``, tokens separated by single spaces. A
    text of one to three tokens is one shingle (the whole text), an empty one has none, a
    longer one has a shingle from every token but the last two. ``firsts`` has one more
    entry than there are texts: text ``i``'s shingles are ``firsts[i]:firsts[i + 1]``.
    """
    texts = len(bounds) - 1
    raw = np.frombuffer(data, dtype=np.uint8)
    inside = raw != _SPACE
    limits = np.asarray(bounds, dtype=np.int64)
    nonempty = limits[1:] > limits[:-1]
    # Texts meet without a separator: a text's first byte opens a token, its last closes one.
    after_space = np.ones(len(raw), dtype=bool)
    after_space[1:] = ~inside[:-1]
    after_space[limits[:-1][nonempty]] = True
    before_space = np.ones(len(raw), dtype=bool)
    before_space[:-1] = ~inside[1:]
    before_space[limits[1:][nonempty] - 1] = True
    token_starts = np.flatnonzero(inside & after_space)
    token_ends = np.flatnonzero(inside & before_space) + 1
    token_text = np.searchsorted(limits, token_starts, side="right") - 1
    tokens = np.bincount(token_text, minlength=texts)
    first_token = np.zeros(texts + 1, dtype=np.int64)
    np.cumsum(tokens, out=first_token[1:])
    per_text = np.where(tokens > 0, np.maximum(tokens - (_SHINGLE_SIZE - 1), 1), 0)
    firsts = np.zeros(texts + 1, dtype=np.int64)
    np.cumsum(per_text, out=firsts[1:])
    index = np.arange(len(token_starts))
    local = index - first_token[token_text]
    keep = local < per_text[token_text]
    last = np.minimum(index + (_SHINGLE_SIZE - 1), first_token[token_text + 1] - 1)
    return token_starts[keep], token_ends[last[keep]], firsts


def signatures(hashes: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """The MinHash values of each group of shingle hashes, one row of 128 uint32 per group.

    Group ``i`` is ``hashes[firsts[i]:firsts[i + 1]]``; an empty group gets all 0xFFFFFFFF.
    """
    groups = len(firsts) - 1
    values = np.full((groups, NUM_PERM), _MAX_HASH, dtype=np.uint32)
    mixed = _fmix32(hashes)
    sizes = np.diff(firsts)
    # Permutations down, shingles across: each group's minimum is a reduction over
    # contiguous memory, and one block of whole groups at a time stays in the cache.
    block = np.empty((NUM_PERM, _ROWS_PER_PASS), dtype=np.uint32)
    a, b = _A.reshape(-1, 1), _B.reshape(-1, 1)
    group = 0
    while group < groups:
        end = int(np.searchsorted(firsts, firsts[group] + _ROWS_PER_PASS, side="right")) - 1
        end = min(max(end, group + 1), groups)  # a group longer than a block gets its own
        low, high = int(firsts[group]), int(firsts[end])
        nonempty = np.flatnonzero(sizes[group:end]) + group
        if len(nonempty):
            if high - low <= _ROWS_PER_PASS:
                rows = block[:, : high - low]
                np.multiply(a, mixed[low:high], out=rows)
            else:
                rows = a * mixed[low:high]
            rows += b
            values[nonempty] = np.minimum.reduceat(rows, firsts[nonempty] - low, axis=1).T
        group = end
    return values


def _fmix32(values: np.ndarray) -> np.ndarray:
    # MurmurHash3's finalizer, as datasketch pre-mixes hashes before the affine permutations.
    m1, m2 = _FMIX32
    values = values ^ (values >> np.uint32(16))
    values = values * m1
    values = values ^ (values >> np.uint32(13))
    values = values * m2
    mixed: np.ndarray = values ^ (values >> np.uint32(16))
    return mixed
