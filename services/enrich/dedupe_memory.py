"""A ``DedupeStore`` in dicts, for one process (offline runs, tests, single-worker runs).

Band keys are the 16 bytes of each band's rows, sliced from the signature, in one dict per
band (the same candidates as the hex keys the shared stores file under, without building
them). Bands hold members by seq, which is unique among live records: a band key usually
has one member, kept as the bare int; a set only once two articles share it. Ordering a
register answer oldest first is then a sort of plain ints. Records leave the bands when
they are evicted or replaced, so every band member is a live record.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import ne
from typing import Final

import numpy as np

from services.enrich.dedupe_store import (
    WINDOW_ONLY,
    Registration,
    Retention,
    StoredSignature,
    batch_lanes,
    merge_lanes,
    record_stands,
)
from services.enrich.fingerprint import BANDS, ROWS, Fingerprint

_BAND_BYTES: Final = ROWS * 4


def _band_keys(signatures: Sequence[bytes]) -> list[bytes]:
    # Every band's 16 bytes of every signature, as bytes objects made in one C loop.
    joined = b"".join(signatures)
    if len(joined) != len(signatures) * BANDS * _BAND_BYTES:
        raise ValueError(f"signatures must be {BANDS * _BAND_BYTES} bytes long")
    keys: list[bytes] = np.frombuffer(joined, dtype=f"V{_BAND_BYTES}").tolist()
    return keys


class InMemoryDedupeStore:
    """A ``DedupeStore`` in dicts, for one process."""

    def __init__(self) -> None:
        self._seq = 0
        self._lanes: dict[str, datetime] = {}
        """lane -> newest fetched_at registered in it (see ``Retention``)."""
        self._records: dict[str, StoredSignature] = {}
        """event id -> its registration; `signatures` hands these out as they are."""
        self._ids: dict[int, str] = {}
        """seq -> event id of every live record."""
        self._bands: list[dict[bytes, int | set[int]]] = [{} for _ in range(BANDS)]
        self._by_time: list[tuple[datetime, int, str]] = []

    def __len__(self) -> int:
        """How many fingerprints are on record."""
        return len(self._records)

    async def register(
        self,
        fingerprints: Sequence[Fingerprint],
        *,
        window: timedelta,
        retention: Retention = WINDOW_ONLY,
        lanes: Mapping[str, datetime] | None = None,
    ) -> list[Registration]:
        """Register each fingerprint in order (no awaits inside, so each step is atomic)."""
        return self.register_now(fingerprints, window=window, retention=retention, lanes=lanes)

    def register_now(
        self,
        fingerprints: Sequence[Fingerprint],
        *,
        window: timedelta,
        retention: Retention = WINDOW_ONLY,
        lanes: Mapping[str, datetime] | None = None,
    ) -> list[Registration]:
        """`register`, as a plain call (for stores that keep this one as their mirror)."""
        if not fingerprints:
            return []
        self._evict(retention.horizon(self._lanes, window), retention.min_records)
        keys = _band_keys([fingerprint.signature for fingerprint in fingerprints])
        answers = [
            self._register(fingerprint, keys[index * BANDS : (index + 1) * BANDS], window)
            for index, fingerprint in enumerate(fingerprints)
        ]
        merge_lanes(self._lanes, batch_lanes(fingerprints, lanes))
        return answers

    @property
    def seq(self) -> int:
        """The highest seq this store has given or absorbed."""
        return self._seq

    def absorb(self, records: Sequence[tuple[str, StoredSignature]]) -> None:
        """File registrations made elsewhere under their own seqs, replacing older ones.

        Absorbed in seq order, registrations of other processes sharing a file make this
        store a mirror of it (see ``dedupe_sqlite``).
        """
        if not records:
            return
        keys = _band_keys([record.signature for _, record in records])
        held, ids, by_time = self._records, self._ids, self._by_time
        for index, (event_id, record) in enumerate(records):
            old = held.get(event_id)
            if old is not None:
                self._unfile(old)
            held[event_id] = record
            ids[record.seq] = event_id
            heapq.heappush(by_time, (record.fetched_at, record.seq, event_id))
            self._file(record.seq, keys[index * BANDS : (index + 1) * BANDS])
        self._seq = max(self._seq, *(record.seq for _, record in records))

    def advance(self, lanes: Mapping[str, datetime], seq_now: int) -> None:
        """Take the shared lanes and seq counter (they only move forward)."""
        merge_lanes(self._lanes, lanes)
        self._seq = max(self._seq, seq_now)

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The records of those event ids still held."""
        records = self._records
        return {event_id: records[event_id] for event_id in event_ids if event_id in records}

    def _register(
        self, fingerprint: Fingerprint, keys: list[bytes], window: timedelta
    ) -> Registration:
        # The per-band dict calls below go through map(): the loops run in C.
        event_id = fingerprint.event_id
        record = self._records.get(event_id)
        if record is not None:
            if record_stands(record.owner, record.fetched_at, fingerprint, window):
                same = record.owner == fingerprint.owner
                earlier = self._earlier(keys, record.seq) if same else ()
                return Registration(record.owner, record.seq, record.fetched_at, earlier)
            self._unfile(record)
        self._seq += 1
        seq, at = self._seq, fingerprint.fetched_at
        earlier = self._earlier(keys, seq)
        self._records[event_id] = StoredSignature(fingerprint.owner, seq, at, fingerprint.signature)
        self._ids[seq] = event_id
        heapq.heappush(self._by_time, (at, seq, event_id))
        self._file(seq, keys)
        return Registration(fingerprint.owner, seq, at, earlier)

    def _file(self, seq: int, keys: list[bytes]) -> None:
        filed = list(map(dict.setdefault, self._bands, keys, repeat(seq)))
        if filed.count(seq) < BANDS:  # keys other articles have already
            shared = map(ne, filed, repeat(seq))
            for band, key, members in compress(zip(self._bands, keys, filed, strict=True), shared):
                if isinstance(members, set):
                    members.add(seq)
                else:
                    band[key] = {members, seq}

    def _earlier(self, keys: list[bytes], seq: int) -> tuple[tuple[str, int], ...]:
        # Band members below `seq`, oldest first; the loops run in C (map, sorted, bisect).
        found: set[int] = set()
        held: Iterator[int | set[int] | None] = map(dict.get, self._bands, keys)
        for members in held:
            if members is None:
                continue
            if isinstance(members, int):
                found.add(members)
            else:
                found.update(members)
        if not found:
            return ()
        ranked = sorted(found)
        ranked = ranked[: bisect_left(ranked, seq)]
        return tuple(zip(map(self._ids.__getitem__, ranked), ranked, strict=True))

    def _unfile(self, record: StoredSignature, keys: list[bytes] | None = None) -> None:
        # The record's keys are sliced from its signature again rather than kept with it.
        seq, bands = record.seq, self._bands
        if keys is None:
            keys = _band_keys([record.signature])
        del self._ids[seq]
        removed = list(map(dict.pop, bands, keys))
        if removed.count(seq) < BANDS:  # keys shared with other articles go back
            shared = map(ne, removed, repeat(seq))
            for band, key, members in compress(zip(bands, keys, removed, strict=True), shared):
                if isinstance(members, set) and len(members) > 1:
                    members.discard(seq)
                    band[key] = members

    def _evict(self, horizon: datetime | None, min_records: int) -> None:
        # Oldest first, by (fetched_at, seq), while more than min_records stay.
        if horizon is None:
            return
        by_time, records = self._by_time, self._records
        evicted: list[StoredSignature] = []
        while by_time and by_time[0][0] < horizon and len(records) > min_records:
            _, seq, event_id = heapq.heappop(by_time)
            record = records.get(event_id)
            if record is None or record.seq != seq:
                continue  # replaced since; the newer registration has its own heap entry
            del records[event_id]
            evicted.append(record)
        if evicted:
            keys = _band_keys([record.signature for record in evicted])
            for index, record in enumerate(evicted):
                self._unfile(record, keys[index * BANDS : (index + 1) * BANDS])
