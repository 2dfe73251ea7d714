"""Reading a RawPage envelope from the bytes or the line it arrived as (pure)."""

from __future__ import annotations

import re
from typing import Final

import orjson
from pydantic import ValidationError

from schemas import DeadLetterReason, RawPage
from schemas.models import PAGE_ID_MAX_LENGTH, PAGE_ID_PATTERN
from services.enrich.process import Rejection

_PAGE_ID: Final = re.compile(PAGE_ID_PATTERN)


def parse_page(raw: str | bytes) -> RawPage | Rejection:
    """A RawPage from one JSON document, or why it is not one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return Rejection(DeadLetterReason.MALFORMED_JSON, f"not JSON: {error}")
    if not isinstance(data, dict):
        return Rejection(DeadLetterReason.MALFORMED_JSON, "a page must be a JSON object")
    try:
        return RawPage.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(page)'}: {e['msg']}" for e in error.errors()
        )
        return Rejection(DeadLetterReason.INVALID_PAGE, problems)


def stated_page_id(raw: str | bytes) -> str | None:
    """The page id an input that is not a valid RawPage states, for its dead letter: its
    `page_id` when that is one by the contract (1-256 visible ASCII characters), else None."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    page_id = data.get("page_id") if isinstance(data, dict) else None
    if (
        isinstance(page_id, str)
        and len(page_id) <= PAGE_ID_MAX_LENGTH
        and _PAGE_ID.fullmatch(page_id)
    ):
        return page_id
    return None


def raw_text(raw: bytes) -> str:
    """The input as text for a dead letter's `raw`, lossless for UTF-8 and readable otherwise."""
    return raw.decode("utf-8", errors="backslashreplace")
