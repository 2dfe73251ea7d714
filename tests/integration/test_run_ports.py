"""`newsflow run` and the ports it listens on: taken ones named at once, or given way to.

The last test runs what `make run` runs, as a real process, with ingest's configured port
held by another listener: the sample page still lands and the run says where.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow.broker import free_port, port_is_free
from newsflow.run import PortTaken, RunOptions, resolve_ports
from tests.samples import SAMPLE_PAGE

HOST = "127.0.0.1"
RUN_TIMEOUT_S = 180


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port of 127.0.0.1 something listens on for the length of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_taken_http_port_is_named_with_its_setting(held_port: int) -> None:
    """A port held by another server stops the run before it starts anything."""
    with pytest.raises(PortTaken) as taken:
        resolve_ports(RunOptions(http_port=held_port, metrics_port=0))
    assert f"{HOST}:{held_port}" in str(taken.value)
    assert "NEWSFLOW_HTTP_PORT" in str(taken.value)


def test_a_taken_metrics_port_is_named_with_its_worker(held_port: int) -> None:
    """enrich-0 listens on metrics_port, the sink on the next one: each is checked."""
    options = RunOptions(http_port=free_port(), metrics_port=held_port - 1)
    with pytest.raises(PortTaken) as taken:
        resolve_ports(options)
    assert f"{HOST}:{held_port}, the metrics port of sink" in str(taken.value)
    assert "NEWSFLOW_METRICS_PORT" in str(taken.value)


def test_with_fallback_taken_ports_give_way_to_free_ones(held_port: int) -> None:
    """--free-ports: another HTTP port that is free, and metrics ports picked by each worker."""
    resolved = resolve_ports(RunOptions(http_port=held_port, metrics_port=held_port), fallback=True)
    assert resolved.http_port not in (0, held_port)
    assert port_is_free(resolved.http_port, HOST)
    assert resolved.metrics_port == 0


def test_free_ports_stay_as_configured_and_zero_becomes_a_free_port() -> None:
    """Nothing changes for ports that are free; HTTP port 0 becomes a real one to tell pushers."""
    http = free_port()
    kept = resolve_ports(RunOptions(http_port=http, metrics_port=0))
    assert (kept.http_port, kept.metrics_port) == (http, 0)
    picked = resolve_ports(RunOptions(http_port=0, metrics_port=0))
    assert picked.http_port != 0
    assert port_is_free(picked.http_port, HOST)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "run", *args],
        check=False, capture_output=True, text=True, env=env, cwd=cwd, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip


def _env(tmp_path: Path, http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    return env | {
        "NEWSFLOW_HTTP_PORT": str(http_port),
        "NEWSFLOW_METRICS_PORT": "0",  # every worker on a free port of its own
        "NEWSFLOW_DATA_DIR": str(tmp_path),
    }


def test_newsflow_run_stops_at_once_on_a_taken_port(held_port: int, tmp_path: Path) -> None:
    """Exit 2 with the port named, instead of restarting ingest until a readiness timeout."""
    started = time.monotonic()
    done = _run(
        ["--feed", str(SAMPLE_PAGE), "--exit-when-drained"], _env(tmp_path, held_port), tmp_path
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{HOST}:{held_port}" in done.stderr
    assert "--free-ports" in done.stderr
    assert "embedded broker started" not in done.stderr
    assert time.monotonic() - started < 60  # the readiness wait alone is 60 s
    assert not list(tmp_path.glob("articles/**/*.jsonl"))


def test_make_runs_command_lands_the_sample_with_its_port_taken(
    held_port: int, tmp_path: Path
) -> None:
    """`newsflow run --feed ... --exit-when-drained --free-ports`, as `make run` calls it."""
    done = _run(
        ["--feed", str(SAMPLE_PAGE), "--exit-when-drained", "--free-ports"],
        _env(tmp_path, held_port),
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"ingest on http://{HOST}:{held_port}" not in done.stderr
    assert f"ingest on http://{HOST}:" in done.stderr
    files = list(tmp_path.glob("articles/*/*/*/*.jsonl"))
    assert files, done.stdout
    lines = [line for path in files for line in path.read_text().splitlines()]
    assert len(lines) >= 4  # the sample page's articles at least
    assert str(files[0].relative_to(tmp_path)) in done.stdout
