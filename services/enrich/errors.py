"""Errors of the enrich service.

    EnrichError (retriable = False)
    ├── PageRejected       the page cannot yield articles; carries a DeadLetterReason
    └── DedupeStoreError   the shared dedupe store failed (retriable = True)

A duplicate is not an error: dedupe returns a verdict value.
"""

from __future__ import annotations

from schemas import DeadLetterReason


class EnrichError(Exception):
    """Root of the enrich errors."""

    retriable: bool = False


class PageRejected(EnrichError):
    """The page cannot yield articles; it becomes a dead letter with this reason."""

    def __init__(self, reason: DeadLetterReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class DedupeStoreError(EnrichError):
    """The dedupe store could not be read or written; the batch is retried."""

    retriable = True
