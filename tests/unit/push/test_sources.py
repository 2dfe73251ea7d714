"""The push reading layer: files and directories in, uploads, rejections and skips out."""

from __future__ import annotations

import codecs
import gzip
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.page_head import choose_charset, scan_head
from newsflow.push_sources import ReadOptions, check_page_json, read_paths, walk
from newsflow.push_units import BatchUpload, JsonLine, RawUpload, Rejection, Skip
from schemas import RawPage

FETCHED = datetime(2025, 6, 21, 18, 0, tzinfo=UTC)


def _page(n: int, **extra: object) -> dict[str, object]:
    return {
        "source": "Daily8",
        "fetched_at": "2025-06-21T18:00:00+00:00",
        "body": f"Headline {n}\nText of article {n}.",
        **extra,
    }


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _batches(items: Sequence[object]) -> list[BatchUpload]:
    return [item for item in items if isinstance(item, BatchUpload)]


def test_jsonl_lines_are_grouped_into_batches_of_the_given_size(tmp_path: Path) -> None:
    """Seven valid NDJSON pages with batch size 3 give batches of 3, 3 and 1 in line order."""
    path = _jsonl(tmp_path / "pages.jsonl", [json.dumps(_page(n)) for n in range(7)])

    items = list(read_paths([path], ReadOptions(batch_size=3)))

    batches = _batches(items)
    assert [len(b.lines) for b in batches] == [3, 3, 1]
    origins = [line.origin for b in batches for line in b.lines]
    assert origins == [f"{path}:{n}" for n in range(1, 8)]
    first = batches[0].lines[0]
    assert first.page_id == RawPage.model_validate(_page(0)).page_id
    assert batches[0].body().count(b"\n") == 3


def test_malformed_and_invalid_lines_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    """Broken lines and contract violations are rejected at file:line; the other lines still go."""
    path = _jsonl(
        tmp_path / "mixed.ndjson",
        [
            json.dumps(_page(1)),
            '{"source": "Daily8", "body": ',
            "",
            json.dumps(_page(2, fetched_at="2025-06-21T18:00:00")),
            "[1, 2]",
            json.dumps(_page(3)),
        ],
    )

    items = list(read_paths([path], ReadOptions()))

    rejections = [item for item in items if isinstance(item, Rejection)]
    assert [(r.origin, r.reason) for r in rejections] == [
        (f"{path}:2", "malformed_json"),
        (f"{path}:4", "invalid_page"),
        (f"{path}:5", "malformed_json"),
    ]
    assert "fetched_at" in rejections[1].detail
    sent = [line.origin for b in _batches(items) for line in b.lines]
    assert sent == [f"{path}:1", f"{path}:6"]


def test_gzipped_jsonl_and_a_bom_are_read(tmp_path: Path) -> None:
    """A gzipped NDJSON file whose first line starts with a UTF-8 BOM yields every page."""
    path = tmp_path / "pages.jsonl.gz"
    data = "\ufeff" + "".join(json.dumps(_page(n)) + "\r\n" for n in range(3))
    path.write_bytes(gzip.compress(data.encode("utf-8")))

    items = list(read_paths([path], ReadOptions()))

    assert [len(b.lines) for b in _batches(items)] == [3]
    assert not [item for item in items if isinstance(item, Rejection)]


def test_an_overlong_line_is_rejected_and_the_next_line_still_read(tmp_path: Path) -> None:
    """A line over the page limit is rejected as too large, and reading resumes after it."""
    huge = json.dumps(_page(1, body="x" * 5000))
    path = _jsonl(tmp_path / "big.jsonl", [huge, json.dumps(_page(2))])

    items = list(read_paths([path], ReadOptions(max_page_bytes=1024)))

    assert [(i.origin, i.reason) for i in items if isinstance(i, Rejection)] == [
        (f"{path}:1", "too_large")
    ]
    assert [line.origin for b in _batches(items) for line in b.lines] == [f"{path}:2"]


def test_json_files_are_compacted_and_batched_with_other_json_pages(tmp_path: Path) -> None:
    """A pretty-printed .json page becomes one compact line, batched across files."""
    (tmp_path / "a.json").write_text(json.dumps(_page(1), indent=2), encoding="utf-8")
    (tmp_path / "b.json").write_text("{not json", encoding="utf-8")
    _jsonl(tmp_path / "c.jsonl", [json.dumps(_page(3))])

    items = list(read_paths([tmp_path], ReadOptions()))

    batches = _batches(items)
    assert len(batches) == 1
    assert [line.origin for line in batches[0].lines] == [
        str(tmp_path / "a.json"),
        f"{tmp_path / 'c.jsonl'}:1",
    ]
    assert b"\n" not in batches[0].lines[0].data
    assert RawPage.model_validate_json(batches[0].lines[0].data) == RawPage.model_validate(_page(1))
    assert [(i.origin, i.reason) for i in items if isinstance(i, Rejection)] == [
        (str(tmp_path / "b.json"), "malformed_json")
    ]


