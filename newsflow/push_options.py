"""The options of `newsflow push`, apart from the command so that parsing them stays light.

The CLI installs them on its subcommand parser without importing the push client (httpx,
tqdm), which every other subcommand would otherwise pay for at start.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `newsflow push` options, for the CLI to install on its subcommand parser."""
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or directories")
    parser.add_argument(
        "--url", type=_http_url, default="http://127.0.0.1:8080", help="base URL of ingest"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("NEWSFLOW_PUSH_TOKEN"),
        help="bearer token for ingest (default: $NEWSFLOW_PUSH_TOKEN)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=1,
        help="requests in flight (default 1: ingest then takes the pages in the inputs' order, "
        "which decides which copy of a near duplicate is the original)",
    )
    parser.add_argument("--source", help="source of raw pages (default: inferred per page)")
    parser.add_argument(
        "--fetched-at",
        type=_aware_datetime,
        help="RFC 3339 fetch time of HTML and text files (default: each file's mtime)",
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, default=100, help="JSON pages per batch request"
    )
    parser.add_argument(
        "--max-retries", type=int, default=8, help="retries per request on 429, 503 or no answer"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="progress bar on stderr when it is a terminal",
    )


def check_url(text: str) -> None:
    """Raise ValueError unless `text` is an http(s) URL with a host."""
    import httpx  # noqa: PLC0415 (only `push` pays for importing httpx)

    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{text!r} is not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{text!r} is not an http(s) URL such as http://127.0.0.1:8080")


def _http_url(text: str) -> str:
    try:
        check_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _aware_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 time") from exc
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no timezone offset; add Z or +HH:MM")
    return value
