"""Record headers on newsflow's topics, for consumers that route or measure without parsing.

Values are bytes; the ones below are ASCII. A consumer must not rely on a header being
present: records written by other producers, or before a header existed, lack it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

ACCEPTED_NS: Final = "accepted_ns"
"""On `pages.raw`: when the request that brought the page reached ingest, in nanoseconds since
the epoch, plus the page's index in the request, as decimal digits; strictly increasing
within one ingest process in the order requests arrived, a request's pages in its order.
Enrich handles a batch's pages in this order (see `accepted_order`)."""
PAGE_ID: Final = "page_id"
"""On `articles.events`: the id of the page the event came from."""
INGESTED_AT_MS: Final = "ingested_at_ms"
"""On `articles.events`: when ingest published the event's page (the timestamp of its record on
`pages.raw`), in milliseconds since the epoch, as decimal digits."""


def accepted_order(
    headers: Sequence[tuple[str, bytes]], timestamp_ms: int, partition: int, offset: int
) -> tuple[int, int, int]:
    """A `pages.raw` record's place in the order pages were accepted, as a sort key.

    The `accepted_ns` header when present and well formed, else the record's timestamp;
    partition and offset break ties.
    """
    for name, value in headers:
        if name == ACCEPTED_NS and value.isdigit():
            return int(value), partition, offset
    return timestamp_ms * 1_000_000, partition, offset
