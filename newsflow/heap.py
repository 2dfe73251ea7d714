"""Garbage-collector and malloc settings for newsflow's processes, which hold large live state.

Enrich keeps a week of dedupe records (and the sink its recent event ids) as many small
objects that live for minutes to days. With CPython's default thresholds (700, 10, 10) a
busy worker runs a young collection every few hundred allocations and a full one, which
walks every tracked object of that state, every few seconds: 1.48 of the 16.7 CPU seconds
of `newsflow enrich` over 10,000 history-spaced text pages, 3.58 of 27 over 10,000
live-spaced ones (`python -m benchmarks.gc_time PAGES --default-gc`). These thresholds
make collections rare (0.08 and 1.44 s there); refcounting still frees everything that is
not in a cycle at once, and the few cycles these services make wait a little longer.
What was imported at start-up is frozen out of collections altogether: it stays for the
life of the process anyway.

glibc's malloc serves blocks of at least its mmap threshold (128 KiB at start) with a
mapping of their own, unmapped when freed, and gives the free top of its heap back to the
system past its trim threshold. Both thresholds move up at run time: freeing a mapped
block raises the mmap threshold to that block's size (up to 32 MiB) and the trim threshold
to twice that. A batch's large transient blocks (numpy's arrays and copies) then come
from the heap, which keeps its free and fragmented pages, so a service's resident size
stayed at the most any batch it had seen needed. `tune_malloc` fixes both thresholds at
`MALLOC_THRESHOLD`, which also stops glibc moving them: large blocks go back to the system
when freed, at the price of mapping them again (page faults, system CPU time).

glibc also gives each thread that allocates an arena of its own (up to eight per core), and
the free, fragmented pages of one arena serve no other. An enrich worker reads its pages in
a worker thread (so that its event loop keeps heartbeating) and keeps what it needs of
them for days: with a second arena its peak over the benchmark's 10,000 history pages was
254 MiB instead of 244, and 272 instead of 260-261 over 100,000. `share_one_arena` keeps
every thread on the main arena; the threads take turns on the GIL, so its lock is seldom
contended.
"""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import Callable
from typing import Final

THRESHOLDS: Final = (50_000, 20, 10)
"""gc.set_threshold arguments: young collections every 50,000 net allocations."""


def tune_garbage_collector() -> None:
    """Apply `THRESHOLDS` and freeze what exists now; call once, after start-up imports."""
    gc.set_threshold(*THRESHOLDS)
    gc.collect()
    gc.freeze()


MALLOC_THRESHOLD: Final = 128 << 10
"""Bytes: blocks this large get a mapping of their own, and at most this much free memory
stays at the top of the heap. glibc's own starting value for both, kept from moving."""

_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
_M_ARENA_MAX: Final = -8
GLIBC_VARIABLES: Final = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
"""glibc's own environment variables for these thresholds: when either is set, it rules."""
ARENA_VARIABLE: Final = "MALLOC_ARENA_MAX"
"""glibc's own environment variable for the number of arenas: when set, it rules."""


def tune_malloc(threshold: int = MALLOC_THRESHOLD) -> bool:
    """Fix glibc malloc's mmap and trim thresholds at `threshold` bytes; True when done.

    Does nothing (False) when the environment sets either threshold, or where the C library
    has no `mallopt` that takes them (musl's is a stub, macOS has none).
    """
    if any(name in os.environ for name in GLIBC_VARIABLES):
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, threshold)
    )


def share_one_arena() -> bool:
    """Make every thread allocate from glibc's main arena; True when done.

    Does nothing (False) when the environment sets `ARENA_VARIABLE`, or without glibc's
    `mallopt` (as `tune_malloc`).
    """
    if ARENA_VARIABLE in os.environ:
        return False
    mallopt = _mallopt()
    return mallopt is not None and bool(mallopt(_M_ARENA_MAX, 1))


def _mallopt() -> Callable[[int, int], int] | None:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    function: Callable[[int, int], int] = mallopt
    return function
