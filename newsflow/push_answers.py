"""Reading ingest's answers for `newsflow push`: accepted page ids and refusals with reasons.

Ingest refuses with `{"error": code, "detail": ...}`; a batch refused for some of its
lines adds `"lines": [{"line": n, "error": ..., "detail": ...}]`. Answers from anything
else (a proxy's HTML error page) fall back to `http_<status>` and the start of the text.
"""

from __future__ import annotations

from typing import Any

import httpx

from newsflow.push_retry import RETRIABLE_STATUSES
from newsflow.push_units import Rejection


def page_ids(response: httpx.Response) -> list[str]:
    """The ids a 202 answer lists (empty when it lists none)."""
    try:
        body = response.json()
    except ValueError:
        return []
    ids = body.get("page_ids") if isinstance(body, dict) else None
    return [str(page_id) for page_id in ids] if isinstance(ids, list) else []


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def refused_lines(response: httpx.Response, count: int) -> dict[int, tuple[str, str]]:
    """The 0-based lines a 422 batch refusal names, with their reasons; empty if none of ours."""
    if response.status_code != 422:
        return {}
    lines = _error_body(response).get("lines")
    refused: dict[int, tuple[str, str]] = {}
    for entry in lines if isinstance(lines, list) else []:
        number = entry.get("line") if isinstance(entry, dict) else None
        if isinstance(number, int) and 1 <= number <= count:
            refused[number - 1] = (
                str(entry.get("error", "invalid_page")),
                str(entry.get("detail", "")),
            )
    return refused


def rejection(answer: httpx.Response | str, origin: str, pages: int, retries: int) -> Rejection:
    """The final refusal of `pages` pages from `origin`; a str answer is a connection failure."""
    if isinstance(answer, str):
        return Rejection(
            origin, "connection_error", f"gave up after {retries} retries: {answer}", None, pages
        )
    body = _error_body(answer)
    reason = str(body.get("error") or f"http_{answer.status_code}")
    detail = str(body.get("detail") or answer.text[:200] or answer.reason_phrase)
    if answer.status_code in RETRIABLE_STATUSES:
        detail = f"gave up after {retries} retries: {detail}"
    return Rejection(origin, reason, detail, answer.status_code, pages)
