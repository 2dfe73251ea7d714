"""`newsflow push` against a real HTTP server on 127.0.0.1 scripted to be busy, strict or slow."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

from newsflow.broker import free_port
from newsflow.push import PushSummary, RetryPolicy, push_paths
from tests.integration.push.servers import MARK, ScriptedIngest, serving

FETCHED = datetime(2025, 6, 21, 18, 0, tzinfo=UTC)
QUICK = RetryPolicy(base_s=0.01, cap_s=0.05, max_retry_after_s=2.0)


def _page(n: int, body: str | None = None) -> str:
    return json.dumps(
        {
            "source": "Daily8",
            "fetched_at": "2025-06-21T18:00:00Z",
            "body": body if body is not None else f"Headline {n}\nText {n}.",
        }
    )


async def _push(
    paths: list[Path], base_url: str, *, concurrency: int = 4, **kwargs: object
) -> PushSummary:
    options: dict[str, object] = {
        "token": None,
        "source": None,
        "fetched_at": FETCHED,
        "batch_size": 100,
        "max_retries": 8,
        "progress": False,
        "policy": QUICK,
        "rng": random.Random(7),
        **kwargs,
    }
    return await push_paths(paths, base_url=base_url, concurrency=concurrency, **options)  # type: ignore[arg-type]


async def test_busy_answers_are_retried_after_the_servers_retry_after(tmp_path: Path) -> None:
    """Two 503s with Retry-After: 1 are each waited out in full before the page is sent again."""
    page = tmp_path / "page.html"
    page.write_text("<h1>Headline</h1><p>Text.</p>", encoding="utf-8")
    ingest = ScriptedIngest(busy_first=2, retry_after="1")

    async with serving(ingest.app()) as url:
        summary = await _push([page], url, concurrency=1)

    assert (summary.accepted, summary.rejected_total, summary.retries) == (1, 0, 2)
    assert [status for _, _, status in ingest.requests] == [503, 503, 202]
    times = [at for at, _, _ in ingest.requests]
    assert times[1] - times[0] >= 0.99
    assert times[2] - times[1] >= 0.99
    assert summary.page_ids == (ingest.pages[0].page_id,)
    assert summary.exit_code == 0


async def test_429_without_retry_after_backs_off_and_succeeds(tmp_path: Path) -> None:
    """429s without Retry-After are retried with backoff until the batch is accepted."""
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(_page(n) for n in range(3)) + "\n", encoding="utf-8")
    ingest = ScriptedIngest(busy_first=3, busy_status=429, retry_after=None)

    async with serving(ingest.app()) as url:
        summary = await _push([path], url)

    assert (summary.accepted, summary.retries) == (3, 3)
    assert [status for _, _, status in ingest.requests] == [429, 429, 429, 202]
    assert set(summary.page_ids) == {page.page_id for page in ingest.pages}


async def test_rejections_carry_the_servers_reasons_and_the_other_pages_land(
    tmp_path: Path,
) -> None:
    """Marked pages come back 422 with ingest's reason and origin; the rest of a batch is resent."""
    pages = tmp_path / "pages.jsonl"
    lines = [_page(1), _page(2, f"Headline\n{MARK.decode()}"), "{broken", _page(4), _page(5)]
    pages.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "good.txt").write_text("Plain headline\nPlain text.", encoding="utf-8")
    (tmp_path / "marked.html").write_text(f"<p>{MARK.decode()}</p>", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    ingest = ScriptedIngest()

    async with serving(ingest.app()) as url:
        summary = await _push([tmp_path], url)

    assert summary.accepted == 4
    assert dict(summary.rejected) == {"invalid_page": 2, "malformed_json": 1}
    assert dict(summary.skipped) == {"unsupported_file": 1}
    examples = summary.rejected_examples["invalid_page"]
    assert f"{tmp_path / 'marked.html'} [HTTP 422]: the page is marked" in examples
    assert f"{pages}:2 [HTTP 422]: marked" in examples
    assert summary.rejected_examples["malformed_json"][0].startswith(f"{pages}:3: ")
    assert sorted(summary.page_ids) == sorted(page.page_id for page in ingest.pages)
    assert sorted(p.body for p in ingest.pages if p.source == "Daily8") == [
        "Headline 1\nText 1.",
        "Headline 4\nText 4.",
        "Headline 5\nText 5.",
    ]
    assert summary.exit_code == 1
    rendered = summary.render()
    assert "4 accepted, 3 rejected, 1 skipped" in rendered
    assert "rejected invalid_page: 2" in rendered


async def test_requests_in_flight_never_exceed_the_concurrency(tmp_path: Path) -> None:
    """With 30 slow pages and concurrency 4 the server never holds more than 4 requests at once."""
    for n in range(30):
        (tmp_path / f"{n:02}.txt").write_text(f"Headline {n}\nText {n}.", encoding="utf-8")
    ingest = ScriptedIngest(delay_s=0.05)

    async with serving(ingest.app()) as url:
        summary = await _push([tmp_path], url, concurrency=4)

    assert summary.accepted == 30
    assert ingest.max_in_flight == 4
    assert {page.source for page in ingest.pages} == {tmp_path.name}
    assert {page.fetched_at for page in ingest.pages} == {FETCHED}


async def test_a_batch_refused_as_too_large_is_split_until_it_fits(tmp_path: Path) -> None:
    """413 on a batch of 7 splits it in halves until every piece is within the server's limit."""
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(_page(n) for n in range(7)) + "\n", encoding="utf-8")
    ingest = ScriptedIngest(max_batch_lines=2)

    async with serving(ingest.app()) as url:
        summary = await _push([path], url, batch_size=7)

    assert (summary.accepted, summary.rejected_total, summary.retries) == (7, 0, 0)
    assert sorted(ingest.batch_sizes) == [1, 2, 2, 2]
    assert sorted(p.body for p in ingest.pages) == sorted(
        f"Headline {n}\nText {n}." for n in range(7)
    )


