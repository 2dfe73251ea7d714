"""`newsflow run` stopped as a terminal stops it: Ctrl-C signals the whole process group.

Every process of the run's group gets SIGINT at once, the embedded broker among them unless
it sits in a session of its own. The pages accepted just before must still land: the run
drains through the broker, then stops it, and exits 0 without a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

from newsflow.broker import free_port
from tests.integration.pipeline.pages import offline, pages_without_near_duplicates

RUN_TIMEOUT_S = 180
RUNNING = "newsflow: running; Ctrl-C drains and stops"


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} within {RUN_TIMEOUT_S} s"
        time.sleep(0.1)


@contextlib.contextmanager
def _running(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`newsflow run` in a process group of its own, as a shell starts a foreground job,
    once it says it runs; its group is killed if the test leaves it running."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"} | {
        "NEWSFLOW_HTTP_PORT": str(port),
        "NEWSFLOW_METRICS_PORT": "0",
        "NEWSFLOW_DATA_DIR": str(tmp_path),
    }
    with (tmp_path / "stderr.log").open("wb") as err:
        run = subprocess.Popen(
            [sys.executable, "-m", "newsflow.cli", "run"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, process_group=0,
        )  # fmt: skip
    try:
        _wait_for(tmp_path / "stderr.log", RUNNING, run)
        yield run
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def test_ctrl_c_drains_the_pages_accepted_just_before_then_stops(tmp_path: Path) -> None:
    """SIGINT to the run's process group right after a 202: those pages' articles land."""
    pages = pages_without_near_duplicates(20, seed=7)
    expected = asyncio.run(offline(pages))
    port = free_port()
    with _running(tmp_path, port) as run:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as http:
            answer = http.post(
                "/v1/pages/batch",
                content=b"".join(orjson.dumps(page) + b"\n" for page in pages),
                headers={"content-type": "application/x-ndjson"},
            )
        assert answer.status_code == 202, answer.text
        os.killpg(run.pid, signal.SIGINT)
        returncode = run.wait(timeout=RUN_TIMEOUT_S)
    log = (tmp_path / "stderr.log").read_text(errors="replace")
    assert returncode == 0, log[-3000:]
    assert "Traceback" not in log
    assert "newsflow: draining" in log
    lines = [
        orjson.loads(line)
        for path in tmp_path.glob("articles/*/*/*/*.jsonl")
        for line in path.read_bytes().splitlines()
    ]
    originals = {e.event_id for e in expected.events if e.duplicate_of is None}
    assert originals
    assert {line["event_id"] for line in lines} == originals
    assert len(lines) == len(originals)


def _embedded_broker_pid(run: subprocess.Popen[bytes]) -> int:
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    for pid in children:
        if b"--storage-engine" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return int(pid)
    raise AssertionError(f"no embedded broker among the children {children}")


def _wait_until_dead(pid: int) -> None:
    """Until `pid` has exited (a zombie its parent has not reaped yet counts)."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 10
    while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.01)


def test_a_broker_gone_before_ctrl_c_is_reported_and_the_run_exits_1(tmp_path: Path) -> None:
    """Nothing to drain through: the run says what was lost, stops the rest, exits 1."""
    with _running(tmp_path, free_port()) as run:
        broker = _embedded_broker_pid(run)
        os.kill(broker, signal.SIGKILL)
        _wait_until_dead(broker)
        os.killpg(run.pid, signal.SIGINT)
        started = time.monotonic()
        returncode = run.wait(timeout=RUN_TIMEOUT_S)
    log = (tmp_path / "stderr.log").read_text(errors="replace")
    assert returncode == 1, log[-3000:]
    assert "Traceback" not in log
    assert "the embedded broker exited before the drain ended" in log
    assert time.monotonic() - started < 30  # no drain timeout (120 s), no stop timeouts (20 s)
