"""Errors raised by newsflow's Kafka adapter.

Retry code reads the `retriable` class attribute rather than matching types::

    KafkaAdapterError                 retriable=False
    ├── PublishUnavailable            retriable=True   broker unreachable, send timed out,
    │                                                  or the producer is not started
    ├── PublishRejected               retriable=False  the broker refused a record
    │                                                  (too large, not authorised, ...)
    └── TopicSetupFailed              retriable=False  the broker refused to create a topic
"""

from __future__ import annotations


class KafkaAdapterError(Exception):
    """Root of the adapter's errors."""

    retriable: bool = False


class PublishUnavailable(KafkaAdapterError):
    """The records could not be acknowledged now; the same publish may succeed later."""

    retriable = True


class PublishRejected(KafkaAdapterError):
    """The broker refused a record; sending it again will not help."""

    retriable = False


class TopicSetupFailed(KafkaAdapterError):
    """The broker refused to create a topic newsflow needs."""

    retriable = False
