"""Records of several partitions handed out in one order across them: a k-way merge.

Kafka orders records within a partition only. A consumer of several partitions gets them
fetch by fetch, and a fetch that a backlog fills holds one partition's records before the
next one's, so a batch can hold records of one partition that came long after records of
another still waiting on the broker. A `PartitionMerge` keeps what was fetched, partition by
partition, and hands records out smallest key first, and only while every partition either
has a record waiting here or has nothing more on the broker (it is caught up): the next
record of a partition it has not fetched from yet could come before them all. Within a
partition, records keep their offset order whatever their keys.

Pure: the consumer says which partitions it owns and which are caught up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Hashable, Iterable
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)
M = TypeVar("M")

OrderKey = tuple[int, ...]


class PartitionMerge(Generic[P, M]):
    """Fetched records per partition, handed out in `key` order as far as they allow."""

    def __init__(self, key: Callable[[M], OrderKey]) -> None:
        self._key = key
        self._waiting: dict[P, deque[M]] = {}

    def __len__(self) -> int:
        return sum(map(len, self._waiting.values()))

    def add(self, partition: P, records: Iterable[M]) -> None:
        """Records of one partition, in offset order, after those added before."""
        self._waiting.setdefault(partition, deque()).extend(records)

    def forget(self, partitions: Iterable[P]) -> None:
        """Drop what waits for these partitions (revoked: their new owner fetches them again)."""
        for partition in partitions:
            self._waiting.pop(partition, None)

    def clear(self) -> None:
        """Drop everything (the consumer left the group)."""
        self._waiting.clear()

    def starved(self, owned: Collection[P], caught_up: Callable[[P], bool]) -> list[P]:
        """The owned partitions the merge waits for: nothing here and more on the broker."""
        return [p for p in owned if not self._waiting.get(p) and not caught_up(p)]

    def take(self, limit: int, owned: Collection[P], caught_up: Callable[[P], bool]) -> list[M]:
        """Up to `limit` records, smallest key first, while no owned partition is starved.

        A partition is starved when it has nothing waiting here and is not caught up; once
        one is, its next record could come before any waiting one, so taking stops there.
        """
        taken: list[M] = []
        if self.starved(owned, caught_up):
            return taken
        heads = {p: queue for p, queue in self._waiting.items() if queue and p in owned}
        key = self._key
        while heads and len(taken) < limit:
            partition = min(heads, key=lambda p: key(heads[p][0]))
            queue = heads[partition]
            taken.append(queue.popleft())
            if not queue:
                del heads[partition]
                if not caught_up(partition):
                    break
        return taken

    def take_any(self, limit: int, owned: Collection[P]) -> list[M]:
        """Up to `limit` records, smallest key first, starved partitions or not (a fetch
        for them brought nothing in time: better late order than no progress)."""
        return self.take(limit, owned, lambda _: True)