def test_html_envelope_comes_from_the_canonical_link(tmp_path: Path) -> None:
    """An HTML file's canonical link gives its URL and (by host) source; mtime the fetch time."""
    site = tmp_path / "crawl"
    site.mkdir()
    path = site / "page.html"
    path.write_text(
        '<html><head><meta charset="utf-8">'
        '<link rel="canonical" href="https://news.example.org/2025/06/21/story">'
        '<meta property="og:url" content="https://other.example.com/x"></head>'
        "<body><h1>Überschrift</h1></body></html>",
        encoding="utf-8",
    )
    mtime = datetime(2025, 6, 20, 8, 30, tzinfo=UTC)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))

    (upload,) = list(read_paths([path], ReadOptions()))

    assert isinstance(upload, RawUpload)
    assert upload.url == "https://news.example.org/2025/06/21/story"
    assert upload.source == "news.example.org"
    assert upload.fetched_at == mtime
    assert upload.content_type == "text/html; charset=utf-8"
    assert upload.headers()[b"X-Fetched-At"] == b"2025-06-20T08:30:00Z"
    assert upload.headers()[b"X-Url"] == b"https://news.example.org/2025/06/21/story"


def test_html_falls_back_to_og_url_then_to_the_directory_name(tmp_path: Path) -> None:
    """Without a canonical link og:url names the page; without either, the directory does."""
    site = tmp_path / "Вечерний"
    site.mkdir()
    (site / "a.htm").write_text(
        '<head><meta property="og:url" content="http://www.example.net/a"></head><body>x</body>',
        encoding="utf-8",
    )
    (site / "b.html").write_text(
        '<head><link rel="canonical" href="/relative/only"></head><body>y</body>', encoding="utf-8"
    )

    a, b = list(read_paths([site], ReadOptions()))

    assert isinstance(a, RawUpload)
    assert isinstance(b, RawUpload)
    assert (a.url, a.source) == ("http://www.example.net/a", "www.example.net")
    assert (b.url, b.source) == (None, "Вечерний")
    assert b.headers()[b"X-Source"] == "Вечерний".encode()
    assert b"X-Url" not in b.headers()


def test_given_source_and_fetched_at_override_inference(tmp_path: Path) -> None:
    """--source and --fetched-at replace the inferred source and the mtime of raw files."""
    (tmp_path / "a.html").write_text(
        '<link rel="canonical" href="https://news.example.org/a"><p>x</p>', encoding="utf-8"
    )
    (tmp_path / "b.txt").write_text("Plain headline\nPlain text.", encoding="utf-8")
    fetched = datetime(2025, 6, 21, 20, 0, tzinfo=timezone(timedelta(hours=2)))

    a, b = list(read_paths([tmp_path], ReadOptions(source="Daily8", fetched_at=fetched)))

    assert isinstance(a, RawUpload)
    assert isinstance(b, RawUpload)
    assert (a.source, a.url, a.fetched_at) == ("Daily8", "https://news.example.org/a", fetched)
    assert (b.source, b.url, b.content_type) == ("Daily8", None, "text/plain; charset=utf-8")
    assert b.headers()[b"X-Fetched-At"] == b"2025-06-21T18:00:00Z"


def test_charsets_follow_the_declaration_else_utf8_else_windows_1252(tmp_path: Path) -> None:
    """A meta charset is sent as declared; undeclared non-UTF-8 text goes as windows-1252."""
    (tmp_path / "a.html").write_bytes(
        '<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R"><p>Привет</p>'.encode(
            "koi8_r"
        )
    )
    (tmp_path / "b.txt").write_bytes("Café déjà vu".encode("cp1252"))

    a, b = list(read_paths([tmp_path], ReadOptions()))

    assert isinstance(a, RawUpload)
    assert isinstance(b, RawUpload)
    assert a.content_type == "text/html; charset=koi8-r"
    assert b.content_type == "text/plain; charset=windows-1252"


