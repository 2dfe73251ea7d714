"""`newsflow enrich --pages FILE`: the enrich core over a JSONL file of RawPages, no broker.

Pages are processed in file order in one dedupe context; events go to `out` as JSON lines,
dead letters (malformed lines, pages without articles) to `err`. Memory stays bounded by the
batch size and the dedupe window, not by the file size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TextIO

from newsflow.clock import Clock, utc_now
from schemas import RawPage
from services.enrich.envelope import parse_page
from services.enrich.process import PageProcessor, Rejection, dead_letter

BATCH_PAGES = 256


@dataclass(slots=True)
class OfflineSummary:
    """Counts of one offline run."""

    pages: int = 0
    events: int = 0
    duplicates: int = 0
    dead_letters: int = 0


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


async def enrich_lines(
    lines: Iterable[str],
    processor: PageProcessor,
    out: TextIO,
    err: TextIO,
    *,
    include_duplicates: bool = False,
    origin: str = "stdin",
    clock: Clock = utc_now,
) -> OfflineSummary:
    """Enrich every page line; write events to `out` and dead letters to `err`."""
    summary = OfflineSummary()
    numbered = _numbered(lines)
    while batch := list(islice(numbered, BATCH_PAGES)):
        pages: list[RawPage] = []
        raws: dict[str, tuple[int, str]] = {}
        for number, line in batch:
            parsed = parse_page(line)
            if isinstance(parsed, Rejection):
                letter = dead_letter(
                    parsed,
                    raw=line.rstrip("\n"),
                    page_id=parsed.page_id,
                    failed_at=clock(),
                    origin=f"{origin}:{number}",
                )
                err.write(letter.model_dump_json() + "\n")
                summary.dead_letters += 1
                continue
            pages.append(parsed)
            raws[parsed.page_id] = (number, line)
        summary.pages += len(pages)
        for outcome in await processor.process(pages):
            if outcome.rejection is not None:
                number, line = raws[outcome.page.page_id]
                letter = dead_letter(
                    outcome.rejection,
                    raw=line.rstrip("\n"),
                    page_id=outcome.page.page_id,
                    failed_at=clock(),
                    origin=f"{origin}:{number}",
                )
                err.write(letter.model_dump_json() + "\n")
                summary.dead_letters += 1
                continue
            for event in outcome.events:
                if event.duplicate_of is not None:
                    summary.duplicates += 1
                    if not include_duplicates:
                        continue
                out.write(event.model_dump_json() + "\n")
                summary.events += 1
        out.flush()
    return summary
