"""A ``DedupeStore`` in a SQLite file, shared by the worker processes of one machine.

Each ``register`` batch is one ``BEGIN IMMEDIATE`` transaction: SQLite lets one writer in
at a time, so the sequence counter, the records and the band rows move together and every
fingerprint's step is atomic across processes. WAL mode keeps readers off the writer's
back. Blocking calls run in a worker thread (``asyncio.to_thread``), one at a time per
store object. Times are integers (microseconds since the epoch).

The write lock is held as briefly as the batch allows, since every other worker waits
for it: band keys are hashed before it is taken; under it, one query reads the records of
all the batch's event ids and one the band members of all its band keys (both lists go
in as one JSON array), the steps run in Python over those answers in batch order, and two
``executemany`` write the new rows. Rows older than the window are left out of every
query at once but deleted only when the horizon has moved by a sixteenth of the window
since the last deletion, so the file holds at most that much more than the window.

Band rows are (63-bit hash of the band key, seq), integers only: against text keys that
halves the file and makes inserts and commits three times faster. A band row whose seq no
longer names a record (the event id was registered again) drops out of the join. They have
no index on fetched_at: keeping one up to date cost a third of every insert, and deleting
through it cost more than the occasional scan that deletes old band rows now.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar

import xxhash

from services.enrich.dedupe import (
    Registration,
    StoredSignature,
    from_micros,
    record_stands,
    to_micros,
)
from services.enrich.errors import DedupeStoreError
from services.enrich.fingerprint import Fingerprint

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS dedupe_meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedupe_events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    fetched_at INTEGER NOT NULL,
    signature BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dedupe_events_fetched_at ON dedupe_events (fetched_at);
CREATE TABLE IF NOT EXISTS dedupe_bands (
    band INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (band, seq)
) WITHOUT ROWID;
DROP INDEX IF EXISTS dedupe_bands_fetched_at;
INSERT OR IGNORE INTO dedupe_meta (name, value) VALUES ('seq', 0), ('newest', 0), ('evicted', 0);
"""
_CHUNK: Final = 500  # bound variables per IN (...) query
_R = TypeVar("_R")


class SqliteDedupeStore:
    """Dedupe state in one SQLite file; open with ``await SqliteDedupeStore.open(path)``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout: float = 30.0) -> Self:
        """Open (creating if needed) the store at ``path``."""
        try:
            connection = await asyncio.to_thread(_connect, str(path), busy_timeout)
        except sqlite3.Error as exc:
            raise DedupeStoreError(f"cannot open the dedupe store {path}: {exc}") from exc
        return cls(connection)

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            await asyncio.to_thread(self._db.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def register(
        self, fingerprints: Sequence[Fingerprint], *, window: timedelta
    ) -> list[Registration]:
        """Register the batch in one transaction (see ``services.enrich.dedupe``)."""
        if not fingerprints:
            return []
        return await self._run(lambda: _register(self._db, fingerprints, window))

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The records of those event ids still held."""
        if not event_ids:
            return {}
        wanted = list(event_ids)
        return await self._run(lambda: _signatures(self._db, wanted))

    async def _run(self, call: Callable[[], _R]) -> _R:
        async with self._lock:
            try:
                return await asyncio.to_thread(call)
            except sqlite3.Error as exc:
                raise DedupeStoreError(f"dedupe store failed: {exc}") from exc


