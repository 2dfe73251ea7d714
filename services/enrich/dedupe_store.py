"""The values and the protocol of dedupe stores; ``services.enrich.dedupe`` says what they mean.

Kept apart from the verdict logic so that the stores (in memory, SQLite, Redis) and the
``Deduper`` depend on this module, not on each other.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from schemas import DuplicateKind
from services.enrich.fingerprint import Fingerprint

DEFAULT_WINDOW: Final = timedelta(days=7)
DEFAULT_LATENESS: Final = timedelta(days=1)
"""How far behind the newest fetched_at of its partition an article may arrive and still meet
every record within the window of it: a backfill's pages come in any order."""
DEFAULT_MAX_SKEW: Final = timedelta(days=7)
"""How far (by fetched_at) the slowest partition may trail the fastest and still keep the
records it may meet: a worker that took a backfill's later partitions first does not make
the others lose the articles they need. Past that, memory wins: the state is bounded by
window + lateness + max skew."""
DEFAULT_MIN_RECORDS: Final = 10_000
"""Records a store keeps whatever their fetched_at (about 3 KB each in memory): below that,
nothing is forgotten, so a few thousand pages get the verdicts of a store that forgets
nothing in any order, and a page dated far ahead of the others does not wipe the state."""
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


SINGLE_LANE: Final = ""
"""The lane of a batch that says none: one ordered stream (offline, tests)."""


@dataclass(frozen=True, slots=True)
class Retention:
    """Which records a store keeps, by fetched_at, besides those within the window.

    Stores track the newest fetched_at of each lane (a partition of the raw topic) over the
    batches registered so far. Before a batch they forget the records fetched more than
    window + lateness before the slowest lane's newest, the slowest counted at most
    ``max_skew`` behind the fastest, oldest first, as long as more than ``min_records``
    remain. A page fetched no more than the lateness before the newest of its own lane, in a
    lane no more than ``max_skew`` behind the others, meets every earlier article within the
    window of it; so does every page while the store holds no more than ``min_records``.
    """

    lateness: timedelta = timedelta(0)
    max_skew: timedelta = timedelta(0)
    min_records: int = 0

    def horizon(self, lanes: Mapping[str, datetime], window: timedelta) -> datetime | None:
        """The fetched_at below which records go; None before anything was registered."""
        if not lanes:
            return None
        newest, slowest = max(lanes.values()), min(lanes.values())
        return max(slowest, newest - self.max_skew) - window - self.lateness

    def span(self, window: timedelta) -> timedelta:
        """The longest fetched_at span a store holds: window + lateness + max skew."""
        return window + self.lateness + self.max_skew


WINDOW_ONLY: Final = Retention()
"""Keep the window behind the newest fetched_at, no more."""


def batch_lanes(
    fingerprints: Sequence[Fingerprint], lanes: Mapping[str, datetime] | None
) -> Mapping[str, datetime]:
    """The lanes a batch moves: the ones given, else one lane at its newest fetched_at."""
    if lanes is not None:
        return lanes
    return {SINGLE_LANE: max(fingerprint.fetched_at for fingerprint in fingerprints)}


@dataclass(frozen=True, slots=True)
class RegisterStep:
    """What one ``register`` call asks for besides its fingerprints (for the stores that
    hand it on to a worker thread or a script)."""

    window: timedelta
    retention: Retention
    lanes: Mapping[str, datetime]
    """The lanes the batch moves (``batch_lanes``)."""


def merge_lanes(held: dict[str, datetime], moved: Mapping[str, datetime]) -> None:
    """Move each lane of ``held`` forward to its time in ``moved`` (lanes never go back)."""
    for lane, newest in moved.items():
        if lane not in held or newest > held[lane]:
            held[lane] = newest


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
        retention: Retention = WINDOW_ONLY,
        lanes: Mapping[str, datetime] | None = None,
    ) -> list[Registration]:
        """Register each fingerprint in order, each in one atomic step; answer in order.

        Records below ``retention.horizon`` of the lanes moved by the batches before this one
        are forgotten first; then ``lanes`` (see ``batch_lanes``) move on.
        """
        ...

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The records of those event ids still held; absent ids are left out."""
        ...


def record_stands(owner: str, fetched_at: datetime, new: Fingerprint, window: timedelta) -> bool:
    """Whether the record of ``new.event_id`` stays; else ``new`` takes its place."""
    return owner == new.owner or fetched_at >= new.fetched_at - window
