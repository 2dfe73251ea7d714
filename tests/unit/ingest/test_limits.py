"""Body and in-flight bounds: capped gzip inflation, streamed size limits, admission counts."""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.errors import Rejected, RejectReason
from services.ingest.limits import Inflater, InFlight, read_body
from tests.unit.ingest.gzip_bomb import MIB, gzip_zeros


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzipped to about 1 MiB."""
    return gzip_zeros(1024)


async def _chunks(pieces: Iterable[bytes], taken: list[int] | None = None) -> AsyncIterator[bytes]:
    for piece in pieces:
        if taken is not None:
            taken.append(len(piece))
        yield piece


def _inflate(inflater: Inflater, chunks: Iterable[bytes]) -> bytes:
    return b"".join(inflater.feed(chunk) for chunk in chunks)


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_inflater_restores_the_body_whatever_the_chunking(data: bytes, size: int) -> None:
    """Inflating gzip fed in chunks of any size gives back exactly the original bytes."""
    inflater = Inflater(limit=len(data))
    out = _inflate(inflater, _split(gzip.compress(data), size))
    inflater.finish()
    assert out == data


def test_the_bomb_helper_builds_valid_gzip() -> None:
    """The test bomb is real gzip: a small one inflates to exactly its zeros."""
    assert gzip.decompress(gzip_zeros(3)) == bytes(3 * MIB)


def test_inflater_reads_concatenated_members() -> None:
    """Two gzip members one after the other inflate to both bodies (RFC 1952)."""
    inflater = Inflater(limit=100)
    out = inflater.feed(gzip.compress(b"first ") + gzip.compress(b"second"))
    inflater.finish()
    assert out == b"first second"


def test_inflater_refuses_one_byte_over_the_limit() -> None:
    """A body inflating to limit+1 bytes is refused with 413; exactly limit bytes is fine."""
    assert Inflater(limit=1000).feed(gzip.compress(bytes(1000))) == bytes(1000)
    with pytest.raises(Rejected) as exc:
        Inflater(limit=1000).feed(gzip.compress(bytes(1001)))
    assert exc.value.reason is RejectReason.TOO_LARGE


def test_a_gzip_bomb_is_refused_quickly_without_inflating_it(gzip_bomb: bytes) -> None:
    """1 GiB of zeros as ~1 MiB of gzip is refused in well under a second, holding ~the limit."""
    assert len(gzip_bomb) < 2 * MIB
    limit = 5 * MIB
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(Rejected) as exc:
        _inflate(Inflater(limit), _split(gzip_bomb, 64 * 1024))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert exc.value.reason is RejectReason.TOO_LARGE
    assert elapsed < 1.0
    assert peak < 3 * limit


def test_corrupt_or_truncated_gzip_is_undecodable() -> None:
    """Bytes that are not gzip, or a stream cut short, are refused with 400 `undecodable`."""
    with pytest.raises(Rejected) as exc:
        Inflater(limit=100).feed(b"this is not gzip")
    assert exc.value.reason is RejectReason.UNDECODABLE
    truncated = Inflater(limit=100_000)
    truncated.feed(gzip.compress(bytes(range(256)) * 100)[:-10])
    with pytest.raises(Rejected) as exc:
        truncated.finish()
    assert exc.value.reason is RejectReason.UNDECODABLE


def test_tickets_take_and_give_back_in_flight_pages_and_bytes() -> None:
    """A ticket holds its pages and bytes until it closes, even when the request failed."""
    gate = InFlight(max_pages=3, max_bytes=100)
    held: list[tuple[int, int]] = []

    def failing_request() -> None:
        with gate.ticket() as ticket:
            ticket.take_bytes(60)
            ticket.take_pages(2)
            held.append((gate.pages, gate.bytes))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert held == [(2, 60)]
    assert (gate.pages, gate.bytes) == (0, 0)


def test_a_ticket_over_the_bound_is_refused_at_once() -> None:
    """Crossing the page or byte bound is a 503 `overloaded`; what was held stays held."""
    gate = InFlight(max_pages=3, max_bytes=100)
    with gate.ticket() as first:
        first.take_pages(2)
        first.take_bytes(90)
        with gate.ticket() as second:
            with pytest.raises(Rejected) as pages:
                second.take_pages(2)
            with pytest.raises(Rejected) as nbytes:
                second.take_bytes(11)
            for exc in (pages, nbytes):
                assert exc.value.reason is RejectReason.OVERLOADED
                assert exc.value.status == 503
            second.take_pages(1)
            second.take_bytes(10)
            assert (gate.pages, gate.bytes) == (3, 100)
        assert (gate.pages, gate.bytes) == (2, 90)
    assert (gate.pages, gate.bytes) == (0, 0)


async def test_read_body_joins_the_chunks_and_counts_wire_bytes() -> None:
    """An identity body comes back whole, with its size held on the ticket while it lives."""
    gate = InFlight(max_pages=1, max_bytes=1000)
    with gate.ticket() as ticket:
        body = await read_body(
            _chunks([b"abc", b"def"]), coding="identity", limit=10, content_length=6, ticket=ticket
        )
        assert (body.data, body.wire_bytes, gate.bytes) == (b"abcdef", 6, 6)


async def test_read_body_inflates_gzip_and_holds_the_inflated_size() -> None:
    """A gzip body is inflated; the ticket holds the inflated size, the wire size is reported."""
    data = b"news " * 1000
    wire = gzip.compress(data)
    gate = InFlight(max_pages=1, max_bytes=10_000)
    with gate.ticket() as ticket:
        body = await read_body(
            _chunks(_split(wire, 100)),
            coding="gzip",
            limit=5000,
            content_length=None,
            ticket=ticket,
        )
        assert (body.data, body.wire_bytes, gate.bytes) == (data, len(wire), len(data))


async def test_a_declared_oversized_body_is_refused_before_reading() -> None:
    """A Content-Length over the limit is a 413 without one chunk of the body read."""
    taken: list[int] = []
    with InFlight(1, 1000).ticket() as ticket, pytest.raises(Rejected) as exc:
        await read_body(
            _chunks([b"x" * 11], taken),
            coding="identity",
            limit=10,
            content_length=11,
            ticket=ticket,
        )
    assert exc.value.reason is RejectReason.TOO_LARGE
    assert taken == []


async def test_a_streamed_oversized_body_is_refused_at_the_crossing_chunk() -> None:
    """Without a Content-Length, reading stops at the chunk that crosses the limit."""
    taken: list[int] = []
    with InFlight(1, 1000).ticket() as ticket, pytest.raises(Rejected) as exc:
        await read_body(
            _chunks([b"x" * 6] * 10, taken),
            coding="identity",
            limit=10,
            content_length=None,
            ticket=ticket,
        )
    assert exc.value.reason is RejectReason.TOO_LARGE
    assert taken == [6, 6]


async def test_a_body_beyond_the_in_flight_bytes_is_overloaded() -> None:
    """A body that fits its own limit but not the bytes left in flight is a 503."""
    gate = InFlight(max_pages=10, max_bytes=100)
    with gate.ticket() as busy, gate.ticket() as ticket:
        busy.take_bytes(95)
        with pytest.raises(Rejected) as exc:
            await read_body(
                _chunks([b"x" * 10]), coding="identity", limit=50, content_length=10, ticket=ticket
            )
    assert exc.value.reason is RejectReason.OVERLOADED
