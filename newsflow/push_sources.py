"""The reading layer of `newsflow push`: paths in, upload units out, no HTTP.

    read_paths(paths, options) -> Iterator[RawUpload | BatchUpload | Rejection | Skip]

Files are visited in a deterministic order (each path as given; directories recursively,
entries sorted by name, hidden ones left out). JSON pages (`.jsonl`/`.ndjson`, optionally
gzipped, and `.json`) are validated against RawPage and grouped into NDJSON batches across
files, a batch ending where a raw page comes; raw pages (`.html`/`.htm`, `.txt`, and WARC
responses) become one upload each with their envelope inferred. Everything streams: one
line, one file or one WARC record at a time.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import orjson
from pydantic import ValidationError

from newsflow.page_head import choose_charset, is_utf8, scan_head, url_host
from newsflow.push_units import BatchUpload, JsonLine, RawUpload, Rejection, Skip
from newsflow.push_warc import read_warc
from schemas import RawPage

MIB: Final = 1024 * 1024
JSONL_SUFFIXES: Final = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
HTML_SUFFIXES: Final = (".html", ".htm")
WARC_SUFFIXES: Final = (".warc", ".warc.gz")

Item = RawUpload | BatchUpload | Rejection | Skip
_Piece = RawUpload | JsonLine | Rejection | Skip


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How paths become uploads."""

    source: str | None = None
    """Source of every raw page (HTML, text, WARC); None infers it per page."""
    fetched_at: datetime | None = None
    """Fetch time of HTML and text files (timezone-aware); None uses each file's mtime."""
    batch_size: int = 100
    """Most JSON pages per NDJSON batch."""
    max_batch_bytes: int = 8 * MIB
    """A batch is sent once it holds this many bytes, whatever its page count."""
    max_page_bytes: int = 64 * MIB
    """Larger pages are rejected locally, unread, so one huge file cannot exhaust memory."""

    def __post_init__(self) -> None:
        if self.fetched_at is not None and self.fetched_at.utcoffset() is None:
            raise ValueError("fetched_at must be timezone-aware")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


def read_paths(paths: Sequence[Path], options: ReadOptions) -> Iterator[Item]:
    """Every upload, local rejection and skip the files under `paths` give, in file order."""
    return _batched(_pieces(paths, options), options)


def walk(paths: Sequence[Path]) -> Iterator[Path | Rejection]:
    """The files under `paths`, in order; a path that cannot be read is a Rejection."""
    for path in paths:
        if path.is_dir():
            yield from _walk_dir(path)
        elif path.exists():
            yield path
        else:
            yield Rejection(str(path), "unreadable", "no such file or directory")


def _walk_dir(directory: Path) -> Iterator[Path | Rejection]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(
                (entry for entry in scan if not entry.name.startswith(".")),
                key=lambda entry: entry.name,
            )
    except OSError as exc:
        yield Rejection(str(directory), "unreadable", exc.strerror or repr(exc))
        return
    for entry in entries:
        # Symlinked directories are not followed inside a walk: they could loop.
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_dir(Path(entry.path))
        elif entry.is_file():
            yield Path(entry.path)


def _pieces(paths: Sequence[Path], options: ReadOptions) -> Iterator[_Piece]:
    for found in walk(paths):
        if isinstance(found, Rejection):
            yield found
            continue
        name = found.name.lower()
        try:
            if name.endswith(JSONL_SUFFIXES):
                yield from read_jsonl(found, options.max_page_bytes)
            elif name.endswith(".json"):
                yield read_json(found, options.max_page_bytes)
            elif name.endswith((*HTML_SUFFIXES, ".txt")):
                yield read_raw_file(found, options)
            elif name.endswith(WARC_SUFFIXES):
                yield from read_warc(
                    found,
                    source=options.source,
                    fetched_at=options.fetched_at,
                    max_page_bytes=options.max_page_bytes,
                )
            else:
                yield Skip(str(found), "unsupported_file")
        except OSError as exc:
            yield Rejection(str(found), "unreadable", exc.strerror or repr(exc))


def _batched(pieces: Iterable[_Piece], options: ReadOptions) -> Iterator[Item]:
    pending: list[JsonLine] = []
    size = 0
    for piece in pieces:
        if not isinstance(piece, JsonLine):
            if pending and isinstance(piece, RawUpload):
                # A raw page listed after JSON pages is sent after them: the order ingest
                # takes pages in decides which copy of a duplicate is the original.
                yield BatchUpload(tuple(pending))
                pending, size = [], 0
            yield piece
            continue
        pending.append(piece)
        size += len(piece.data) + 1
        if len(pending) >= options.batch_size or size >= options.max_batch_bytes:
            yield BatchUpload(tuple(pending))
            pending, size = [], 0
    if pending:
        yield BatchUpload(tuple(pending))


def read_jsonl(path: Path, max_line_bytes: int) -> Iterator[JsonLine | Rejection | Skip]:
    """Each valid RawPage line of an NDJSON file; each invalid line as a Rejection at file:line."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as stream:
        for number, line in _lines(stream, max_line_bytes):
            origin = f"{path}:{number}"
            if line is None:
                yield Rejection(origin, "too_large", f"the line is over {max_line_bytes} bytes")
                continue
            text = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
            text = text.strip()
            if text:
                yield check_page_json(origin, text)


def read_json(path: Path, max_bytes: int) -> JsonLine | Rejection:
    """The single RawPage of a `.json` file, compacted to one line."""
    if path.stat().st_size > max_bytes:
        return Rejection(str(path), "too_large", f"the file is over {max_bytes} bytes")
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    try:
        compact = orjson.dumps(orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        return Rejection(str(path), "malformed_json", str(exc))
    return check_page_json(str(path), compact)


def check_page_json(origin: str, data: bytes) -> JsonLine | Rejection:
    """`data` as a JsonLine when it is a valid RawPage, else a Rejection saying why."""
    try:
        page = RawPage.model_validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        reason = (
            "malformed_json"
            if any(e["type"] in ("json_invalid", "model_type") for e in errors)
            else "invalid_page"
        )
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
            for e in errors
            if e["type"] != "default_factory_not_called"
        )
        return Rejection(origin, reason, detail)
    return JsonLine(origin, data, page.page_id)


def read_raw_file(path: Path, options: ReadOptions) -> RawUpload | Rejection | Skip:
    """An HTML or text file as one raw page, its envelope from the options or inferred."""
    stat = path.stat()
    if stat.st_size > options.max_page_bytes:
        return Rejection(str(path), "too_large", f"the file is over {options.max_page_bytes} bytes")
    data = path.read_bytes()
    if not data.strip():
        return Skip(str(path), "empty")
    fetched_at = options.fetched_at or datetime.fromtimestamp(stat.st_mtime, UTC)
    directory = path.resolve().parent.name or "local"
    if path.name.lower().endswith(HTML_SUFFIXES):
        head = scan_head(data)
        source = options.source or url_host(head.canonical_url) or directory
        charset = "utf-8" if is_utf8(data) else choose_charset(data, head.charset)
        return RawUpload(
            str(path), data, f"text/html; charset={charset}", head.canonical_url, source, fetched_at
        )
    charset = choose_charset(data, None)
    return RawUpload(
        str(path),
        data,
        f"text/plain; charset={charset}",
        None,
        options.source or directory,
        fetched_at,
    )


class _LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _lines(stream: _LineReader, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines of `stream`; a line over `limit` bytes is drained and given as None."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(MIB)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, line
