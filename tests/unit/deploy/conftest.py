"""The deploy tests' fixture: a deploy file's environment applied to this process."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.unit.deploy.files import ApplyEnv


@pytest.fixture
def service_env(monkeypatch: pytest.MonkeyPatch) -> ApplyEnv:
    """Apply a service's variables to this process's environment for the test's duration,
    so its settings classes read them exactly as the container would."""

    def apply(values: Mapping[str, str]) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return apply
