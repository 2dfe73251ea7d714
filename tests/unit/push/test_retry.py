"""Retry-After parsing and the jittered backoff of `newsflow push`."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from newsflow.push_retry import RetryPolicy, backoff_delay, parse_retry_after, retry_delay

NOW = datetime(2025, 6, 21, 10, 0, 0, tzinfo=UTC)


def test_delta_seconds_are_read_as_seconds() -> None:
    """A Retry-After of digits is that many seconds."""
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_an_http_date_is_read_relative_to_now() -> None:
    """An HTTP-date Retry-After is the time from now until it; a past date is zero."""
    assert parse_retry_after("Sat, 21 Jun 2025 10:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("Sat, 21 Jun 2025 09:00:00 GMT", NOW) == 0.0


def test_unusable_values_are_none() -> None:
    """A missing, negative, fractional, non-ASCII or garbled Retry-After is ignored (None)."""
    for value in [None, "", "-3", "1.5", "soon", "Sat, 99 Foo 2025", "²", "٣"]:
        assert parse_retry_after(value, NOW) is None, value


@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes_and_never_gives_a_negative_wait(value: str) -> None:
    """Whatever a server sends, the parsed wait is None or a non-negative number."""
    parsed = parse_retry_after(value, NOW)
    assert parsed is None or parsed >= 0


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0, max_value=0.999999))
def test_backoff_stays_within_its_doubling_ceiling_and_the_cap(retry: int, draw: float) -> None:
    """Backoff before retry n lies in [0, min(cap, base * 2**(n-1))]."""
    policy = RetryPolicy(base_s=0.25, cap_s=15.0)
    delay = backoff_delay(retry, policy, draw)
    assert 0 <= delay <= min(15.0, 0.25 * 2.0 ** (retry - 1))


def test_backoff_grows_then_stops_at_the_cap() -> None:
    """With the largest draw the ceilings double from the base up to the cap."""
    policy = RetryPolicy(base_s=0.5, cap_s=3.0)
    assert [backoff_delay(n, policy, 1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@given(st.floats(min_value=0, max_value=10_000), st.floats(min_value=0, max_value=0.999999))
def test_retry_after_is_honoured_capped_and_jittered_upwards(seconds: float, draw: float) -> None:
    """A Retry-After is waited at least in full (up to the cap) and at most 10% longer."""
    policy = RetryPolicy(max_retry_after_s=60.0, retry_after_jitter=0.1)
    honoured = min(seconds, 60.0)
    delay = retry_delay(3, seconds, policy, draw)
    assert honoured <= delay <= honoured * 1.1


def test_without_retry_after_the_backoff_applies() -> None:
    """No Retry-After means the jittered exponential backoff."""
    policy = RetryPolicy(base_s=1.0, cap_s=8.0)
    assert retry_delay(3, None, policy, 0.5) == backoff_delay(3, policy, 0.5) == 2.0
