"""Ingest settings: environment names, token lists, defaults, bounds that must admit a request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingest import IngestSettings


def test_defaults_serve_loopback_with_five_mib_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without environment: 127.0.0.1:8080, 5 MiB pages, 1,000-page batches, no auth."""
    for name in ("NEWSFLOW_HTTP_HOST", "NEWSFLOW_HTTP_PORT", "NEWSFLOW_INGEST_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    settings = IngestSettings()
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.max_page_bytes == 5 * 1024 * 1024
    assert settings.max_batch_pages == 1000
    assert settings.ingest_tokens == ()


def test_environment_sets_fields_and_splits_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """NEWSFLOW_* variables set the fields; NEWSFLOW_INGEST_TOKENS is a comma list of secrets."""
    monkeypatch.setenv("NEWSFLOW_HTTP_PORT", "9090")
    monkeypatch.setenv("NEWSFLOW_INGEST_TOKENS", " alpha, beta ,,")
    settings = IngestSettings()
    assert settings.http_port == 9090
    assert [token.get_secret_value() for token in settings.ingest_tokens] == ["alpha", "beta"]
    assert "alpha" not in repr(settings)


def test_settings_are_frozen() -> None:
    """Settings read once cannot be changed afterwards."""
    settings = IngestSettings()
    with pytest.raises(ValidationError):
        settings.http_port = 1  # type: ignore[misc]


def test_in_flight_bounds_below_one_request_are_refused() -> None:
    """In-flight bounds smaller than the largest allowed request would 503 forever: refused."""
    with pytest.raises(ValidationError, match="max_in_flight_bytes"):
        IngestSettings(max_page_bytes=10_000_000, max_in_flight_bytes=5_000_000)
    with pytest.raises(ValidationError, match="max_in_flight_pages"):
        IngestSettings(max_batch_pages=100, max_in_flight_pages=10)
