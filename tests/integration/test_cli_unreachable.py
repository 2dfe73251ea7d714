"""Commands whose Kafka cluster or PostgreSQL nobody listens on: one clear line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsflow.broker import free_port
from newsflow.cli import EX_UNAVAILABLE
from tests.samples import SAMPLE_PAGE

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


def test_an_unreachable_postgresql_is_named_without_a_traceback(tmp_path: Path) -> None:
    """The PostgreSQL sink that cannot connect says so in one line, exit 69."""
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "NEWSFLOW_SINK": "postgres",
        "NEWSFLOW_POSTGRES_DSN": f"postgresql://newsflow@127.0.0.1:{free_port()}/test",
        "NEWSFLOW_METRICS_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "sink"],
        check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == EX_UNAVAILABLE, done.stderr[-3000:]
    assert "newsflow sink: cannot connect to PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_run_whose_sink_cannot_write_says_nothing_landed(tmp_path: Path) -> None:
    """`make run`'s command with PostgreSQL down: exit 1, no claim that articles landed."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"} | {
        "NEWSFLOW_SINK": "postgres",
        "NEWSFLOW_POSTGRES_DSN": f"postgresql://newsflow@127.0.0.1:{free_port()}/test",
        "NEWSFLOW_HTTP_PORT": "0",
        "NEWSFLOW_METRICS_PORT": "0",
        "NEWSFLOW_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "run", "--feed", str(SAMPLE_PAGE),
         "--exit-when-drained", "--drain-timeout", "5"],
        check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    assert "newsflow: 1 pages accepted" in done.stderr
    assert "not everything landed within 5 s" in done.stderr
    assert "landed" not in done.stdout
