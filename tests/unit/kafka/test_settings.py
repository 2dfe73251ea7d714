"""KafkaSettings: where values come from and the client keyword arguments built from them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from newsflow.settings import KafkaSettings


def test_defaults_suit_the_embedded_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without environment the settings name the embedded broker and newsflow's topics."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = KafkaSettings()
    assert settings.bootstrap_servers is None
    assert (settings.topic_pages, settings.topic_events, settings.topic_dead_letters) == (
        "pages.raw",
        "articles.events",
        "pages.dlq",
    )
    assert settings.enable_idempotence is False
    assert settings.compression_type is None


def test_bootstrap_has_no_prefix_and_the_rest_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """KAFKA_BOOTSTRAP_SERVERS names the brokers; other fields read NEWSFLOW_KAFKA_<FIELD>."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("NEWSFLOW_KAFKA_PARTITIONS", "12")
    monkeypatch.setenv("NEWSFLOW_KAFKA_COMPRESSION_TYPE", "zstd")
    monkeypatch.setenv("NEWSFLOW_KAFKA_SASL_PASSWORD", "hunter2")
    settings = KafkaSettings()
    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.partitions == 12
    assert settings.compression_type == "zstd"
    assert "hunter2" not in repr(settings)


def test_settings_are_frozen() -> None:
    """A settings object cannot be changed after it is read."""
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:9092")
    with pytest.raises(ValidationError):
        settings.partitions = 3  # type: ignore[misc]


def test_client_kwargs_carry_sasl_credentials() -> None:
    """SASL settings become aiokafka's sasl_* arguments, with the secret revealed only there."""
    settings = KafkaSettings(
        bootstrap_servers="kafka:9093",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="newsflow",
        sasl_password="s3cret",  # type: ignore[arg-type]
    )
    kwargs = settings.client_kwargs()
    assert kwargs["bootstrap_servers"] == "kafka:9093"
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "newsflow"
    assert kwargs["sasl_plain_password"] == "s3cret"


def test_client_kwargs_need_a_bootstrap_address() -> None:
    """Building a client before the embedded broker's address is known is an error."""
    with pytest.raises(ValueError, match="bootstrap_servers"):
        KafkaSettings(bootstrap_servers=None).client_kwargs()
