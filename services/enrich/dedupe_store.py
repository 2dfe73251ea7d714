"""The values and the protocol of dedupe stores; ``services.enrich.dedupe`` says what they mean.

Kept apart from the verdict logic so that the stores (in memory, SQLite, Redis) and the
``Deduper`` depend on this module, not on each other.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from schemas import DuplicateKind
from services.enrich.fingerprint import Fingerprint

DEFAULT_WINDOW: Final = timedelta(days=7)
DEFAULT_LATENESS: Final = timedelta(days=1)
"""How far behind the newest fetched_at an article may arrive and still meet every record
within the window of it: workers progress through their partitions at different speeds, and
a backfill's pages come in any order."""
DEFAULT_THRESHOLD: Final = 0.6
"""Estimated Jaccard of 3-token shingle sets at or above which an article is a near duplicate.

On the 80-225 word items of the tests, an added update sentence, a trimmed last sentence
or a one-word fix keeps a true Jaccard of 0.82-0.98, while different articles about one
event from one source on one day share 0.04-0.09. With 128 values the estimate's standard
error is at most 0.045. Wrongly calling an article a duplicate loses it downstream, so the
threshold sits nearer the duplicates than the misses."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch, exact (stores keep times as integers)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The UTC datetime of microseconds since the Unix epoch."""
    return _EPOCH + micros * _MICROSECOND


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an article duplicates one seen before, and how."""

    duplicate_of: str | None = None
    """The event id of the earlier article; None for an original."""
    kind: DuplicateKind | None = None
    """Exact or near when duplicate_of is set; None otherwise."""


ORIGINAL: Final = Verdict()


@dataclass(frozen=True, slots=True)
class Registration:
    """What a store's atomic register step answered for one fingerprint."""

    owner: str
    """Owner on record for the fingerprint's event id (the fingerprint's own if it is new)."""
    seq: int
    """Sequence number on record for the event id."""
    fetched_at: datetime
    """fetched_at on record for the event id."""
    earlier: tuple[tuple[str, int], ...]
    """(event id, seq) of band members with a lower seq, oldest first (ascending seq); empty
    when the owner differs. Verdicts name the first similar one, so stores hand them sorted."""


@dataclass(frozen=True, slots=True)
class StoredSignature:
    """A registered fingerprint as a store keeps it."""

    owner: str
    seq: int
    fetched_at: datetime
    signature: bytes


class DedupeStore(Protocol):
    """Shared dedupe state; see the module docstring for the semantics of ``register``."""

    async def register(
        self,
        fingerprints: Sequence[Fingerprint],
        *,
        window: timedelta,
        lateness: timedelta = timedelta(0),
    ) -> list[Registration]:
        """Register each fingerprint in order, each in one atomic step; answer in order.

        Records older than the newest fetched_at of the batches before this one minus
        `window + lateness` are forgotten first.
        """
        ...

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The records of those event ids still held; absent ids are left out."""
        ...


def record_stands(owner: str, fetched_at: datetime, new: Fingerprint, window: timedelta) -> bool:
    """Whether the record of ``new.event_id`` stays; else ``new`` takes its place."""
    return owner == new.owner or fetched_at >= new.fetched_at - window
