"""Shared Kafka settings: where the broker is, how to reach it, topic names and client tuning.

Read once from the environment into a frozen object in each service's `main` and passed
down. `KAFKA_BOOTSTRAP_SERVERS` names the brokers (unset means the embedded broker);
every other field reads `NEWSFLOW_KAFKA_<FIELD>`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"]
Compression = Literal["gzip", "snappy", "lz4", "zstd"]


class KafkaSettings(BaseSettings):
    """How newsflow talks to Kafka. Defaults suit the embedded broker on loopback."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_KAFKA_",
        frozen=True,
        extra="ignore",
        use_attribute_docstrings=True,
        validate_by_name=True,
    )

    bootstrap_servers: str | None = Field(default=None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    """Comma-separated host:port list; None starts the embedded broker."""
    security_protocol: SecurityProtocol = "PLAINTEXT"
    """Transport security towards the brokers."""
    sasl_mechanism: SaslMechanism | None = None
    """SASL mechanism when security_protocol is SASL_*."""
    sasl_username: str | None = None
    """SASL user name."""
    sasl_password: SecretStr | None = None
    """SASL password; never logged."""
    ssl_cafile: str | None = None
    """CA bundle that signs the brokers' certificates (SSL, SASL_SSL)."""

    topic_pages: str = "pages.raw"
    """Raw pages from ingest."""
    topic_events: str = "articles.events"
    """Article events from enrich."""
    topic_dead_letters: str = "pages.dlq"
    """Inputs that could not be processed."""
    partitions: int = Field(default=6, ge=1)
    """Partitions per topic when newsflow creates it: the ceiling on consumer parallelism."""
    replication_factor: int = Field(default=1, ge=1)
    """Copies of each partition; 3 in production."""

    compression_type: Compression | None = None
    """Producer compression: none on loopback (aiokafka lz4/gzip use level 9), zstd in prod."""
    enable_idempotence: bool = False
    """Idempotent producer; the embedded broker does not support it, Apache Kafka does."""
    linger_ms: int = Field(default=5, ge=0)
    """How long ingest's producer waits to gather concurrent requests' records into one produce
    request; enrich and the sink publish whole batches at once and do not linger."""
    max_request_size: int = Field(default=8 * 1024 * 1024, ge=1024)
    """Largest produce request, bounding the largest page."""
    request_timeout_ms: int = Field(default=5000, ge=100)
    """How long one request may wait for the broker; an unacknowledged batch expires after it."""
    delivery_timeout_ms: int = Field(default=10000, ge=100)
    """Upper bound on one publish call: past it, publish raises PublishUnavailable."""

    fetch_max_wait_ms: int = Field(default=100, ge=0)
    """How long the broker may hold a fetch that finds too little data. The embedded broker holds
    one that finds none for about half of this even when records arrive meanwhile: shorter
    gives lower latency per hop, but more and smaller batches, whose fixed costs take more
    CPU per page on a busy machine."""
    fetch_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Most bytes one fetch may bring (a record batch larger than this still comes whole). A
    lagging consumer holds up to about this much per partition it owns; with aiokafka's 50 MiB
    default, the sink's peak memory grew with its backlog."""
    session_timeout_ms: int = Field(default=6000, ge=1000)
    """Group session timeout; joining a group takes about half of it, so kept small."""
    heartbeat_interval_ms: int = Field(default=1000, ge=100)
    """Heartbeat period; well under a third of the session timeout."""
    max_batch: int = Field(default=200, ge=1)
    """Most records per handler batch. An enrich worker's peak memory follows its largest
    batch: 200 keeps it flat over long backlogs (500 did not). The sink takes its own
    NEWSFLOW_SINK_BATCH_MAX."""

    def client_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments shared by aiokafka producers, consumers and admins."""
        if self.bootstrap_servers is None:
            # The caller starts the embedded broker first and copies its address in.
            raise ValueError("bootstrap_servers is unset: start the embedded broker first")
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.sasl_mechanism is not None:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            if self.sasl_password is not None:
                kwargs["sasl_plain_password"] = self.sasl_password.get_secret_value()
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context  # noqa: PLC0415 - only TLS needs it

            kwargs["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        return kwargs
