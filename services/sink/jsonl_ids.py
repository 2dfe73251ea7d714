"""The event ids the JSONL files hold, in a SQLite file beside them.

The JSONL writer asks it which of a batch's ids some hour file already holds, and tells it
the ids it has appended, after their lines are fsynced. The index is one table keyed by
event id, on disk: a lookup costs a B-tree probe and memory stays at SQLite's page cache
whatever the number of articles, and the answer is the same in every sink process, before
and after a restart. The files stay the truth: what a crash between an append and the
index's commit leaves out, the writer puts back by reading the hour's file (see
``JsonlWriter``).

WAL with ``synchronous=NORMAL``: a killed process loses nothing committed; a power cut may
lose the last commits, which the read-back of the hours written last puts back as well.
Calls block (the writer makes them from its I/O thread), one at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from pathlib import Path

from newsflow.sqlite_in import in_chunks


class WrittenIds:
    """A set of event ids on disk at `path` (created if missing)."""

    def __init__(self, path: Path) -> None:
        # Autocommit mode: transactions are the explicit BEGIN/COMMIT of `add`.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(
                "BEGIN IMMEDIATE;"
                "CREATE TABLE IF NOT EXISTS written (event_id TEXT PRIMARY KEY) WITHOUT ROWID;"
                "CREATE TABLE IF NOT EXISTS built (at TEXT NOT NULL);"
                "COMMIT;"
            )
            (built,) = self._db.execute("SELECT count(*) FROM built").fetchone()
        except sqlite3.Error:
            self._db.close()
            raise
        self.built = bool(built)
        """Whether the index was ever built from the files already there (`mark_built`)."""

    def known(self, event_ids: Collection[str]) -> set[str]:
        """Those of `event_ids` the index holds."""
        found: set[str] = set()
        for marks, chunk in in_chunks(event_ids):
            rows = self._db.execute(
                f"SELECT event_id FROM written WHERE event_id IN ({marks})",  # only placeholders
                chunk,
            )
            found.update(row[0] for row in rows)
        return found

    def add(self, event_ids: Iterable[str]) -> None:
        """Hold these ids too (those held already stay), in one transaction."""
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT OR IGNORE INTO written (event_id) VALUES (?)", ((i,) for i in event_ids)
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def mark_built(self) -> None:
        """Note that every file's ids are in (a new index learns them once, see JsonlWriter)."""
        if not self.built:
            self._db.execute("INSERT INTO built (at) VALUES (datetime('now'))")
            self.built = True

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM written").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database file."""
        self._db.close()
