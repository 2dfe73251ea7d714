"""Settings of the enrich service, read once from the environment (prefix NEWSFLOW_)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from services.enrich.dedupe import Deduper
    from services.enrich.dedupe_store import DedupeStore


class EnrichSettings(BaseSettings):
    """How enrich dedupes and where it keeps that state."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", frozen=True, extra="ignore", use_attribute_docstrings=True
    )

    dedupe_store: Literal["memory", "sqlite", "redis"] = "sqlite"
    """Where dedupe state lives: `sqlite` (one machine), `redis` (shared by all workers) or
    `memory`."""
    dedupe_window: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))
    """How far apart (by fetched_at) two articles can be and still count as duplicates."""
    dedupe_threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    """Estimated Jaccard similarity of word 3-shingles from which an article is a near-duplicate."""
    dedupe_lateness: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    """How far (by fetched_at) behind the newest page of its partition a page may come and
    still meet every earlier article within the window: the dedupe state keeps window +
    lateness. Covers backfills sent out of order."""
    dedupe_max_skew: timedelta = Field(default=timedelta(days=7), ge=timedelta(0))
    """How far (by fetched_at) the slowest partition may trail the fastest and still keep the
    articles its pages may duplicate: covers a backfill whose partitions workers go through
    at different speeds. Beyond its minimum of articles, the dedupe state spans at most
    window + lateness + this."""
    dedupe_min_records: int = Field(default=10_000, ge=0)
    """Articles the dedupe state keeps however old (about 3 KB each per enrich process): only
    beyond these does it forget articles by fetched_at."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis for the shared dedupe store (NEWSFLOW_REDIS_URL)."""
    redis_prefix: str = "newsflow:dedupe"
    """Key prefix of the dedupe state in Redis."""
    data_dir: Path = Path("data")
    """Local data directory (NEWSFLOW_DATA_DIR); the SQLite dedupe store lives under it."""
    cache_dir: Path | None = None
    """Where derived files worth keeping between runs go (NEWSFLOW_CACHE_DIR): the unpacked
    language model, which starts a process in a fraction of a second instead of seconds.
    Unset: `$XDG_CACHE_HOME/newsflow`, else `~/.cache/newsflow`; unwritable means slower
    starts."""
    emit_duplicates: bool = False
    """Also publish duplicates (with duplicate_of set) to the events topic."""
    consumer_group: str = "newsflow-enrich"
    """Kafka consumer group of the enrich workers (NEWSFLOW_CONSUMER_GROUP)."""
    log_level: str = "INFO"
    """Log level (NEWSFLOW_LOG_LEVEL)."""
    metrics_host: str = "127.0.0.1"
    """Address the /metrics server binds (NEWSFLOW_METRICS_HOST); 0.0.0.0 to be scraped remotely."""
    metrics_port: int = Field(default=9101, ge=0, le=65535)
    """Port of the /metrics server (NEWSFLOW_METRICS_PORT); each enrich process on a machine
    needs its own; 0 picks a free one and logs it."""
    metrics_url_file: Path | None = None
    """Where to write the metrics URL once serving (NEWSFLOW_METRICS_URL_FILE); `newsflow run`
    reads it to print every URL."""

    @property
    def model_cache_dir(self) -> Path:
        """The cache directory in use: `cache_dir`, or the user's cache directory."""
        if self.cache_dir is not None:
            return self.cache_dir
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsflow"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite dedupe store's file."""
        return self.data_dir / "dedupe.sqlite3"

    def deduper(self, store: DedupeStore) -> Deduper:
        """A Deduper over `store` with these settings' window, threshold and retention."""
        # Imported here: the settings are read by processes that never dedupe (`newsflow run`).
        from services.enrich.dedupe import Deduper  # noqa: PLC0415

        return Deduper(
            store,
            window=self.dedupe_window,
            threshold=self.dedupe_threshold,
            lateness=self.dedupe_lateness,
            max_skew=self.dedupe_max_skew,
            min_records=self.dedupe_min_records,
        )
