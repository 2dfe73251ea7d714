"""`newsflow push`: send page files to the ingest HTTP API with bounded concurrency and retries.

    read_paths (thread) -> bounded queue -> `concurrency` workers -> POST /v1/pages[/batch]

The reading layer (`push_sources.py`) turns paths into uploads; here each upload is
posted with one shared httpx client. 429 and 503 answers and connection errors are
retried, waiting the server's Retry-After (capped) or a jittered exponential backoff,
at most `max_retries` times; any other refusal is final and counted with ingest's
reason. A batch refused as too large is split in two; a batch refused for some of its
lines is sent again without them. Page ids are derived from page content, so a retry
after a lost answer publishes the same page id again, which enrich dedupes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import httpx
import structlog
from tqdm import tqdm

from newsflow.clock import utc_now
from newsflow.logs import configure_logging
from newsflow.push_answers import page_ids, refused_lines, rejection
from newsflow.push_options import check_url
from newsflow.push_retry import RETRIABLE_STATUSES, RetryPolicy, parse_retry_after, retry_delay
from newsflow.push_sources import Item, ReadOptions, read_paths
from newsflow.push_summary import PushSummary, Tally
from newsflow.push_units import BatchUpload, RawUpload, Rejection, Skip, Upload

__all__ = ["PushSummary", "RetryPolicy", "push_paths", "run"]

_log = structlog.get_logger("newsflow.push")
_USER_AGENT: Final = "newsflow-push/1"
_NDJSON: Final = {b"Content-Type": b"application/x-ndjson"}


async def push_paths(
    paths: Sequence[Path],
    *,
    base_url: str,
    token: str | None,
    concurrency: int,
    source: str | None,
    fetched_at: datetime | None,
    batch_size: int,
    max_retries: int,
    progress: bool,
    policy: RetryPolicy | None = None,
    timeout_s: float = 60.0,
    rng: random.Random | None = None,
) -> PushSummary:
    """Send every page under `paths` to the ingest API at `base_url`; summarise what happened.

    `policy` tunes the backoff (its `max_retries` is replaced by `max_retries`).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    check_url(base_url)
    options = ReadOptions(source=source, fetched_at=fetched_at, batch_size=batch_size)
    retry = replace(policy or RetryPolicy(), max_retries=max_retries)
    headers = {"User-Agent": _USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    tally = Tally()
    bar = tqdm(
        desc="push", unit="page", file=sys.stderr, disable=not (progress and sys.stderr.isatty())
    )
    try:
        async with httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        ) as client:
            sender = _Sender(client, retry, tally, bar, rng or random.Random())
            await sender.run(read_paths(paths, options), concurrency)
    finally:
        bar.close()
    return tally.summary(time.perf_counter() - started)


class _Sender:
    """Feeds uploads from the reading layer to workers and posts them."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
        tally: Tally,
        bar: tqdm[Any],
        rng: random.Random,
    ) -> None:
        self._client = client
        self._policy = policy
        self._tally = tally
        self._bar = bar
        self._rng = rng

    async def run(self, items: Iterator[Item], concurrency: int) -> None:
        # Two uploads per worker in the queue: workers never wait for the disk, and at most
        # that many batches are held in memory besides the ones being sent.
        queue: asyncio.Queue[Upload | None] = asyncio.Queue(maxsize=2 * concurrency)
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(self._work(queue))
            # File reading and parsing run in a thread, so the event loop keeps answering.
            while (item := await asyncio.to_thread(next, items, None)) is not None:
                if isinstance(item, Rejection):
                    self._reject(item)
                elif isinstance(item, Skip):
                    self._tally.skip(item)
                else:
                    await queue.put(item)
            for _ in range(concurrency):
                await queue.put(None)

    async def _work(self, queue: asyncio.Queue[Upload | None]) -> None:
        while (upload := await queue.get()) is not None:
            if isinstance(upload, RawUpload):
                await self._send_raw(upload)
            else:
                await self._send_batch(upload)

    async def _send_raw(self, upload: RawUpload) -> None:
        answer = await self._post("/v1/pages", upload.body, upload.headers())
        if isinstance(answer, httpx.Response) and answer.is_success:
            self._accept(answer)
        else:
            self._reject(rejection(answer, upload.origin, 1, self._policy.max_retries))

    async def _send_batch(self, batch: BatchUpload) -> None:
        answer = await self._post("/v1/pages/batch", batch.body(), _NDJSON)
        lines = batch.lines
        if isinstance(answer, httpx.Response):
            if answer.is_success:
                self._accept(answer)
                return
            if answer.status_code == 413 and len(lines) > 1:
                half = len(lines) // 2
                await self._send_batch(BatchUpload(lines[:half]))
                await self._send_batch(BatchUpload(lines[half:]))
                return
            refused = refused_lines(answer, len(lines))
            if refused:
                for index, (reason, detail) in sorted(refused.items()):
                    self._reject(Rejection(lines[index].origin, reason, detail, answer.status_code))
                rest = tuple(line for i, line in enumerate(lines) if i not in refused)
                if rest:
                    await self._send_batch(BatchUpload(rest))
                return
        origin = lines[0].origin if len(lines) == 1 else f"{lines[0].origin} .. {lines[-1].origin}"
        self._reject(rejection(answer, origin, len(lines), self._policy.max_retries))

    async def _post(
        self, url: str, content: bytes, headers: dict[bytes, bytes]
    ) -> httpx.Response | str:
        """The final answer to a request, after retries; a str tells of a connection failure."""
        retry = 0
        while True:
            answer: httpx.Response | str
            retry_after: float | None = None
            try:
                answer = await self._client.post(url, content=content, headers=headers)
            except httpx.TransportError as exc:
                answer = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if answer.status_code not in RETRIABLE_STATUSES:
                    return answer
                retry_after = parse_retry_after(answer.headers.get("retry-after"), utc_now())
            if retry >= self._policy.max_retries:
                return answer
            retry += 1
            self._tally.retries += 1
            delay = retry_delay(retry, retry_after, self._policy, self._rng.random())
            _log.info(
                "retrying",
                path=url,
                answer=answer if isinstance(answer, str) else answer.status_code,
                retry=retry,
                delay_s=round(delay, 3),
            )
            await asyncio.sleep(delay)

    def _accept(self, response: httpx.Response) -> None:
        accepted = page_ids(response)
        self._tally.accept(accepted)
        self._bar.update(len(accepted))

    def _reject(self, rejection: Rejection) -> None:
        self._tally.reject(rejection)
        self._bar.update(rejection.pages)
        self._bar.set_postfix(rejected=sum(self._tally.rejected.values()), refresh=False)


def run(args: argparse.Namespace) -> int:
    """Run `newsflow push` from parsed arguments; print the summary to stderr; the exit code."""
    configure_logging("push", os.environ.get("NEWSFLOW_LOG_LEVEL", "WARNING"))
    summary = asyncio.run(
        push_paths(
            args.paths,
            base_url=args.url,
            token=args.token,
            concurrency=args.concurrency,
            source=args.source,
            fetched_at=args.fetched_at,
            batch_size=args.batch_size,
            max_retries=max(args.max_retries, 0),
            progress=args.progress,
        )
    )
    print(summary.render(), file=sys.stderr)
    return summary.exit_code
