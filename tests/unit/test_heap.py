"""The garbage-collector and malloc settings newsflow's processes start with."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
import weakref
from collections.abc import Iterator

import pytest

from newsflow.heap import (
    ARENA_VARIABLE,
    GLIBC_VARIABLES,
    MALLOC_THRESHOLD,
    THRESHOLDS,
    tune_garbage_collector,
)


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.enable()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_tuning_raises_the_thresholds_and_freezes_what_start_up_made() -> None:
    """After tuning, collections are rarer and the objects alive then are out of them."""
    tune_garbage_collector()
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] > 700  # CPython's default young threshold
    assert gc.get_freeze_count() > 1000


@pytest.mark.usefixtures("restored_gc")
def test_cycles_made_after_tuning_are_collected_without_being_asked() -> None:
    """The collector stays on: past the young threshold, garbage cycles go by themselves."""
    tune_garbage_collector()
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections.append(info["generation"])

    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    gc.callbacks.append(seen)
    try:
        probe = Node()
        probe.other = probe
        alive = weakref.ref(probe)
        del probe
        for _ in range(THRESHOLDS[0]):  # each cycle is one more tracked allocation
            node = Node()
            node.other = node
        del node
    finally:
        gc.callbacks.remove(seen)
    assert collections, "no automatic collection ran"
    assert alive() is None


# Frees a 4 MiB block, then asks for 2 MiB and prints whether glibc mapped it (hblks).
_MAPPED_AFTER_A_FREE = """
import ctypes, sys
from newsflow.heap import tune_malloc

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
libc.mallinfo2.restype = MallInfo2
tuned = tune_malloc() if sys.argv[1] == "tuned" else False
libc.free(libc.malloc(4 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(2 << 20)
print(tuned, libc.mallinfo2().hblks - before)
libc.free(block)
"""

glibc_only = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc malloc's"
)


def _glibc_run(script: str, mode: str, unset: tuple[str, ...], **environ: str) -> tuple[str, int]:
    # Runs `script` in a fresh interpreter without the `unset` variables (plus `environ`);
    # it prints whether it tuned malloc and one count.
    env = {k: v for k, v in os.environ.items() if k not in unset} | environ
    done = subprocess.run(
        [sys.executable, "-c", script, mode],
        capture_output=True, text=True, check=True, env=env, timeout=60,
    )  # fmt: skip
    tuned, count = done.stdout.split()
    return tuned, int(count)


def _mapped_after_a_free(mode: str, **environ: str) -> tuple[str, int]:
    return _glibc_run(_MAPPED_AFTER_A_FREE, mode, GLIBC_VARIABLES, **environ)


@glibc_only
def test_glibc_alone_serves_a_block_from_the_heap_after_freeing_a_larger_mapped_one() -> None:
    """The moving threshold tune_malloc is there to stop: 4 MiB freed, 2 MiB not mapped."""
    assert _mapped_after_a_free("default") == ("False", 0)


@glibc_only
def test_tuned_malloc_still_maps_large_blocks_after_freeing_a_larger_one() -> None:
    """With the thresholds fixed at MALLOC_THRESHOLD, a 2 MiB block gets its own mapping."""
    assert MALLOC_THRESHOLD <= 2 << 20
    assert _mapped_after_a_free("tuned") == ("True", 1)


@glibc_only
def test_glibc_variables_in_the_environment_are_left_to_rule() -> None:
    """An operator's MALLOC_MMAP_THRESHOLD_ wins: tune_malloc does nothing and says so."""
    assert _mapped_after_a_free("tuned", MALLOC_MMAP_THRESHOLD_="8388608") == ("False", 0)


# Allocates and keeps 64 KiB blocks (below the mmap threshold: from an arena) in a second
# thread, then prints how many arenas ("<heap nr=") glibc's malloc_info reports.
_ARENAS_AFTER_A_THREAD = """
import ctypes, re, sys, tempfile, threading
from newsflow.heap import share_one_arena, tune_malloc

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
tune_malloc()
shared = share_one_arena() if sys.argv[1] == "tuned" else False
kept = []
thread = threading.Thread(target=lambda: kept.extend(libc.malloc(64 << 10) for _ in range(16)))
thread.start()
thread.join()
with tempfile.NamedTemporaryFile() as report:
    stream = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(shared, len(re.findall(rb"<heap nr=", report.read())))
"""


def _arenas_after_a_thread(mode: str, **environ: str) -> tuple[str, int]:
    return _glibc_run(_ARENAS_AFTER_A_THREAD, mode, (ARENA_VARIABLE,), **environ)


@glibc_only
def test_glibc_alone_gives_a_thread_an_arena_of_its_own() -> None:
    """What share_one_arena is there to stop: a second thread's blocks in a second arena."""
    assert _arenas_after_a_thread("default") == ("False", 2)


@glibc_only
def test_with_one_arena_shared_a_thread_allocates_from_the_main_one() -> None:
    """After share_one_arena, the thread's blocks come from the main arena: one in all."""
    assert _arenas_after_a_thread("tuned") == ("True", 1)


@glibc_only
def test_an_arena_limit_in_the_environment_is_left_to_rule() -> None:
    """An operator's MALLOC_ARENA_MAX wins: share_one_arena does nothing and says so."""
    assert _arenas_after_a_thread("tuned", MALLOC_ARENA_MAX="4") == ("False", 2)
