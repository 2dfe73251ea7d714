"""A real Prometheus server for the deploy tests: own free loopback port, config and storage.

`ensure_prometheus` installs the Debian package through deploy/scripts/ensure-prometheus.sh
when the binaries are missing; a system Prometheus the package may run on :9090 is never
used. `running_prometheus` starts `prometheus` with the given config in a temporary
directory and always stops it (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from newsflow.broker import die_with_parent
from tests.unit.deploy.files import DEPLOY

INSTALL_TIMEOUT_S = 600.0
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def ensure_prometheus() -> None:
    """Make `prometheus` and `promtool` available, or fail the test saying why."""
    if shutil.which("prometheus") and shutil.which("promtool"):
        return
    script = DEPLOY / "scripts" / "ensure-prometheus.sh"
    done = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0 or not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.fail(f"{script} could not provide prometheus and promtool:\n{done.stderr[-2000:]}")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool with `args`; the completed process, whatever its exit status."""
    return subprocess.run(
        ["promtool", *args], capture_output=True, text=True, timeout=120, check=False
    )


@dataclass(frozen=True)
class PrometheusApi:
    """The HTTP API of one running Prometheus."""

    base_url: str
    http: httpx.AsyncClient

    async def get(self, path: str, **params: str | float) -> Any:
        """GET an /api/v1 path; the `data` of a success answer (fails the test otherwise)."""
        answer = await self.http.get(f"{self.base_url}/api/v1/{path}", params=params)
        body = answer.json()
        assert answer.status_code == 200, (path, params, body)
        assert body["status"] == "success", (path, params, body)
        assert not body.get("warnings"), (path, params, body["warnings"])
        return body["data"]


@asynccontextmanager
async def running_prometheus(
    config: dict[str, Any], workdir: Path, port: int
) -> AsyncIterator[PrometheusApi]:
    """Prometheus serving `config` on 127.0.0.1:`port` (pick it with `free_port`), its TSDB
    under `workdir`."""
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    checked = promtool("check", "config", str(config_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the wait below is async
        [
            "prometheus",
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,  # noqa: PLW1509 - prctl only: never outlive the tests
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=10.0) as http:
            await _until_ready(process, http, base_url, workdir / "prometheus.log")
            yield PrometheusApi(base_url, http)
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        log.close()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _until_ready(
    process: subprocess.Popen[bytes], http: httpx.AsyncClient, base_url: str, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited: {await asyncio.to_thread(_tail, log)}")
        try:
            if (await http.get(f"{base_url}/-/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"prometheus not ready in {START_TIMEOUT_S} s: {await asyncio.to_thread(_tail, log)}"
    )
