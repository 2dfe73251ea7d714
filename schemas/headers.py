"""Record headers on newsflow's topics, for consumers that route or measure without parsing.

Values are bytes; the ones below are ASCII. A consumer must not rely on a header being
present: records written by other producers, or before a header existed, lack it.
"""

from __future__ import annotations

from typing import Final

PAGE_ID: Final = "page_id"
"""On `articles.events`: the id of the page the event came from."""
INGESTED_AT_MS: Final = "ingested_at_ms"
"""On `articles.events`: when ingest published the event's page (the timestamp of its record on
`pages.raw`), in milliseconds since the epoch, as decimal digits."""
