"""Bounds on what ingest holds: body size as it streams in, gzip output, pages and bytes in flight.

Nothing here queues: a body over its limit is refused (413) as soon as the byte that crosses
it arrives or is inflated, and a request that would push the in-flight totals over their
bounds is refused (503) at once rather than made to wait.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from services.ingest.errors import Rejected, RejectReason

_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _too_large(limit: int) -> Rejected:
    return Rejected(RejectReason.TOO_LARGE, f"the body is larger than {limit} bytes")


class Inflater:
    """Incremental gzip decoder that refuses output past `limit` bytes without producing it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._zlib = zlib.decompressobj(_GZIP_WBITS)

    def feed(self, data: bytes) -> bytes:
        """Inflate the next piece of the stream; raises `Rejected` (413) past the limit."""
        out: list[bytes] = []
        try:
            while data:
                if self._zlib.eof:
                    # RFC 1952 lets members follow one another; each needs a fresh decoder.
                    self._zlib = zlib.decompressobj(_GZIP_WBITS)
                # One byte over the limit is enough to know; never inflate further than that.
                chunk = self._zlib.decompress(data, self._limit - self._size + 1)
                self._size += len(chunk)
                if self._size > self._limit:
                    raise _too_large(self._limit)
                out.append(chunk)
                data = self._zlib.unused_data if self._zlib.eof else self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise Rejected(RejectReason.UNDECODABLE, f"the body is not valid gzip: {exc}") from exc
        return b"".join(out)

    def finish(self) -> None:
        """Check the stream ended on a member boundary; a truncated body is refused (400)."""
        if not self._zlib.eof:
            raise Rejected(RejectReason.UNDECODABLE, "the gzip body is truncated")


class InFlight:
    """Counts of pages and body bytes held by requests that have not been answered yet."""

    def __init__(self, max_pages: int, max_bytes: int) -> None:
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.pages = 0
        self.bytes = 0

    def ticket(self) -> Ticket:
        """A per-request account that gives back everything it took when the request ends."""
        return Ticket(self)


class Ticket:
    """One request's share of the in-flight bounds; a context manager releasing it on exit."""

    def __init__(self, gate: InFlight) -> None:
        self._gate = gate
        self.pages = 0
        self.bytes = 0

    def take_bytes(self, count: int) -> None:
        """Hold `count` more body bytes, or refuse the request (503) if that crosses the bound."""
        if self._gate.bytes + count > self._gate.max_bytes:
            raise Rejected(RejectReason.OVERLOADED, "too many bytes in flight; retry later")
        self._gate.bytes += count
        self.bytes += count

    def take_pages(self, count: int) -> None:
        """Hold `count` pages until they are acknowledged, or refuse the request (503)."""
        if self._gate.pages + count > self._gate.max_pages:
            raise Rejected(
                RejectReason.OVERLOADED, "too many pages in flight; retry later", pages=count
            )
        self._gate.pages += count
        self.pages += count

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._gate.pages -= self.pages
        self._gate.bytes -= self.bytes
        self.pages = self.bytes = 0


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as read: the (inflated) bytes and how many bytes came over the wire."""

    data: bytes
    wire_bytes: int


async def read_body(
    chunks: AsyncIterable[bytes],
    *,
    coding: str,
    limit: int,
    content_length: int | None,
    ticket: Ticket,
) -> Body:
    """Read a body up to `limit` bytes (after inflating gzip), holding its bytes on `ticket`."""
    # Incompressible data grows a little under gzip: stored blocks add 5 bytes per 64 KiB.
    wire_limit = limit if coding == "identity" else limit + limit // 8192 + 1024
    if content_length is not None and content_length > wire_limit:
        raise _too_large(limit)
    inflater = Inflater(limit) if coding == "gzip" else None
    parts: list[bytes] = []
    wire = 0
    async for chunk in chunks:
        wire += len(chunk)
        if wire > wire_limit:
            raise _too_large(limit)
        data = inflater.feed(chunk) if inflater is not None else chunk
        ticket.take_bytes(len(data))
        parts.append(data)
    if inflater is not None and wire:
        inflater.finish()
    return Body(b"".join(parts), wire)
