"""Gzip bodies of zeros that inflate far past ingest's limits, built without holding the zeros."""

from __future__ import annotations

import struct
import zlib

MIB = 1024 * 1024


def gzip_zeros(mebibytes: int) -> bytes:
    """`mebibytes` MiB of zeros as one gzip member of about 1 KiB per MiB.

    A full flush resets the compressor, so every 1 MiB block deflates to the same bytes:
    one block is compressed once and repeated, and the trailer's CRC is computed blockwise.
    """
    block = bytes(MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # magic, deflate, no flags, no mtime
    trailer = struct.pack("<II", crc, (mebibytes * MIB) & 0xFFFFFFFF)
    return header + deflated * mebibytes + compressor.flush(zlib.Z_FINISH) + trailer
