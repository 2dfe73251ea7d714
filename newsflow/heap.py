"""Garbage-collector settings for newsflow's processes, whose heaps hold large live state.

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
"""

from __future__ import annotations

import gc
from typing import Final

THRESHOLDS: Final = (50_000, 20, 10)
"""gc.set_threshold arguments: young collections every 50,000 net allocations."""


def tune_garbage_collector() -> None:
    """Apply `THRESHOLDS` and freeze what exists now; call once, after start-up imports."""
    gc.set_threshold(*THRESHOLDS)
    gc.collect()
    gc.freeze()
