"""Builds small WARC files for the push tests with warcio's own writer."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass(frozen=True)
class Response:
    """One HTTP response to store as a WARC `response` record."""

    uri: str
    payload: bytes
    content_type: str | None = "text/html; charset=utf-8"
    status: str = "200 OK"
    date: str | None = "2025-06-21T10:00:00Z"
    extra_headers: tuple[tuple[str, str], ...] = ()


def write_warc(path: Path, responses: list[Response], *, gzip: bool = True) -> Path:
    """Write `responses` (each after a matching `request` record) to a WARC at `path`."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "newsflow"}))
        for response in responses:
            headers = [("Content-Length", str(len(response.payload)))]
            if response.content_type is not None:
                headers.append(("Content-Type", response.content_type))
            headers.extend(response.extra_headers)
            warc_headers = {"WARC-Date": response.date} if response.date else {}
            request = writer.create_warc_record(
                response.uri,
                "request",
                http_headers=StatusAndHeaders(
                    "GET / HTTP/1.1", [("Host", "example")], is_http_request=True
                ),
                warc_headers_dict=dict(warc_headers),
            )
            writer.write_record(request)
            record = writer.create_warc_record(
                response.uri,
                "response",
                payload=io.BytesIO(response.payload),
                length=len(response.payload),
                http_headers=StatusAndHeaders(response.status, headers, protocol="HTTP/1.1"),
                warc_headers_dict=dict(warc_headers),
            )
            writer.write_record(record)
    return path
