"""Commands pointed at a Kafka cluster nobody listens on: one clear line and exit 69."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsflow.broker import free_port
from newsflow.cli import EX_UNAVAILABLE

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("command", ["run", "enrich", "sink", "tail"])
def test_an_unreachable_cluster_is_named_without_a_traceback(command: str, tmp_path: Path) -> None:
    """The address and the setting's value are named; no traceback, no unclosed client."""
    address = f"127.0.0.1:{free_port()}"  # free: nothing listens there
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": address,
        "NEWSFLOW_DATA_DIR": str(tmp_path),
        "NEWSFLOW_HTTP_PORT": "0",
        "NEWSFLOW_METRICS_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", command],
        check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == EX_UNAVAILABLE, done.stderr[-3000:]
    assert f"newsflow {command}: cannot reach Kafka at {address}" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Unclosed" not in done.stderr