async def test_retries_are_bounded_and_the_last_reason_is_reported(tmp_path: Path) -> None:
    """A busy server gets max_retries retries; then the page is rejected with its reason."""
    page = tmp_path / "page.txt"
    page.write_text("Headline\nText.", encoding="utf-8")
    ingest = ScriptedIngest(busy_first=1000, retry_after="0")

    async with serving(ingest.app()) as url:
        summary = await _push([page], url, max_retries=3)

    assert (summary.accepted, summary.retries) == (0, 3)
    assert len(ingest.requests) == 4
    assert dict(summary.rejected) == {"overloaded": 1}
    assert "gave up after 3 retries: busy" in summary.rejected_examples["overloaded"][0]
    assert summary.exit_code == 1


async def test_an_unreachable_server_is_a_connection_error_after_retries(tmp_path: Path) -> None:
    """Nothing listening: each request is retried, then rejected as a connection error."""
    page = tmp_path / "page.txt"
    page.write_text("Headline\nText.", encoding="utf-8")

    summary = await _push([page], f"http://127.0.0.1:{free_port()}", max_retries=2)

    assert (summary.accepted, summary.retries) == (0, 2)
    assert dict(summary.rejected) == {"connection_error": 1}
    assert "ConnectError" in summary.rejected_examples["connection_error"][0]


async def test_the_bearer_token_is_sent_and_a_wrong_one_is_a_final_rejection(
    tmp_path: Path,
) -> None:
    """The right token is accepted; a wrong one is a 401 rejection, never retried."""
    page = tmp_path / "page.txt"
    page.write_text("Headline\nText.", encoding="utf-8")
    ingest = ScriptedIngest(token="s3cret")

    async with serving(ingest.app()) as url:
        good = await _push([page], url, token="s3cret")
        bad = await _push([page], url, token="wrong")

    assert good.accepted == 1
    assert (bad.accepted, bad.retries, dict(bad.rejected)) == (0, 0, {"unauthorized": 1})
