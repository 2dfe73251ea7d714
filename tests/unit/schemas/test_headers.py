"""The sort key of pages.raw records: ingest's acceptance stamp, else the record's timestamp."""

from __future__ import annotations

from schemas.headers import ACCEPTED_NS, accepted_order


def test_the_accepted_stamp_orders_records_before_their_timestamps() -> None:
    """The header decides; partition and offset only break ties."""
    headers = (("content-type", b"application/json"), (ACCEPTED_NS, b"1750000000123456789"))
    assert accepted_order(headers, 0, 4, 9) == (1_750_000_000_123_456_789, 4, 9)


def test_without_a_usable_stamp_the_timestamp_counts_in_nanoseconds() -> None:
    """Records of other producers, or with a malformed header, sort by their timestamp."""
    for headers in ((), ((ACCEPTED_NS, b"soon"),), ((ACCEPTED_NS, b"-5"),)):
        assert accepted_order(headers, 1_750_000_000_123, 1, 2) == (1_750_000_000_123_000_000, 1, 2)
