"""Suite-wide set-up: the language model loads once, through the same cache the services use."""

from __future__ import annotations

from services.enrich.language import load_language_model
from services.enrich.settings import EnrichSettings


def pytest_sessionstart() -> None:
    """Load the detector's model before any test, as every enrich process does at start."""
    load_language_model(EnrichSettings().model_cache_dir)
