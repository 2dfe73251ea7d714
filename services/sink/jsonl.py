"""The JSONL writer: one file per hour of fetched_at, whole batches appended and fsynced.

Layout: `<data_dir>/articles/YYYY/MM/DD/HH.jsonl` (UTC hour of `fetched_at`), one
`ArticleEvent.model_dump_json()` per line. Durability and crash safety:

- A batch's lines for one file go down in one `write` (retried on a short write), then the
  file is fsynced, and its directory when the file or a directory was created. `flush()`
  returns only after that, so acknowledged events survive a crash.
- A crash mid-write can leave the last line of a file incomplete. It has no trailing newline,
  so readers must only take newline-terminated lines as events; on start (and before each
  append) the writer truncates such a tail. A write that fails is truncated back at once.
  Only the last, unacknowledged write can be torn, so the cut never loses an acked event.
- One writer per data directory: an exclusive `flock` on `articles/.writer.lock`.

One line per event id, across every hour: an event whose id some file already holds is
skipped, so a replay adds nothing, and neither does the same article seen again in another
hour (a copy beyond the dedupe window, which enrich publishes again as an original; as
PostgreSQL keeps one row per event id). The ids written sit in `articles/.event_ids.sqlite`
(see ``WrittenIds``): on disk, so memory does not grow with the files, and the same in every
sink process, before and after a restart. The files stay the truth: an hour's ids are
appended to the index after its lines are fsynced, and the first batch that touches an hour
after the writer started reads that hour's file back into the index first, which puts back
whatever a crash between an append and the index's commit left out (a replay touches the
hours written last). A start without an index (the first, or after it was deleted) builds it
from every file.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import orjson
import structlog

from schemas import ArticleEvent
from services.sink.errors import SinkError, SinkUnavailable
from services.sink.jsonl_ids import WrittenIds
from services.sink.writer import BatchingWriter, event_json

ARTICLES_DIR = "articles"
_LOCK_NAME = ".writer.lock"
_IDS_NAME = ".event_ids.sqlite"
_READ_BACK_HOURS = 1024  # memory for hours, not ids: a few dozen bytes each
_TAIL_CHUNK = 1 << 16
_ID_PREFIX = b'{"event_id":"'

_log = structlog.get_logger(__name__)


def floor_hour(moment: datetime) -> datetime:
    """The UTC hour a moment falls in (minutes and below zeroed)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_of(event: ArticleEvent) -> datetime:
    """The UTC hour whose file holds the event: the hour of its fetched_at."""
    return floor_hour(event.fetched_at)


def hour_path(hour: datetime) -> PurePosixPath:
    """The file of an hour, relative to the data directory."""
    return PurePosixPath(ARTICLES_DIR, f"{hour.astimezone(UTC):%Y/%m/%d/%H}.jsonl")


def path_hour(path: PurePosixPath) -> datetime | None:
    """The hour a relative file path stands for, or None when it is not an hour file."""
    parts = path.parts
    if len(parts) != 5 or parts[0] != ARTICLES_DIR or path.suffix != ".jsonl":
        return None
    try:
        hour = datetime.strptime("/".join((*parts[1:4], path.stem)), "%Y/%m/%d/%H")
    except ValueError:
        return None
    return hour.replace(tzinfo=UTC)


def encode_line(event: ArticleEvent) -> bytes:
    """One newline-terminated JSON line; raises BadEvent when the event cannot be encoded."""
    return event_json(event) + b"\n"


def decode_line(line: bytes) -> ArticleEvent:
    """The event a line holds (trailing newline optional)."""
    return ArticleEvent.model_validate_json(line)


def line_event_id(line: bytes) -> str | None:
    """The event_id of a complete line, or None when the line is torn or not an event.

    A line as `encode_line` writes it (`{"event_id":"...",` first, `}` and the newline last)
    gives its id without parsing the rest: reading an hour's ids back costs a few string
    operations per line, not a JSON parse of the whole article.
    """
    if not line.endswith(b"\n"):
        return None
    if line.startswith(_ID_PREFIX) and line.endswith(b"}\n"):
        end = line.find(b'"', len(_ID_PREFIX))
        if end > len(_ID_PREFIX) and line[end + 1 : end + 2] == b",":
            raw = line[len(_ID_PREFIX) : end]
            if b"\\" not in raw:
                try:
                    return raw.decode()
                except UnicodeDecodeError:
                    return None
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(directory: Path) -> None:
    """Create missing directories, fsyncing each parent so the new entries survive a crash."""
    missing: list[Path] = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        _fsync_dir(created.parent)


