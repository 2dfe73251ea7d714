"""The offline command: JSONL pages in, events out, dead letters on the side, order kept."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime

from schemas import ArticleEvent, DeadLetter, DeadLetterReason
from services.enrich.dedupe import Deduper, InMemoryDedupeStore
from services.enrich.offline import enrich_lines
from services.enrich.process import PageProcessor
from tests.samples import SAMPLE_PAGE

SAMPLE_LINE = SAMPLE_PAGE.read_text(encoding="utf-8").splitlines()[0]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _resent(line: str, page_id: str) -> str:
    page = json.loads(line)
    page["page_id"] = page_id
    return json.dumps(page)


async def _run(
    lines: list[str], *, include_duplicates: bool = False
) -> tuple[list[str], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    processor = PageProcessor(Deduper(InMemoryDedupeStore()))
    await enrich_lines(
        lines,
        processor,
        out,
        err,
        include_duplicates=include_duplicates,
        origin="t.jsonl",
        clock=lambda: NOW,
    )
    return out.getvalue().splitlines(), err.getvalue().splitlines()


async def test_malformed_lines_become_dead_letters_and_processing_goes_on() -> None:
    """A non-JSON line and an invalid page go to stderr with reasons; the good page still emits."""
    events, letters = await _run(["{not json", '{"source": "x"}', SAMPLE_LINE, ""])
    assert len(events) == 4
    parsed = [DeadLetter.model_validate_json(line) for line in letters]
    assert [d.reason for d in parsed] == [
        DeadLetterReason.MALFORMED_JSON,
        DeadLetterReason.INVALID_PAGE,
    ]
    assert [d.origin for d in parsed] == ["t.jsonl:1", "t.jsonl:2"]
    assert parsed[0].raw == "{not json"
    assert "fetched_at" in parsed[1].message


async def test_an_invalid_page_keeps_the_page_id_it_states_in_its_dead_letter() -> None:
    """A page that states a valid page_id but breaks the contract elsewhere is dead-lettered
    under that id; an id the contract refuses (a space, too long, not a string) is left out."""
    lines = [
        '{"page_id": "seed-0009", "source": "x", "fetched_at": "0001-01-01T00:00:00Z"}',
        '{"page_id": "has space", "source": "x"}',
        json.dumps({"page_id": "p" * 257, "source": "x"}),
        '{"page_id": 7, "source": "x"}',
        '["page_id"]',
    ]
    _, letters = await _run(lines)
    assert [DeadLetter.model_validate_json(line).page_id for line in letters] == [
        "seed-0009",
        None,
        None,
        None,
        None,
    ]


async def test_duplicates_are_left_out_unless_asked_for() -> None:
    """The same page resent under another id adds nothing, or adds marked duplicates on request."""
    lines = [SAMPLE_LINE, _resent(SAMPLE_LINE, "seed-0002")]
    events, _ = await _run(lines)
    assert len(events) == 4
    everything, _ = await _run(lines, include_duplicates=True)
    assert len(everything) == 8
    repeats = [ArticleEvent.model_validate_json(line) for line in everything[4:]]
    assert all(e.duplicate_of == e.event_id for e in repeats)
    assert all(e.page_id == "seed-0002" for e in repeats)


async def test_page_without_articles_is_a_dead_letter_with_its_raw_line() -> None:
    """A page of widget lines gives a no_articles dead letter that carries the line to replay."""
    page = json.loads(SAMPLE_LINE)
    page["body"] = "Comments\nNo comments yet...\nRelated Articles"
    line = json.dumps(page)
    events, letters = await _run([line])
    assert events == []
    [letter] = [DeadLetter.model_validate_json(x) for x in letters]
    assert letter.reason is DeadLetterReason.NO_ARTICLES
    assert letter.page_id == "seed-0001"
    assert json.loads(letter.raw) == page


def test_the_command_writes_events_to_stdout() -> None:
    """`newsflow enrich --pages FILE` prints the sample's four events as JSON lines."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow.cli",
            "enrich",
            "--pages",
            str(SAMPLE_PAGE),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    events = [ArticleEvent.model_validate_json(line) for line in done.stdout.splitlines()]
    assert [e.position for e in events] == [0, 1, 2, 3]
    assert events[1].published_at == datetime(2025, 6, 21, 17, 43, tzinfo=UTC)
