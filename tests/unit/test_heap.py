"""The garbage-collector settings the enrich and sink processes start with."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from newsflow.heap import THRESHOLDS, tune_garbage_collector


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
