"""WARC files in the push reading layer: 200 HTML and text responses become raw pages."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsflow.push_sources import ReadOptions, read_paths
from newsflow.push_units import RawUpload, Rejection, Skip
from tests.unit.push.warcs import Response, write_warc

HTML = b"<html><head><title>t</title></head><body><h1>Headline</h1><p>Text.</p></body></html>"


@pytest.mark.parametrize("compressed", [True, False])
def test_html_and_text_responses_become_raw_pages_and_the_rest_is_skipped(
    tmp_path: Path, compressed: bool
) -> None:
    """200 HTML/text responses are uploads with URI, date and host; 404s and images are skipped."""
    name = "crawl.warc.gz" if compressed else "crawl.warc"
    path = write_warc(
        tmp_path / name,
        [
            Response("https://news.example.org/a", HTML),
            Response("https://news.example.org/missing", b"gone", status="404 Not Found"),
            Response("https://cdn.example.org/i.png", b"\x89PNG", content_type="image/png"),
            Response(
                "http://wire.example.com/b.txt",
                "Заголовок\nТекст.".encode("cp1251"),
                content_type="text/plain; charset=windows-1251",
                date="2025-06-21T11:30:00.123456Z",
            ),
        ],
        gzip=compressed,
    )

    items = list(read_paths([path], ReadOptions()))

    uploads = [item for item in items if isinstance(item, RawUpload)]
    skips = [item for item in items if isinstance(item, Skip)]
    assert [(u.url, u.source, u.content_type) for u in uploads] == [
        ("https://news.example.org/a", "news.example.org", "text/html; charset=utf-8"),
        ("http://wire.example.com/b.txt", "wire.example.com", "text/plain; charset=windows-1251"),
    ]
    assert uploads[0].body == HTML
    assert uploads[0].fetched_at == datetime(2025, 6, 21, 10, 0, tzinfo=UTC)
    assert uploads[1].fetched_at == datetime(2025, 6, 21, 11, 30, 0, 123456, tzinfo=UTC)
    assert uploads[1].body.decode("cp1251") == "Заголовок\nТекст."
    assert [s.reason for s in skips] == ["http_status", "not_text"]
    origins = [item.origin for item in uploads] + [item.origin for item in skips]
    assert all(origin.startswith(f"{path}@") for origin in origins)
    assert len(set(origins)) == 4


def test_gzip_encoded_payload_is_decoded_and_meta_charset_read(tmp_path: Path) -> None:
    """A gzip-encoded payload is decompressed; without an HTTP charset the meta one is used."""
    html = '<html><head><meta charset="iso-8859-1"></head><body>Café</body></html>'
    path = write_warc(
        tmp_path / "enc.warc.gz",
        [
            Response(
                "https://news.example.org/c",
                gzip.compress(html.encode("latin-1")),
                content_type="text/html",
                extra_headers=(("Content-Encoding", "gzip"),),
            )
        ],
    )

    (upload,) = list(read_paths([path], ReadOptions()))

    assert isinstance(upload, RawUpload)
    assert upload.body == html.encode("latin-1")
    assert upload.content_type == "text/html; charset=iso-8859-1"


def test_given_source_replaces_the_host_and_a_bad_date_falls_back(tmp_path: Path) -> None:
    """--source replaces the URI host; a bad WARC-Date takes --fetched-at, else is rejected."""
    path = write_warc(
        tmp_path / "d.warc.gz", [Response("https://news.example.org/a", HTML, date="yesterday")]
    )
    fetched = datetime(2025, 6, 22, tzinfo=UTC)

    (with_fallback,) = list(read_paths([path], ReadOptions(source="Daily8", fetched_at=fetched)))
    (without,) = list(read_paths([path], ReadOptions()))

    assert isinstance(with_fallback, RawUpload)
    assert (with_fallback.source, with_fallback.fetched_at) == ("Daily8", fetched)
    assert isinstance(without, Rejection)
    assert without.reason == "invalid_record"


def test_a_payload_over_the_limit_is_rejected_unsent(tmp_path: Path) -> None:
    """A payload over max_page_bytes is rejected as too large; the next record still goes."""
    path = write_warc(
        tmp_path / "big.warc.gz",
        [
            Response("https://news.example.org/big", b"<p>" + b"x" * 300_000 + b"</p>"),
            Response("https://news.example.org/small", HTML),
        ],
    )

    big, small = list(read_paths([path], ReadOptions(max_page_bytes=100_000)))

    assert isinstance(big, Rejection)
    assert big.reason == "too_large"
    assert isinstance(small, RawUpload)
    assert small.url == "https://news.example.org/small"


def test_a_file_that_is_not_a_warc_is_rejected_as_unreadable(tmp_path: Path) -> None:
    """Garbage with a .warc name is one unreadable rejection, not a crash."""
    path = tmp_path / "junk.warc"
    path.write_bytes(b"this is not a web archive\r\n\r\n")

    items = list(read_paths([path], ReadOptions()))

    assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == [
        ("Rejection", "unreadable")
    ]
