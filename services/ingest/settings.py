"""Settings of the ingest service, read once from the environment (prefix NEWSFLOW_) in `main`."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024


class IngestSettings(BaseSettings):
    """Where ingest listens, how much it takes in at once, and who may post."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", frozen=True, extra="ignore", use_attribute_docstrings=True
    )

    http_host: str = "127.0.0.1"
    """Address the HTTP server binds (NEWSFLOW_HTTP_HOST); 0.0.0.0 to serve other hosts."""
    http_port: int = Field(default=8080, ge=0, le=65535)
    """TCP port of the HTTP server (NEWSFLOW_HTTP_PORT); 0 picks a free one."""
    max_page_bytes: int = Field(default=5 * MIB, ge=1024)
    """Largest single-page request body, counted after gzip decompression (413 beyond)."""
    max_batch_bytes: int = Field(default=32 * MIB, ge=1024)
    """Largest NDJSON batch body, counted after gzip decompression (413 beyond)."""
    max_batch_pages: int = Field(default=1000, ge=1)
    """Most pages in one NDJSON batch (413 beyond)."""
    max_in_flight_pages: int = Field(default=4000, ge=1)
    """Most pages received but not yet acknowledged by the broker; beyond it, 503 at once."""
    max_in_flight_bytes: int = Field(default=128 * MIB, ge=1024)
    """Most body bytes held by requests not yet answered; beyond it, 503 at once."""
    retry_after_seconds: int = Field(default=1, ge=0)
    """Value of the Retry-After header on 503 answers (overload, broker unavailable)."""
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long /readyz waits for the broker check before it answers 503."""
    shutdown_grace_seconds: int = Field(default=30, ge=1)
    """On SIGTERM, how long in-flight requests may take to finish before they are cut."""
    ingest_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    """Bearer tokens allowed to post (NEWSFLOW_INGEST_TOKENS, comma-separated); empty: no auth."""
    log_level: str = "INFO"
    """Log level (NEWSFLOW_LOG_LEVEL)."""

    @field_validator("ingest_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(token.strip() for token in value.split(",") if token.strip())
        return value

    @model_validator(mode="after")
    def _bounds_admit_one_request(self) -> Self:
        # An idle server must accept the largest request it allows, or it would 503 forever.
        if self.max_in_flight_bytes < max(self.max_page_bytes, self.max_batch_bytes):
            raise ValueError(
                "max_in_flight_bytes must be at least max_page_bytes and max_batch_bytes"
            )
        if self.max_in_flight_pages < self.max_batch_pages:
            raise ValueError("max_in_flight_pages must be at least max_batch_pages")
        return self
