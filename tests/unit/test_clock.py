"""Stamps: strictly increasing nanoseconds whatever the wall clock does."""

from __future__ import annotations

import time

from newsflow.clock import Stamps


def test_stamps_increase_when_the_clock_repeats_or_steps_back() -> None:
    """A repeated or earlier reading still gives a later stamp; a later one is taken as is."""
    readings = iter([1_000, 1_000, 999, 5_000, 4_000])
    stamps = Stamps(lambda: next(readings))
    assert [stamps() for _ in range(5)] == [1_000, 1_001, 1_002, 5_000, 5_001]


def test_stamps_follow_the_wall_clock() -> None:
    """By default a stamp is the wall clock in nanoseconds since the epoch."""
    before = time.time_ns()
    stamp = Stamps()()
    assert before <= stamp <= time.time_ns()


def test_a_reserved_block_is_passed_by_the_next_stamp() -> None:
    """`reserve(n)` hands out n consecutive stamps; the next one comes after all of them."""
    stamps = Stamps(lambda: 1_000)
    assert stamps.reserve(3) == 1_000
    assert stamps() == 1_003
    assert stamps.reserve(2) == 1_004
    assert stamps() == 1_006
