"""Errors of the sink writers; the consumer shell reads `retriable` to retry or stop.

    SinkError (retriable = False)     a bug or a setup problem (bad schema name, SQL error)
    ├── SinkUnavailable (retriable = True)
    │                                 the destination cannot be reached or written right now:
    │                                 connection lost, server shutting down, disk full, I/O error,
    │                                 data directory locked by another sink; retry the flush
    └── BadEvent (retriable = False)  the destination refuses an event's data (a NUL character
                                      in a text field, a lone surrogate); the same batch fails
                                      again, so the shell dead-letters or stops

A failed `add` or `flush` keeps the unwritten events pending: retrying `flush()` writes them,
and writes are idempotent by event_id, so a batch partly written before the failure is not
duplicated. A replayed event_id is not an error either: the writer skips it.
"""

from __future__ import annotations


class SinkError(Exception):
    """Root of the sink errors."""

    retriable: bool = False


class SinkUnavailable(SinkError):
    """The destination cannot be reached or written now; the flush is retried."""

    retriable = True


class BadEvent(SinkError):
    """The destination refuses the data of an event in the batch; retrying cannot help."""
