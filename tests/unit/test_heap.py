"""The garbage-collector settings the enrich and sink processes start with."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from newsflow.heap import THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_tuning_raises_the_thresholds_and_freezes_what_start_up_made() -> None:
    """After tuning, collections are rarer and the objects alive then are out of them."""
    tune_garbage_collector()
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] > 700  # CPython's default young threshold
    assert gc.get_freeze_count() > 1000


@pytest.mark.usefixtures("restored_gc")
def test_cycles_made_after_tuning_are_still_collected() -> None:
    """Freezing covers what existed at tuning time only: later garbage cycles still go."""
    tune_garbage_collector()

    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    marker = id(first)
    del first, second
    assert gc.collect() >= 2
    assert all(id(o) != marker for o in gc.get_objects() if isinstance(o, Node))
