"""What the OpenAPI document says about ingest's routes: bodies, headers, answers, errors.

The posting routes read their bodies themselves (streamed, size-capped, several content
types), so FastAPI cannot infer them; they are described here instead.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from schemas import RawPage


class PageAccepted(BaseModel):
    """A page the broker acknowledged."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    page_id: str
    """The page's id: its own, the Idempotency-Key's, or derived from its content."""
    page_ids: list[str]
    """The same id, as a one-element list (the shape of the batch answer)."""


class PagesAccepted(BaseModel):
    """A batch the broker acknowledged in full."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    page_ids: list[str]
    """The pages' ids, in the order of the batch's lines."""


class ErrorBody(BaseModel):
    """Why a request was refused."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    error: str
    """A code from a fixed set (see RejectReason), e.g. `too_large`, `invalid_page`."""
    detail: str
    """A human explanation. Batch refusals add `lines`: [{line, error, detail}]."""


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


_COMMON_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: _error("A bearer token is required (when tokens are configured)."),
    403: _error("The bearer token is not accepted."),
    413: _error("The body, inflated, is over the size limit (or the batch has too many pages)."),
    415: _error("Unsupported Content-Type, charset or Content-Encoding."),
    503: _error("Broker unavailable or too much in flight; retry after Retry-After seconds."),
}
SINGLE_ERRORS: Final = {
    400: _error("Malformed JSON, missing or invalid header, undecodable bytes, empty body."),
    422: _error("The page does not match the RawPage contract."),
    **_COMMON_ERRORS,
}
BATCH_ERRORS: Final = {
    400: _error("Empty batch or undecodable body."),
    422: _error("Some lines are invalid: `lines` names each with its reason; nothing published."),
    **_COMMON_ERRORS,
}


def _header(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


_IDEMPOTENCY: Final = _header(
    "Idempotency-Key",
    "Pages without their own page_id get an id derived from this key, so a resend is one page.",
)
_RAW_PAGE: Final = {"$ref": "#/components/schemas/RawPage"}

SINGLE_PAGE: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _RAW_PAGE},
            "text/html": {"schema": {"type": "string"}},
            "application/xhtml+xml": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    },
    "parameters": [
        _header("X-Source", "Raw bodies: the site or scraper (RawPage.source). Required."),
        _header(
            "X-Fetched-At",
            "Raw bodies: fetch time, RFC 3339 with an offset or an HTTP date"
            " (Sat, 21 Jun 2025 10:00:00 GMT). Required.",
        ),
        _header("X-Url", "Raw bodies: the address the page was fetched from."),
        _header("X-Page-Id", "Raw bodies: the caller's page id."),
        _IDEMPOTENCY,
    ],
}
BATCH: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        "description": "One RawPage JSON object per line.",
    },
    "parameters": [_IDEMPOTENCY],
}


def install_schema(app: FastAPI) -> None:
    """Make `app.openapi()` include RawPage, which the posting routes read by hand."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            page = RawPage.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(page.pop("$defs", {}))
            schemas["RawPage"] = page
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
