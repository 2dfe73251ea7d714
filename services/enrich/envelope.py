"""Reading a RawPage envelope from the bytes or the line it arrived as (pure)."""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from schemas import DeadLetterReason, RawPage
from schemas.models import PAGE_ID
from services.enrich.process import Rejection


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
        return Rejection(DeadLetterReason.INVALID_PAGE, problems, _stated_page_id(data))


def _stated_page_id(data: dict[str, object]) -> str | None:
    # The id a page that breaks the contract elsewhere states, for its dead letter.
    try:
        return PAGE_ID.validate_python(data.get("page_id"), strict=True)
    except ValidationError:
        return None


def raw_text(raw: bytes) -> str:
    """The input as text for a dead letter's `raw`, lossless for UTF-8 and readable otherwise."""
    return raw.decode("utf-8", errors="backslashreplace")
