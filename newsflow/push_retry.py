"""When `newsflow push` tries a request again: Retry-After parsing and jittered backoff.

Pure: the current time and the random draw are arguments, so the bounds are testable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRIABLE_STATUSES = frozenset({429, 503})
"""Answers that mean "not now": ingest is overloaded or its broker is unavailable."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait between attempts, and how many retries one request gets."""

    max_retries: int = 8
    """Retries after the first attempt; past them the request is rejected with its last reason."""
    base_s: float = 0.25
    """Backoff ceiling of the first retry; it doubles with every further retry."""
    cap_s: float = 15.0
    """Largest backoff ceiling."""
    max_retry_after_s: float = 60.0
    """Largest Retry-After honoured: a server asking for an hour gets a minute."""
    retry_after_jitter: float = 0.1
    """Share of a Retry-After added at random, so clients told one delay do not return at once."""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; parsedate gives a naive value for "-0000".
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def backoff_delay(retry: int, policy: RetryPolicy, draw: float) -> float:
    """Full-jitter backoff before retry number `retry` (1-based); `draw` is uniform in [0, 1)."""
    ceiling = min(policy.cap_s, policy.base_s * 2.0 ** max(retry - 1, 0))
    return ceiling * draw


def retry_delay(retry: int, retry_after: float | None, policy: RetryPolicy, draw: float) -> float:
    """The wait before retry `retry`: the server's Retry-After (capped, plus jitter) or backoff."""
    if retry_after is None:
        return backoff_delay(retry, policy, draw)
    honoured = min(retry_after, policy.max_retry_after_s)
    return honoured * (1 + policy.retry_after_jitter * draw)
