"""The sink's configuration, read once from `NEWSFLOW_*` environment variables in `main`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SinkSettings(BaseSettings):
    """Where and how the sink writes article events."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", frozen=True, extra="ignore", use_attribute_docstrings=True
    )

    sink: Literal["jsonl", "postgres"] = "jsonl"
    """Destination: hourly JSONL files under data_dir, or PostgreSQL (NEWSFLOW_SINK)."""
    data_dir: Path = Path("./data")
    """Root of the JSONL files, written under `articles/YYYY/MM/DD/HH.jsonl` (NEWSFLOW_DATA_DIR)."""
    postgres_dsn: SecretStr | None = None
    """libpq connection string, e.g. `postgresql://user:pass@host:5432/db`; required when sink is
    postgres (NEWSFLOW_POSTGRES_DSN)."""
    postgres_schema: str = Field(default="public", min_length=1, max_length=63)
    """PostgreSQL schema holding `articles` and `newsflow_schema_migrations`; created if missing
    (NEWSFLOW_POSTGRES_SCHEMA)."""
    postgres_connect_timeout: int = Field(default=10, ge=1)
    """Seconds to wait for a PostgreSQL connection before the batch fails as retriable
    (NEWSFLOW_POSTGRES_CONNECT_TIMEOUT)."""
    sink_batch_max: int = Field(default=500, ge=1)
    """Most events the sink takes from Kafka in one batch and writes in one append or one
    transaction (NEWSFLOW_SINK_BATCH_MAX); the Kafka setting for the other consumers is
    NEWSFLOW_KAFKA_MAX_BATCH."""
    consumer_group: str = "newsflow-sink"
    """Kafka consumer group of the sink; a second sink (files and PostgreSQL) needs its own
    (NEWSFLOW_CONSUMER_GROUP)."""
    log_level: str = "INFO"
    """Log level (NEWSFLOW_LOG_LEVEL)."""
    metrics_host: str = "127.0.0.1"
    """Address the /metrics server binds (NEWSFLOW_METRICS_HOST); 0.0.0.0 to be scraped remotely."""
    metrics_port: int = Field(default=9102, ge=0, le=65535)
    """Port of the /metrics server (NEWSFLOW_METRICS_PORT); 0 picks a free one and logs it."""
    metrics_url_file: Path | None = None
    """Where to write the metrics URL once serving (NEWSFLOW_METRICS_URL_FILE); `newsflow run`
    reads it to print every URL."""

    @model_validator(mode="after")
    def _dsn_for_postgres(self) -> SinkSettings:
        if self.sink == "postgres" and self.postgres_dsn is None:
            raise ValueError("NEWSFLOW_POSTGRES_DSN is required when NEWSFLOW_SINK=postgres")
        return self
