"""The whole pipeline for real: pages over HTTP -> Kafka -> enrich -> JSONL files and PostgreSQL.

Every test runs `newsflow.run.Pipeline` with its own embedded broker and the services as
child processes, pushes pages over loopback HTTP and compares what landed with what offline
enrich makes of the same pages. Workers process partitions in parallel, so which copy of a
near duplicate counts as the original depends on timing: comparisons are on sets of event
ids and on the slot each id was found in, which do not.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import orjson

from schemas import ArticleEvent, DeadLetter, DeadLetterReason, DuplicateKind, RawPage, Stage
from services.enrich.dedupe import DEFAULT_LATENESS, DEFAULT_WINDOW
from tests.integration.pipeline.harness import (
    drained,
    file_bytes,
    file_events,
    push,
    read_topic,
    running,
    start_service,
    table_events,
    table_rows,
)
from tests.integration.pipeline.pages import (
    corpus_pages,
    offline,
    pages_with_control_characters,
    pages_without_articles,
    pages_without_near_duplicates,
    sample_page,
    unjudged,
    write_pages,
)

SINK_GROUPS = ("newsflow-sink", "newsflow-sink-pg")
NOTHING = {DeadLetterReason.NO_ARTICLES, DeadLetterReason.EMPTY_PAGE}


def _files_with_duplicates(data_dir: Path) -> dict[str, str]:
    """Services' settings: the JSONL sink under `data_dir`, SQLite dedupe, duplicates emitted."""
    return {
        "NEWSFLOW_DATA_DIR": str(data_dir),
        "NEWSFLOW_SINK": "jsonl",
        "NEWSFLOW_DEDUPE_STORE": "sqlite",
        "NEWSFLOW_EMIT_DUPLICATES": "true",
    }


async def test_pushed_pages_land_in_files_and_postgres_as_offline_enrich_finds_them(
    tmp_path: Path, postgres_dsn: str, pg_schema: str
) -> None:
    """Sinks hold offline's ids once each, empty pages dead-letter, and a re-push adds nothing."""
    pages = [
        sample_page(),
        *corpus_pages(80, 3),
        *pages_without_articles(),
        *pages_with_control_characters(),
    ]
    expected = await offline(pages)
    # The input must exercise both kinds of duplicate, or the comparison proves little.
    assert expected.count(DuplicateKind.EXACT) > 0
    assert expected.count(DuplicateKind.NEAR) > 0
    # Articles whose text held control characters, which PostgreSQL refuses.
    assert {("controls-text", 0), ("controls-html", 0)} <= set(expected.by_slot())
    feed = write_pages(tmp_path / "pages.jsonl", pages)
    data_dir = tmp_path / "data"
    env = _files_with_duplicates(data_dir)
    pg_env = {
        "NEWSFLOW_SINK": "postgres",
        "NEWSFLOW_POSTGRES_DSN": postgres_dsn,
        "NEWSFLOW_POSTGRES_SCHEMA": pg_schema,
        "NEWSFLOW_CONSUMER_GROUP": SINK_GROUPS[1],
    }

    async with running(env) as pipeline:
        await start_service(pipeline, "sink-pg", "sink", pg_env)
        summary = await push(pipeline, feed)
        assert (summary.accepted, summary.rejected_total) == (len(pages), 0)
        await drained(pipeline, SINK_GROUPS)

        in_files = file_events(data_dir)
        rows = await table_rows(postgres_dsn, pg_schema)
        stored = await table_events(postgres_dsn, pg_schema)
        kafka = pipeline.kafka
        letters = [
            DeadLetter.model_validate_json(record.value)
            for record in await read_topic(
                kafka,
                kafka.topic_dead_letters,
                lambda got: len(got) >= len(expected.rejected),
            )
        ]
        files_before, rows_before = file_bytes(data_dir), rows

        again = await push(pipeline, feed)
        assert again.accepted == len(pages)
        await drained(pipeline, SINK_GROUPS)
        files_after = file_bytes(data_dir)
        rows_after = await table_rows(postgres_dsn, pg_schema)

    file_ids = Counter(str(event["event_id"]) for event in in_files)
    assert set(file_ids) == expected.event_ids
    assert [event_id for event_id, n in file_ids.items() if n > 1] == []
    assert [row.event_id for row in rows] == sorted(expected.event_ids)

    # Every stored article is the one offline found in its (page, position), field for field;
    # only the verdict may differ, as it depends on the order pages were processed in.
    found = expected.by_slot()
    for event in [*map(ArticleEvent.model_validate, in_files), *stored]:
        assert unjudged(event) == found[event.page_id, event.position]

    # At least once: a batch handled again after a rebalance dead-letters its pages again.
    by_page = {letter.page_id: letter for letter in letters}
    assert {(letter.page_id, letter.reason) for letter in letters} == set(expected.rejected.items())
    assert {letter.stage for letter in letters} == {Stage.ENRICH}
    for page in pages_without_articles():
        assert by_page[page["page_id"]].reason in NOTHING
        assert orjson.loads(by_page[page["page_id"]].raw)["body"] == page["body"]

    assert files_after == files_before
    assert rows_after == rows_before


