"""`PartitionMerge`: records of several partitions handed out in key order, never past a gap."""

from __future__ import annotations

from newsflow.kafka.merge import PartitionMerge

OWNED = ("a", "b", "c")


def _merge(**partitions: list[int]) -> PartitionMerge[str, int]:
    merge = PartitionMerge[str, int](lambda n: (n,))
    for partition, keys in partitions.items():
        merge.add(partition, keys)
    return merge


def _always(_: str) -> bool:
    return True


def test_records_of_every_partition_come_out_in_key_order() -> None:
    merge = _merge(a=[1, 4, 7], b=[2, 5, 8], c=[3, 6, 9])
    assert merge.take(100, OWNED, _always) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert len(merge) == 0


def test_taking_stops_where_a_partition_with_more_on_the_broker_runs_dry() -> None:
    merge = _merge(a=[1, 4, 7], b=[2, 5, 8], c=[3])
    more_of_c = {"a", "b"}.__contains__  # c is not caught up: its next record may be 4
    assert merge.take(100, OWNED, more_of_c) == [1, 2, 3]
    assert merge.starved(OWNED, more_of_c) == ["c"]
    merge.add("c", [6, 9])
    assert merge.take(100, OWNED, more_of_c) == [4, 5, 6, 7, 8, 9]


def test_nothing_is_taken_while_an_owned_partition_was_not_fetched_from_yet() -> None:
    merge = _merge(a=[5, 6], b=[7])
    waiting_for_c = {"a", "b"}.__contains__
    assert merge.take(100, OWNED, waiting_for_c) == []
    assert merge.starved(OWNED, waiting_for_c) == ["c"]
    # A fetch that brought nothing in time lets the waiting records go, still in key order.
    assert merge.take_any(100, OWNED) == [5, 6, 7]


def test_a_caught_up_partition_with_nothing_waiting_does_not_hold_the_others() -> None:
    merge = _merge(a=[3, 1], b=[2])
    # Within a partition the offset order stands, whatever the keys.
    assert merge.take(100, OWNED, _always) == [2, 3, 1]


def test_limit_and_forget() -> None:
    merge = _merge(a=[1, 3, 5], b=[2, 4, 6])
    assert merge.take(3, OWNED, _always) == [1, 2, 3]
    merge.forget(["b"])  # revoked: its new owner fetches it again
    assert merge.take(3, OWNED, _always) == [5]
    merge.add("c", [9])
    merge.clear()
    assert len(merge) == 0


def test_partitions_no_longer_owned_are_not_handed_out() -> None:
    merge = _merge(a=[1], b=[2], c=[0])
    assert merge.take(100, ("a", "b"), _always) == [1, 2]
