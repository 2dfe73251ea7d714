"""Duplicate verdicts for fingerprinted articles, over a store several workers can share.

A ``DedupeStore`` registers fingerprints in one atomic step each. The step gives a new
fingerprint the next number of one store-wide counter (``seq``), records it
(event id -> owner, seq, fetched_at, signature), files it under its LSH band keys and
answers with the band members registered before it (lower seq). ``Deduper`` turns that
answer into a ``Verdict``, a pure function of it:

* the event id is on record for a different owner, fetched within the window
  -> an exact duplicate of that event id (it is not filed in the bands);
* the event id is on record for the same owner (the same page and position processed
  again, e.g. after a crash) -> its first seq is reused and the verdict recomputed,
  so it comes out the same as the first time, never a duplicate of itself;
* otherwise -> a near duplicate of the lowest-seq earlier candidate whose signature
  estimates Jaccard >= threshold and whose fetched_at is within the window; else original.

Only earlier registrations are candidates, so two workers can never mark two articles as
duplicates of each other, whatever the timing. A record whose fetched_at is more than the
window older than a new fingerprint with the same event id gives way to it (the article is
original again).

Before each batch, stores forget what is older than the window and a lateness (default a
day) before the newest fetched_at of the batches before it, so their size is bounded by the
window, not by the input. Workers say which lane (partition) each batch's pages come from,
and the newest that counts is the slowest lane's, taken at most a maximum skew (default a
week) behind the fastest (``Retention``). A page fetched no more than the lateness before
the newest of its own lane therefore meets every article within the window of it: pages in
fetched_at order get the verdicts of a store that forgets nothing, however they are batched
(the offline command, one worker), and so do workers that went through a backfill's
partitions at different speeds, up to the maximum skew. Stores forget only while they hold
more than a minimum of records (default 10,000), so a few thousand pages are judged against
everything before them within the window, whatever their order.

A fingerprint whose record gives way (above) takes the record's place at once, and an article
registered before it in the same call would no longer meet the old record as a candidate
(``_candidates`` checks the seq), while with the copy in a later batch it would. So ``judge``
looks the batch's event ids up first and registers and decides it in runs that end before
each such copy: verdicts do not depend on how pages are batched. A batch handled again after
a crash between such a copy's registration and the commit is not split the same way (the
copy is then on record as itself), and an article before it in that batch can then come out
original where it came out a near duplicate the first time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Final

import numpy as np

from schemas import DuplicateKind
from services.enrich.dedupe_memory import InMemoryDedupeStore
from services.enrich.dedupe_store import (
    DEFAULT_LATENESS,
    DEFAULT_MAX_SKEW,
    DEFAULT_MIN_RECORDS,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    ORIGINAL,
    DedupeStore,
    Registration,
    Retention,
    StoredSignature,
    Verdict,
    from_micros,
    record_stands,
    to_micros,
)
from services.enrich.fingerprint import Fingerprint, estimate_jaccard

__all__ = [
    "DEFAULT_LATENESS",
    "DEFAULT_MAX_SKEW",
    "DEFAULT_MIN_RECORDS",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "ORIGINAL",
    "DedupeStore",
    "Deduper",
    "InMemoryDedupeStore",
    "Registration",
    "Retention",
    "StoredSignature",
    "Verdict",
    "decide",
    "from_micros",
    "record_stands",
    "to_micros",
]


def decide(
    fingerprint: Fingerprint,
    registration: Registration,
    stored: dict[str, StoredSignature],
    *,
    window: timedelta,
    threshold: float,
) -> Verdict:
    """The verdict for one registered fingerprint (see the module docstring)."""
    if registration.owner != fingerprint.owner:
        if abs(fingerprint.fetched_at - registration.fetched_at) <= window:
            return Verdict(fingerprint.event_id, DuplicateKind.EXACT)
        return ORIGINAL  # on record for a much later article: not within the window
    earlier = registration.earlier
    for event_id, signature in _candidates(fingerprint, registration.seq, earlier, stored, window):
        if estimate_jaccard(fingerprint.signature, signature) >= threshold:
            return Verdict(event_id, DuplicateKind.NEAR)
    return ORIGINAL


class Deduper:
    """Judges batches of fingerprints against a shared store."""

    def __init__(
        self,
        store: DedupeStore,
        *,
        window: timedelta = DEFAULT_WINDOW,
        threshold: float = DEFAULT_THRESHOLD,
        lateness: timedelta = DEFAULT_LATENESS,
        max_skew: timedelta = DEFAULT_MAX_SKEW,
        min_records: int = DEFAULT_MIN_RECORDS,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if lateness < timedelta(0) or max_skew < timedelta(0):
            raise ValueError("lateness and max skew must not be negative")
        if min_records < 0:
            raise ValueError("min_records must not be negative")
        self._store = store
        self._window = window
        self._threshold = threshold
        self._retention = Retention(lateness, max_skew, min_records)

    async def judge(
        self, fingerprints: Sequence[Fingerprint], lanes: Mapping[str, datetime] | None = None
    ) -> list[Verdict]:
        """Verdicts in order; articles of one batch may duplicate earlier ones of it.

        ``lanes``: the newest fetched_at of the batch's pages in each lane (partition) they
        come from; None for one ordered stream.

        Candidates are compared oldest first, a slice at a time (`_slices`): signatures are
        fetched only for the slice, and an article leaves the loop at its first similar
        candidate, so a duplicate of a story seen hundreds of times is usually decided by
        its first few comparisons; an article like none of its candidates still meets them
        all. Raises DedupeStoreError (retriable) when the store fails; judging the batch
        again gives the same verdicts (one rare exception: see the module docstring).
        """
        if not fingerprints:
            return []
        verdicts: list[Verdict] = []
        start = 0
        for stop in [*await self._replacing(fingerprints), len(fingerprints)]:
            verdicts.extend(await self._judge_run(fingerprints[start:stop], lanes))
            start = stop
        return verdicts

    async def _replacing(self, fingerprints: Sequence[Fingerprint]) -> list[int]:
        # The positions (past the first) of fingerprints whose record gives way: an exact
        # copy fetched more than the window after the one on record. The batch is judged in
        # runs that end before each, so that the articles before it still meet the old
        # record as a candidate, as they would with the copy in a later batch.
        held = await self._store.signatures({fingerprint.event_id for fingerprint in fingerprints})
        records = {event_id: (r.owner, r.fetched_at) for event_id, r in held.items()}
        cuts: list[int] = []
        for index, fingerprint in enumerate(fingerprints):
            record = records.get(fingerprint.event_id)
            if record is None or not record_stands(*record, fingerprint, self._window):
                if record is not None and index > 0:
                    cuts.append(index)
                records[fingerprint.event_id] = (fingerprint.owner, fingerprint.fetched_at)
        return cuts

    async def _judge_run(
        self, fingerprints: Sequence[Fingerprint], lanes: Mapping[str, datetime] | None
    ) -> list[Verdict]:
        registrations = await self._store.register(
            fingerprints, window=self._window, retention=self._retention, lanes=lanes
        )
        verdicts, pending = _open_verdicts(
            fingerprints, registrations, window=self._window, threshold=self._threshold
        )
        for start, stop in _slices():
            if not pending:
                break
            wanted = {event_id for _, earlier in pending for event_id, _ in earlier[start:stop]}
            stored = await self._store.signatures(wanted)
            pending = _decide_slice(
                fingerprints, registrations, pending, (start, stop), stored=stored,
                verdicts=verdicts, window=self._window, threshold=self._threshold,
            )  # fmt: skip
        return verdicts


_FIRST_SLICE: Final = 4
"""Candidates compared in the first round: a near duplicate is nearly always one of the
oldest members of its bands (the story's first sighting)."""
_SLICE_GROWTH: Final = 4

_SIGNATURE: Final = itemgetter(1)

_Pending = list[tuple[int, Sequence[tuple[str, int]]]]
"""(fingerprint index, its earlier band members oldest first) still without a verdict."""


def _slices() -> Iterator[tuple[int, int]]:
    # [0, 4), [4, 20), [20, 84), ... : few rounds however long the candidate lists.
    start, size = 0, _FIRST_SLICE
    while True:
        yield start, start + size
        start, size = start + size, size * _SLICE_GROWTH


def _open_verdicts(
    fingerprints: Sequence[Fingerprint],
    registrations: Sequence[Registration],
    *,
    window: timedelta,
    threshold: float,
) -> tuple[list[Verdict], _Pending]:
    # The verdicts that need no signature, and the fingerprints that have candidates.
    verdicts: list[Verdict] = []
    pending: _Pending = []
    for index, (fingerprint, registration) in enumerate(
        zip(fingerprints, registrations, strict=True)
    ):
        if registration.owner != fingerprint.owner or not registration.earlier:
            verdicts.append(
                decide(fingerprint, registration, {}, window=window, threshold=threshold)
            )
            continue
        verdicts.append(ORIGINAL)
        pending.append((index, registration.earlier))
    return verdicts, pending


def _decide_slice(
    fingerprints: Sequence[Fingerprint],
    registrations: Sequence[Registration],
    pending: _Pending,
    bounds: tuple[int, int],
    *,
    stored: dict[str, StoredSignature],
    verdicts: list[Verdict],
    window: timedelta,
    threshold: float,
) -> _Pending:
    # Compare each pending fingerprint with its candidates in earlier[start:stop]; the first
    # similar one (oldest first) is its verdict. Returns those still pending after the slice.
    start, stop = bounds
    rows: list[int] = []  # per pair, in decide's order: the fingerprint's index
    pairs: list[tuple[str, bytes]] = []  # and the candidate's event id and signature
    for index, earlier in pending:
        found = _candidates(
            fingerprints[index], registrations[index].seq, earlier[start:stop], stored, window
        )
        rows.extend(repeat(index, len(found)))
        pairs.extend(found)
    decided: set[int] = set()
    if pairs:
        similar = _similar(fingerprints, rows, list(map(_SIGNATURE, pairs)), threshold)
        for pair in similar:  # ascending: a fingerprint's first hit is its oldest similar
            index = rows[pair]
            if index not in decided:
                decided.add(index)
                verdicts[index] = Verdict(pairs[pair][0], DuplicateKind.NEAR)
    return [
        (index, earlier)
        for index, earlier in pending
        if index not in decided and len(earlier) > stop
    ]


def _candidates(
    fingerprint: Fingerprint,
    seq_now: int,
    earlier: Sequence[tuple[str, int]],
    stored: dict[str, StoredSignature],
    window: timedelta,
) -> list[tuple[str, bytes]]:
    # The members of `earlier` (oldest first) a near-duplicate verdict may name, in order,
    # with their signatures:
    # still on record under that seq (not re-registered since the register step), earlier
    # than this article, of another slot (an earlier version of the same slot, after the
    # splitter changed, is no duplicate) and fetched within the window of it.
    owner, at = fingerprint.owner, fingerprint.fetched_at
    lowest, highest = at - window, at + window
    get = stored.get
    return [
        (event_id, candidate.signature)
        for event_id, seq in earlier
        if (candidate := get(event_id)) is not None
        and candidate.seq == seq < seq_now
        and candidate.owner != owner
        and lowest <= candidate.fetched_at <= highest
    ]


def _similar(
    fingerprints: Sequence[Fingerprint], rows: list[int], theirs: list[bytes], threshold: float
) -> list[int]:
    # The pairs (fingerprints[rows[i]], theirs[i]) whose estimate_jaccard >= threshold, as
    # ascending positions i. Each fingerprint's signature is read once, not once per pair.
    mine = [fingerprint.signature for fingerprint in fingerprints]
    size = len(mine[0])
    if len({size, *map(len, mine), *map(len, theirs)}) != 1:
        return [
            i
            for i, (row, other) in enumerate(zip(rows, theirs, strict=True))
            if estimate_jaccard(mine[row], other) >= threshold
        ]
    left = np.frombuffer(b"".join(mine), dtype="<u4").reshape(len(mine), -1)
    right = np.frombuffer(b"".join(theirs), dtype="<u4").reshape(len(theirs), -1)
    equal = np.count_nonzero(left[rows] == right, axis=1)
    hits: list[int] = np.flatnonzero(equal / left.shape[1] >= threshold).tolist()
    return hits