def _cut_torn_tail(fd: int, path: Path) -> None:
    """Truncate a trailing line that lacks its newline (what a crash mid-append leaves)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    end = size - 1
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    os.ftruncate(fd, end)
    os.fsync(fd)
    _log.warning("jsonl_torn_tail_cut", path=str(path), bytes=size - end)


def _append(path: Path, data: bytes) -> None:
    """Append whole lines and fsync; on failure cut the file back to where it was."""
    created = not path.exists()
    if created:
        _make_dirs(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _cut_torn_tail(fd, path)
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            # Leave no torn line behind for the next append; if this fails too, the next
            # append (or start) cuts the tail before writing.
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _read_ids(path: Path) -> list[str]:
    """The event_ids of a file, after cutting a torn tail; a bad line inside is an error."""
    with path.open("r+b") as file:
        _cut_torn_tail(file.fileno(), path)
        ids: list[str] = []
        for number, line in enumerate(file, start=1):
            event_id = line_event_id(line)
            if event_id is None:
                raise SinkError(f"{path}:{number} is not an article event; repair the file")
            ids.append(event_id)
    return ids


class JsonlWriter(BatchingWriter):
    """Appends events to hourly JSONL files under `data_dir`, one line per event_id."""

    def __init__(self, data_dir: Path, *, batch_max: int = 500) -> None:
        super().__init__(batch_max=batch_max)
        self._root = data_dir
        self._ids: WrittenIds | None = None
        self._read_back: OrderedDict[datetime, None] = OrderedDict()
        """Hours whose files are in the index since the writer started, the last touched last;
        at most _READ_BACK_HOURS (one forgotten is read back again when touched)."""
        self._lock_fd: int | None = None

    def written_ids(self) -> int:
        """How many event_ids the files hold, as the index counts them (not during a flush)."""
        return 0 if self._ids is None else len(self._ids)

    async def _open(self) -> None:
        await self._run(self._open_sync)

    async def _write_batch(self, events: Sequence[ArticleEvent]) -> None:
        await self._run(self._write_sync, events)

    async def _close(self) -> None:
        if self._ids is not None:
            self._ids.close()
            self._ids = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None
        self._read_back.clear()

    async def _run(self, work: Callable[..., None], *args: object) -> None:
        # fsync, reads and the index block for milliseconds: keep them off the event loop.
        try:
            await asyncio.to_thread(work, *args)
        except (OSError, sqlite3.OperationalError) as exc:
            raise SinkUnavailable(f"JSONL I/O under {self._root} failed: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            index = self._root / ARTICLES_DIR / _IDS_NAME
            raise SinkError(
                f"the event id index {index} is unusable ({exc}): stop the sink and delete it"
                " (with its -wal and -shm files); the next start rebuilds it from the files"
            ) from exc

    def _open_sync(self) -> None:
        articles = self._root / ARTICLES_DIR
        _make_dirs(articles)
        fd = os.open(articles / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise SinkUnavailable(f"another sink is writing to {articles}") from exc
        self._lock_fd = fd
        ids = self._ids = WrittenIds(articles / _IDS_NAME)
        files = 0
        for path in self._hour_files():
            if not ids.built:
                # A new index (first start, or the old one deleted) learns every file's ids,
                # again at the next start if this one stops half-way.
                self._build_from(ids, path)
            else:
                # Ids are read back when an hour is touched; here only a crash's tail is cut.
                with path.open("r+b") as file:
                    _cut_torn_tail(file.fileno(), path)
            files += 1
        ids.mark_built()
        _log.info("jsonl_writer_started", data_dir=str(self._root), hour_files=files, ids=len(ids))

    @staticmethod
    def _build_from(ids: WrittenIds, path: Path) -> None:
        try:
            ids.add(_read_ids(path))
        except SinkError as exc:
            # Writes to that hour fail until the file is repaired; the rest can go on.
            _log.error("jsonl_file_unreadable", path=str(path), error=str(exc))

    def _hour_files(self) -> Iterable[Path]:
        for path in sorted((self._root / ARTICLES_DIR).glob("*/*/*/*.jsonl")):
            if path_hour(PurePosixPath(path.relative_to(self._root).as_posix())) is not None:
                yield path

    def _write_sync(self, events: Sequence[ArticleEvent]) -> None:
        ids = self._ids
        assert ids is not None  # _drain refuses to write before start()
        by_hour: dict[datetime, list[ArticleEvent]] = {}
        for event in events:
            by_hour.setdefault(hour_of(event), []).append(event)
        try:
            for hour in by_hour:
                self._read_back_once(ids, hour)
            held = ids.known({event.event_id for event in events})
            lines: dict[datetime, list[tuple[str, bytes]]] = {}
            for hour, group in by_hour.items():
                # Encode the whole batch before writing: a bad event leaves every file untouched.
                fresh = []
                for event in group:
                    if event.event_id not in held:
                        held.add(event.event_id)
                        fresh.append((event.event_id, encode_line(event)))
                if fresh:
                    lines[hour] = fresh
            for hour, fresh in lines.items():
                # One write and one fsync per touched file per batch.
                _append(self._root / hour_path(hour), b"".join(line for _, line in fresh))
            ids.add(event_id for fresh in lines.values() for event_id, _ in fresh)
        except BaseException:
            # A file may hold lines the index missed: read these hours back on the retry.
            for hour in by_hour:
                self._read_back.pop(hour, None)
            raise

    def _read_back_once(self, ids: WrittenIds, hour: datetime) -> None:
        """Put an hour file's ids in the index, the first time the writer touches the hour."""
        if hour in self._read_back:
            self._read_back.move_to_end(hour)
            return
        path = self._root / hour_path(hour)
        if path.exists():
            ids.add(_read_ids(path))
        self._read_back[hour] = None
        if len(self._read_back) > _READ_BACK_HOURS:
            self._read_back.popitem(last=False)