async def test_one_worker_gives_offline_verdicts_near_duplicates_included(tmp_path: Path) -> None:
    """One worker gives offline's verdicts, near duplicates included, however its batches
    fall: it takes its partitions' records in the order ingest accepted the pages (a merge
    across partitions, not fetch by fetch), as offline takes a file's pages in file order.
    Batches of 20 records out of one fetch of every partition would otherwise go partition
    by partition, and a near duplicate's later copy would come first."""
    pages = [sample_page(), *corpus_pages(120, 5)]
    expected = await offline(pages)
    assert expected.count(DuplicateKind.NEAR) > 0
    feed = write_pages(tmp_path / "pages.jsonl", pages)
    data_dir = tmp_path / "data"
    env = {**_files_with_duplicates(data_dir), "NEWSFLOW_KAFKA_MAX_BATCH": "20"}
    async with running(env, enrich_workers=0) as pipeline:
        summary = await push(pipeline, feed, batch_size=len(pages))
        assert summary.accepted == len(pages)
        # Started once every page is on the topic, so that its fetches hold every partition.
        await start_service(pipeline, "enrich-0", "enrich")
        await drained(pipeline)
        in_files = file_events(data_dir)

    # The files keep one line per event id: its first sighting, original or near duplicate.
    first: dict[str, tuple[object, ...]] = {}
    for event in expected.events:
        kind = event.duplicate_kind.value if event.duplicate_kind else None
        first.setdefault(event.event_id, (event.page_id, event.position, event.duplicate_of, kind))
    landed = {
        str(e["event_id"]): (e["page_id"], e["position"], e["duplicate_of"], e["duplicate_kind"])
        for e in in_files
    }
    assert landed == first


async def test_a_burst_of_weeks_of_pages_lands_as_offline_finds_it_with_two_workers(
    tmp_path: Path,
) -> None:
    """Pages spanning more than the window and the lateness, led by one dated ten days after
    the rest, pushed at once to two workers: the files hold offline's originals.
    Dedupe forgets nothing while it holds few articles, and beyond that keeps what the
    slowest partition needs, so neither the stray page nor the faster worker makes the
    other lose an article its pages duplicate."""
    burst = pages_without_near_duplicates(300, 7)
    fetched = sorted(RawPage.model_validate(page).fetched_at for page in burst)
    assert fetched[-1] - fetched[0] > DEFAULT_WINDOW + DEFAULT_LATENESS
    stray = {**sample_page(), "fetched_at": (fetched[-1] + timedelta(days=10)).isoformat()}
    pages = [stray, *burst]
    expected = await offline(pages)
    assert expected.count(DuplicateKind.EXACT) > 0
    assert expected.count(DuplicateKind.NEAR) == 0  # so the originals are the same in any order
    feed = write_pages(tmp_path / "pages.jsonl", pages)
    data_dir = tmp_path / "data"
    env = {"NEWSFLOW_DATA_DIR": str(data_dir), "NEWSFLOW_SINK": "jsonl"}
    async with running(env) as pipeline:
        summary = await push(pipeline, feed, batch_size=100)
        assert summary.accepted == len(pages)
        await drained(pipeline)
        in_files = Counter(str(event["event_id"]) for event in file_events(data_dir))

    originals = Counter(event.event_id for event in expected.events if event.duplicate_of is None)
    assert set(in_files) == set(originals)
    # An article seen again more than the window after its first sighting is original again,
    # offline too; the files keep one line per id over the hours the sink holds in memory.
    assert {event_id for event_id, n in in_files.items() if n > 1} <= {
        event_id for event_id, n in originals.items() if n > 1
    }


async def test_bad_requests_are_refused_with_reasons_and_the_pipeline_keeps_working(
    tmp_path: Path,
) -> None:
    """Bad requests get 400/413/415/422 with reasons, publish nothing, and a good page lands."""
    good = sample_page()
    expected = await offline([good])
    data_dir = tmp_path / "data"
    env = {
        "NEWSFLOW_DATA_DIR": str(data_dir),
        "NEWSFLOW_SINK": "jsonl",
        "NEWSFLOW_DEDUPE_STORE": "memory",
        "NEWSFLOW_MAX_PAGE_BYTES": str(64 * 1024),
    }
    json_type = {"content-type": "application/json"}
    async with running(env, enrich_workers=1) as pipeline:
        async with httpx.AsyncClient(base_url=pipeline.base_url, timeout=30.0) as client:
            malformed = await client.post(
                "/v1/pages", content=b'{"source": "Daily8", ', headers=json_type
            )
            oversized = await client.post("/v1/pages", json={**good, "body": "x" * (64 * 1024 + 1)})
            wrong_type = await client.post(
                "/v1/pages", content=b"%PDF-1.7", headers={"content-type": "application/pdf"}
            )
            invalid = await client.post("/v1/pages", json={**good, "source": ""})
            accepted = await client.post("/v1/pages", json=good)
        await drained(pipeline)
        kafka = pipeline.kafka
        published = await read_topic(kafka, kafka.topic_pages, lambda got: len(got) >= 1)
        landed = file_events(data_dir)

    refusals = {
        "malformed": (malformed, 400, "malformed_json"),
        "oversized": (oversized, 413, "too_large"),
        "wrong_type": (wrong_type, 415, "unsupported_media_type"),
        "invalid": (invalid, 422, "invalid_page"),
    }
    for name, (response, status, reason) in refusals.items():
        body = response.json()
        assert (response.status_code, body["error"]) == (status, reason), name
        assert body["detail"], f"{name}: no detail given"
    assert "source" in invalid.json()["detail"]
    assert accepted.status_code == 202
    assert [record.key for record in published] == [good["page_id"].encode()]
    landed_events = sorted((ArticleEvent.model_validate(e) for e in landed), key=_position)
    assert landed_events == [e for e in expected.events if e.duplicate_of is None]


def _position(event: ArticleEvent) -> int:
    return event.position