def test_an_html_file_in_utf8_goes_as_utf8_whatever_its_meta_says(tmp_path: Path) -> None:
    """A file re-encoded to UTF-8 that kept its old <meta charset> is sent as UTF-8."""
    (tmp_path / "a.html").write_text('<meta charset="windows-1251"><p>Привет</p>', "utf-8")
    [upload] = list(read_paths([tmp_path], ReadOptions()))
    assert isinstance(upload, RawUpload)
    assert upload.content_type == "text/html; charset=utf-8"


def test_unsupported_empty_and_missing_inputs_are_counted_not_sent(tmp_path: Path) -> None:
    """Unknown extensions and empty files are skipped; a missing path is rejected as unreadable."""
    (tmp_path / "notes.md").write_text("# not a page", encoding="utf-8")
    (tmp_path / "empty.html").write_text("  \n", encoding="utf-8")
    missing = tmp_path / "nope.jsonl"

    items = list(read_paths([tmp_path, missing], ReadOptions()))

    assert items == [
        Skip(str(tmp_path / "empty.html"), "empty"),
        Skip(str(tmp_path / "notes.md"), "unsupported_file"),
        Rejection(str(missing), "unreadable", "no such file or directory"),
    ]


def test_directories_are_walked_recursively_in_sorted_order_without_hidden_entries(
    tmp_path: Path,
) -> None:
    """A walk is depth-first with entries sorted by name, leaving out dot-files and dot-dirs."""
    for name in ["b/2.html", "b/1.txt", "a.jsonl", "c/d/e.json", ".git/x.json", "b/.hidden.html"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")

    found = [str(Path(str(p)).relative_to(tmp_path)) for p in walk([tmp_path])]

    assert found == ["a.jsonl", "b/1.txt", "b/2.html", "c/d/e.json"]
    assert found == [
        str(Path(str(p)).relative_to(tmp_path)) for p in walk([tmp_path])
    ]  # and again, identically


def test_batch_byte_bound_flushes_before_the_page_count(tmp_path: Path) -> None:
    """A batch is cut once it holds max_batch_bytes, even below batch_size pages."""
    lines = [json.dumps(_page(n, body="y" * 400)) for n in range(6)]
    path = _jsonl(tmp_path / "p.jsonl", lines)

    batches = _batches(list(read_paths([path], ReadOptions(batch_size=100, max_batch_bytes=1000))))

    assert [len(b.lines) for b in batches] == [3, 3]


def test_naive_fetched_at_is_refused() -> None:
    """ReadOptions refuses a fetch time without a timezone."""
    with pytest.raises(ValueError, match="timezone"):
        ReadOptions(fetched_at=datetime(2025, 6, 21, 18, 0))


@given(st.binary(max_size=2000))
def test_any_bytes_as_an_ndjson_line_give_a_page_or_a_rejection(data: bytes) -> None:
    """Whatever a line holds, checking it gives a JsonLine or a Rejection, never an exception."""
    assert isinstance(check_page_json("f:1", data), JsonLine | Rejection)


@given(st.binary(max_size=3000) | st.text(max_size=1000).map(lambda t: t.encode("utf-8")))
def test_any_bytes_as_html_give_a_head_and_a_known_charset(data: bytes) -> None:
    """The head scan and the charset choice accept any bytes and name a codec Python knows."""
    head = scan_head(b"<html><head>" + data)
    charset = choose_charset(data, head.charset)
    assert head.canonical_url is None or head.canonical_url.startswith(("http://", "https://"))
    codecs.lookup(charset)


def test_a_raw_page_between_json_pages_keeps_its_place(tmp_path: Path) -> None:
    """JSON pages before an HTML file go in a batch of their own, ahead of it: uploads come
    in the inputs' order, which is the order ingest takes the pages in."""
    _jsonl(tmp_path / "a.jsonl", [json.dumps(_page(1)), json.dumps(_page(2))])
    (tmp_path / "b.html").write_text("<p>Headline</p><p>Text of the article.</p>", "utf-8")
    _jsonl(tmp_path / "c.jsonl", [json.dumps(_page(3))])

    items = list(read_paths([tmp_path], ReadOptions(fetched_at=FETCHED)))

    uploads = [item for item in items if isinstance(item, BatchUpload | RawUpload)]
    assert [
        [line.origin for line in u.lines] if isinstance(u, BatchUpload) else u.origin
        for u in uploads
    ] == [
        [f"{tmp_path / 'a.jsonl'}:1", f"{tmp_path / 'a.jsonl'}:2"],
        str(tmp_path / "b.html"),
        [f"{tmp_path / 'c.jsonl'}:1"],
    ]
