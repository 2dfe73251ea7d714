"""`IN (...)` lookups in SQLite with a handful of statement shapes.

Python's sqlite3 prepares and caches one statement per distinct SQL text (128 by default).
An `IN` list with one placeholder per value gives one text per list length, each holding
its parameters, so a process that looks up lists of every length fills the cache with
hundreds of large statements. Chunks padded to a power of two with their first value keep
it to about ten shapes; the padding repeats a value, which `IN` ignores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Final

MAX_CHUNK: Final = 512
"""Values per statement, well under SQLite's bound on parameters."""


def in_chunks(values: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """("?,?,...", parameters) per chunk of at most MAX_CHUNK values, padded to a power of two."""
    remaining = iter(values)
    while chunk := list(islice(remaining, MAX_CHUNK)):
        size = 1 << (len(chunk) - 1).bit_length()
        chunk.extend(chunk[:1] * (size - len(chunk)))
        yield ",".join("?" * size), chunk
