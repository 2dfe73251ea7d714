"""A ``DedupeStore`` in a SQLite file, shared by the worker processes of one machine.

The file holds one row per registered fingerprint (seq, event id, owner, fetched_at,
signature) and the store-wide counters. Each process keeps a mirror of the rows within the
window in an ``InMemoryDedupeStore`` and decides there, so the LSH band index lives in
memory, not in the file (32 band rows per article made inserts the whole cost).

Each ``register`` batch is one ``BEGIN IMMEDIATE`` transaction: SQLite lets one writer in
at a time. Under the lock the mirror first absorbs, in seq order, the rows other processes
wrote since its last batch (one range query on the primary key), takes the shared seq and
newest fetched_at, registers the batch exactly as the in-memory store does, and writes the
rows of the batch's new registrations with one ``executemany``. So every fingerprint's step
is atomic across processes and sees every earlier registration, and the verdicts are those
of one in-memory store fed every batch in commit order. If anything fails, the transaction
is rolled back and the mirror dropped: the next batch rebuilds it from the file.

The newest fetched_at of each lane is a row of its own. Rows below the retention's horizon
(see ``Retention``), beyond its minimum of records, are deleted when the horizon has moved
by a sixteenth of the window and the lateness since the last deletion. Memory per process is that
of the in-memory store for the same span; blocking calls run in a worker thread
(``asyncio.to_thread``), one at a time per store object. Times are integers (microseconds
since the epoch).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar

from newsflow.sqlite_in import in_chunks
from services.enrich.dedupe_memory import InMemoryDedupeStore
from services.enrich.dedupe_store import (
    WINDOW_ONLY,
    RegisterStep,
    Registration,
    Retention,
    StoredSignature,
    batch_lanes,
    from_micros,
    merge_lanes,
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
CREATE TABLE IF NOT EXISTS dedupe_lanes (
    lane TEXT PRIMARY KEY,
    newest INTEGER NOT NULL
) WITHOUT ROWID;
DROP TABLE IF EXISTS dedupe_bands;
DELETE FROM dedupe_meta WHERE name = 'newest';
INSERT OR IGNORE INTO dedupe_meta (name, value) VALUES ('seq', 0), ('evicted', 0);
"""
_R = TypeVar("_R")


class SqliteDedupeStore:
    """Dedupe state in one SQLite file; open with ``await SqliteDedupeStore.open(path)``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = asyncio.Lock()
        self._mirror = InMemoryDedupeStore()

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
        self,
        fingerprints: Sequence[Fingerprint],
        *,
        window: timedelta,
        retention: Retention = WINDOW_ONLY,
        lanes: Mapping[str, datetime] | None = None,
    ) -> list[Registration]:
        """Register the batch in one transaction (see ``services.enrich.dedupe``)."""
        if not fingerprints:
            return []
        mirror = self._mirror
        step = RegisterStep(window, retention, batch_lanes(fingerprints, lanes))
        try:
            return await self._run(lambda: _register(self._db, mirror, fingerprints, step))
        except BaseException:
            # Rolled back (or cancelled mid-way): the mirror may hold what the file does
            # not, so the next batch rebuilds it from the file.
            self._mirror = InMemoryDedupeStore()
            raise

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The records of those event ids, as the mirror held them at the last registration.

        The verdicts then are those of the batch's registration step, whatever other
        processes have written since; an id the mirror lacks (it was dropped after a
        failure) is read from the file.
        """
        if not event_ids:
            return {}
        async with self._lock:
            found = await self._mirror.signatures(event_ids)
        missing = [event_id for event_id in event_ids if event_id not in found]
        if missing:
            found.update(await self._run(lambda: _signatures(self._db, missing)))
        return found

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


_EVICT_EVERY: Final = 16  # delete old rows when the horizon moved by retention / this


