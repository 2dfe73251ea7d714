"""`newsflow push` end to end: files through the real ingest app onto `pages.raw` in the broker."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsflow.broker import free_port
from newsflow.kafka import BatchConsumer, Message
from newsflow.push import push_paths
from newsflow.settings import KafkaSettings
from schemas import ContentType, RawPage
from services.ingest.main import build_server
from services.ingest.settings import IngestSettings
from tests.integration.push.servers import serving
from tests.samples import SAMPLE_PAGE

WAIT_S = 30.0


async def _read_pages(
    settings: KafkaSettings, topic: str, group: str, expected: int
) -> list[RawPage]:
    pages: list[RawPage] = []

    async def handler(batch: Sequence[Message]) -> None:
        pages.extend(RawPage.model_validate_json(message.value) for message in batch)
        if len(pages) >= expected:
            consumer.request_stop()

    consumer = BatchConsumer(settings, [topic], group, handler)
    async with asyncio.timeout(WAIT_S):
        await consumer.run()
    return pages


HTML = (
    '<html><head><link rel="canonical" href="https://harbour.example.org/news/1">'
    "</head><body><h1>Harbour reopens</h1><p>Boats return to the harbour.</p></body></html>"
)


@pytest.fixture
def sample_page(tmp_path: Path) -> RawPage:
    """The sample NDJSON page copied into tmp_path, beside harbour/front.html; the page it holds."""
    shutil.copy(SAMPLE_PAGE, tmp_path / SAMPLE_PAGE.name)
    site = tmp_path / "harbour"
    site.mkdir()
    (site / "front.html").write_text(HTML, encoding="utf-8")
    return RawPage.model_validate_json(SAMPLE_PAGE.read_bytes())


async def test_pushed_files_land_on_pages_raw_with_their_ids_and_envelopes(
    tmp_path: Path, sample_page: RawPage, kafka_settings: KafkaSettings, unique_name: str
) -> None:
    """The sample NDJSON page and an HTML file pass ingest and are read back from the topic."""
    sample = sample_page
    topic = f"pages-{unique_name}"
    kafka = kafka_settings.model_copy(update={"topic_pages": topic})
    server = build_server(IngestSettings(http_port=free_port()), kafka)
    fetched = datetime(2025, 6, 22, 7, 0, tzinfo=UTC)

    async with serving(server) as url:
        async with asyncio.timeout(WAIT_S):
            summary = await push_paths(
                [tmp_path],
                base_url=url,
                token=None,
                concurrency=2,
                source=None,
                fetched_at=fetched,
                batch_size=100,
                max_retries=3,
                progress=False,
            )

    assert (summary.accepted, summary.rejected_total, summary.skipped_total) == (2, 0, 0)
    pages = await _read_pages(kafka, topic, f"push-{unique_name}", 2)
    by_id = {page.page_id: page for page in pages}
    assert set(by_id) == set(summary.page_ids)
    assert by_id[sample.page_id] == sample
    (html_page,) = [page for page in pages if page.page_id != sample.page_id]
    assert html_page.url == "https://harbour.example.org/news/1"
    assert html_page.source == "harbour.example.org"
    assert html_page.fetched_at == fetched
    assert html_page.content_type is ContentType.HTML
    assert html_page.body == HTML