def _connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    # Switching a new file to WAL does not wait on the busy handler: a second process
    # opening the same new file at that moment gets "database is locked" at once, so the
    # whole opening is retried until the busy timeout runs out.
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            return _open_once(path, busy_timeout)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _open_once(path: str, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so the write lock is
    # taken before the first read and two processes cannot interleave a batch.
    db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode loses at most the last commits on power loss; a lost
        # registration is only re-registered when its page is reprocessed.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
    except BaseException:
        db.close()
        raise
    return db


_EVICT_EVERY: Final = 16  # delete old rows when the horizon moved by window / this


def _register(
    db: sqlite3.Connection, fingerprints: Sequence[Fingerprint], window: timedelta
) -> list[Registration]:
    # Hashing the band keys is the CPU part of the step: done before taking the lock, with
    # the lists of wanted keys and ids that the two queries take.
    batch = [(f, to_micros(f.fetched_at), _band_ints(f)) for f in fingerprints]
    wanted = (
        json.dumps(sorted({f.event_id for f in fingerprints})),
        json.dumps(sorted({band for _, _, bands in batch for band in bands})),
    )
    db.execute("BEGIN IMMEDIATE")
    try:
        answers = _register_locked(db, batch, wanted, window)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return answers


def _register_locked(
    db: sqlite3.Connection,
    batch: list[tuple[Fingerprint, int, list[int]]],
    wanted: tuple[str, str],
    window: timedelta,
) -> list[Registration]:
    window_us = window // timedelta(microseconds=1)
    meta = dict(db.execute("SELECT name, value FROM dedupe_meta").fetchall())
    seq: int = meta["seq"]
    newest = max(meta["newest"], *(at for _, at, _ in batch))
    horizon = newest - window_us
    records = _records(db, wanted[0], horizon)
    members, names = _members(db, wanted[1], horizon)
    answers = []
    new_events = []
    new_bands: list[tuple[int, int, int]] = []
    for fingerprint, at_us, bands in batch:
        record = records.get(fingerprint.event_id)
        if record is not None:
            owner, old_seq, at = record[0], record[1], from_micros(record[2])
            if record_stands(owner, at, fingerprint, window):
                same = owner == fingerprint.owner
                earlier = _earlier(members, names, bands, old_seq) if same else ()
                answers.append(Registration(owner, old_seq, at, earlier))
                continue
            names.pop(old_seq, None)  # replaced below: its band rows leave the join
        seq += 1
        records[fingerprint.event_id] = (fingerprint.owner, seq, at_us)
        names[seq] = fingerprint.event_id
        earlier = _earlier(members, names, bands, seq)
        own = set(bands)
        for band in own:
            members.setdefault(band, []).append(seq)
        new_events.append(
            (seq, fingerprint.event_id, fingerprint.owner, at_us, fingerprint.signature)
        )
        new_bands.extend(zip(own, repeat(seq), repeat(at_us)))
        answers.append(Registration(fingerprint.owner, seq, fingerprint.fetched_at, earlier))
    db.executemany(
        "INSERT OR REPLACE INTO dedupe_events (seq, event_id, owner, fetched_at, signature)"
        " VALUES (?, ?, ?, ?, ?)",
        new_events,
    )
    db.executemany(
        "INSERT OR IGNORE INTO dedupe_bands (band, seq, fetched_at) VALUES (?, ?, ?)", new_bands
    )
    evicted = meta.get("evicted", 0)
    if horizon - evicted >= window_us // _EVICT_EVERY:
        db.execute("DELETE FROM dedupe_bands WHERE fetched_at < ?", (horizon,))
        db.execute("DELETE FROM dedupe_events WHERE fetched_at < ?", (horizon,))
        evicted = horizon
    db.executemany(
        "INSERT OR REPLACE INTO dedupe_meta (name, value) VALUES (?, ?)",
        [("seq", seq), ("newest", newest), ("evicted", evicted)],
    )
    return answers


def _records(
    db: sqlite3.Connection, event_ids: str, horizon: int
) -> dict[str, tuple[str, int, int]]:
    # (owner, seq, fetched_at) of the batch's event ids on record within the window.
    rows = db.execute(
        "SELECT event_id, owner, seq, fetched_at FROM dedupe_events"
        " WHERE event_id IN (SELECT value FROM json_each(?)) AND fetched_at >= ?",
        (event_ids, horizon),
    )
    return {event_id: (owner, seq, at) for event_id, owner, seq, at in rows}


def _members(
    db: sqlite3.Connection, bands: str, horizon: int
) -> tuple[dict[int, list[int]], dict[int, str]]:
    # The seqs filed under each of the batch's band keys, and the event id of each seq.
    rows = db.execute(
        "SELECT b.band, b.seq, e.event_id FROM dedupe_bands AS b"
        " JOIN dedupe_events AS e ON e.seq = b.seq"
        " WHERE b.band IN (SELECT value FROM json_each(?)) AND b.fetched_at >= ?",
        (bands, horizon),
    )
    members: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for band, seq, event_id in rows:
        members.setdefault(band, []).append(seq)
        names[seq] = event_id
    return members, names


def _earlier(
    members: dict[int, list[int]], names: dict[int, str], bands: list[int], seq: int
) -> tuple[tuple[str, int], ...]:
    found = {
        member
        for filed in filter(None, map(members.get, bands))
        for member in filed
        if member < seq and member in names
    }
    if not found:
        return ()
    return tuple((names[member], member) for member in sorted(found))


def _band_ints(fingerprint: Fingerprint) -> list[int]:
    # 63 bits fit SQLite's signed integers; a collision only adds a candidate to verify.
    return [xxhash.xxh3_64_intdigest(band.encode()) >> 1 for band in fingerprint.bands]


def _signatures(db: sqlite3.Connection, event_ids: list[str]) -> dict[str, StoredSignature]:
    found = {}
    for start in range(0, len(event_ids), _CHUNK):
        chunk = event_ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            "SELECT event_id, owner, seq, fetched_at, signature FROM dedupe_events"
            f" WHERE event_id IN ({marks})",
            chunk,
        ).fetchall()
        for event_id, owner, seq, at, signature in rows:
            found[event_id] = StoredSignature(owner, seq, from_micros(at), signature)
    return found