def _register(
    db: sqlite3.Connection,
    mirror: InMemoryDedupeStore,
    fingerprints: Sequence[Fingerprint],
    step: RegisterStep,
) -> list[Registration]:
    db.execute("BEGIN IMMEDIATE")
    try:
        answers = _register_locked(db, mirror, fingerprints, step)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return answers


def _register_locked(
    db: sqlite3.Connection,
    mirror: InMemoryDedupeStore,
    fingerprints: Sequence[Fingerprint],
    step: RegisterStep,
) -> list[Registration]:
    meta = dict(db.execute("SELECT name, value FROM dedupe_meta").fetchall())
    lanes = {
        lane: from_micros(newest)
        for lane, newest in db.execute("SELECT lane, newest FROM dedupe_lanes")
    }
    # Every row the mirror lacks: what it forgets depends on how many it holds (min_records).
    rows = db.execute(
        "SELECT seq, event_id, owner, fetched_at, signature FROM dedupe_events"
        " WHERE seq > ? ORDER BY seq",
        (mirror.seq,),
    )
    mirror.absorb(
        [
            (event_id, StoredSignature(owner, seq, from_micros(at), signature))
            for seq, event_id, owner, at, signature in rows
        ]
    )
    mirror.advance(lanes, meta["seq"])
    base = mirror.seq
    answers = mirror.register_now(
        fingerprints, window=step.window, retention=step.retention, lanes=step.lanes
    )
    new_rows: dict[int, tuple[int, str, str, int, bytes]] = {}
    for fingerprint, answer in zip(fingerprints, answers, strict=True):
        if answer.seq > base and answer.owner == fingerprint.owner:
            new_rows[answer.seq] = (
                answer.seq,
                fingerprint.event_id,
                fingerprint.owner,
                to_micros(fingerprint.fetched_at),
                fingerprint.signature,
            )
    # In seq order: an event id registered twice in one batch keeps its later row.
    db.executemany(
        "INSERT OR REPLACE INTO dedupe_events (seq, event_id, owner, fetched_at, signature)"
        " VALUES (?, ?, ?, ?, ?)",
        [new_rows[seq] for seq in sorted(new_rows)],
    )
    db.executemany(
        "INSERT INTO dedupe_lanes (lane, newest) VALUES (?, ?)"
        " ON CONFLICT (lane) DO UPDATE SET newest = max(newest, excluded.newest)",
        [(lane, to_micros(at)) for lane, at in step.lanes.items()],
    )
    merge_lanes(lanes, step.lanes)
    after = step.retention.horizon(lanes, step.window)
    horizon = None if after is None else to_micros(after)
    evicted = meta.get("evicted", 0)
    span = (step.window + step.retention.lateness) // timedelta(microseconds=1)
    if horizon is not None and horizon - evicted >= span // _EVICT_EVERY:
        # As the mirror forgets: below the horizon, oldest first, beyond the minimum kept.
        db.execute(
            "DELETE FROM dedupe_events WHERE fetched_at < ? AND seq IN (SELECT seq FROM"
            " dedupe_events ORDER BY fetched_at DESC, seq DESC LIMIT -1 OFFSET ?)",
            (horizon, step.retention.min_records),
        )
        evicted = horizon
    db.executemany(
        "INSERT OR REPLACE INTO dedupe_meta (name, value) VALUES (?, ?)",
        [("seq", mirror.seq), ("evicted", evicted)],
    )
    return answers


def _signatures(db: sqlite3.Connection, event_ids: list[str]) -> dict[str, StoredSignature]:
    found = {}
    for marks, chunk in in_chunks(event_ids):
        rows = db.execute(
            "SELECT event_id, owner, seq, fetched_at, signature FROM dedupe_events"
            f" WHERE event_id IN ({marks})",
            chunk,
        ).fetchall()
        for event_id, owner, seq, at, signature in rows:
            found[event_id] = StoredSignature(owner, seq, from_micros(at), signature)
    return found
