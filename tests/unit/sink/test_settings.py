"""SinkSettings: environment parsing, defaults, and the writer they select."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.sink import JsonlWriter, PostgresWriter, SinkSettings, make_writer


@pytest.fixture(autouse=True)
def _no_newsflow_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SinkSettings.model_fields:
        monkeypatch.delenv(f"NEWSFLOW_{name.upper()}", raising=False)


def test_defaults_write_jsonl_under_data() -> None:
    """Without environment the sink writes JSONL under ./data."""
    settings = SinkSettings()
    assert settings.sink == "jsonl"
    assert settings.data_dir == Path("data")
    assert isinstance(make_writer(settings), JsonlWriter)


def test_environment_selects_postgres_and_hides_the_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    """NEWSFLOW_SINK=postgres with a DSN builds a PostgresWriter; the DSN never prints."""
    monkeypatch.setenv("NEWSFLOW_SINK", "postgres")
    monkeypatch.setenv("NEWSFLOW_POSTGRES_DSN", "postgresql://u:hunter2@db:5432/news")
    monkeypatch.setenv("NEWSFLOW_SINK_BATCH_MAX", "200")
    settings = SinkSettings()
    assert "hunter2" not in repr(settings)
    assert settings.sink_batch_max == 200
    assert isinstance(make_writer(settings), PostgresWriter)


def test_postgres_without_a_dsn_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Choosing PostgreSQL without NEWSFLOW_POSTGRES_DSN fails at startup, not at first write."""
    monkeypatch.setenv("NEWSFLOW_SINK", "postgres")
    with pytest.raises(ValidationError, match="NEWSFLOW_POSTGRES_DSN"):
        SinkSettings()


def test_unknown_sink_and_bad_numbers_are_refused() -> None:
    """Only jsonl and postgres are sinks; the batch size is at least one."""
    with pytest.raises(ValidationError):
        SinkSettings(sink="kafka")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SinkSettings(sink_batch_max=0)


def test_settings_are_frozen() -> None:
    """Settings are read once and cannot be changed afterwards."""
    settings = SinkSettings()
    with pytest.raises(ValidationError):
        settings.sink_batch_max = 5  # type: ignore[misc]
