"""Liveness and readiness of a worker process, and the WSGI app that serves them with /metrics.

enrich and sink have no HTTP app of their own, so their metrics port answers the probes
(Kubernetes' startup, liveness and readiness probes, the image's HEALTHCHECK):

- `GET /healthz`: 200 while the event loop has ticked within `stale_after_s` (`beating`
  stamps a monotonic time every second from a task on the loop), 503 once it has not: a
  stuck loop answers neither batches nor the group's heartbeats, so a restart is due.
- `GET /readyz`: 200 once every part the worker waits for has started (its consumer has
  joined the group, its publisher or writer is up), 503 while starting and once draining
  after SIGTERM.
- `GET /metrics`: the registry, through prometheus_client's WSGI app; any other path, 404.

`Health` is written on the event loop and read from the HTTP server's threads. Its state
is one float and two values replaced whole (a frozenset, a bool), so a reader never sees a
half-made update and needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Final, NamedTuple
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CollectorRegistry, make_wsgi_app

STALE_AFTER_S: Final = 30.0
"""How long the event loop may go without a tick before /healthz answers 503."""
BEAT_INTERVAL_S: Final = 1.0
"""How often `beating` stamps the tick."""
_PROBE_METHODS: Final = frozenset({"GET", "HEAD"})


class Probe(NamedTuple):
    """One probe's answer: whether it passes, and a short line saying why."""

    ok: bool
    detail: str


class Health:
    """The liveness tick and the readiness parts of one worker process."""

    def __init__(
        self,
        waits_for: Iterable[str],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self._parts = frozenset(waits_for)
        self._waiting = self._parts
        self._draining = False
        self._monotonic = monotonic
        self._stale_after_s = stale_after_s
        # A process that just built its Health is alive: the first probe may precede the first beat.
        self._last_tick = monotonic()

    def beat(self) -> None:
        """Record that the event loop is running now."""
        self._last_tick = self._monotonic()

    def started(self, part: str) -> None:
        """Record that `part` (one of `waits_for`) is up; ready once every part is."""
        if part not in self._parts:
            raise ValueError(f"unknown part {part!r}; expected one of {sorted(self._parts)}")
        self._waiting = self._waiting - {part}

    def drain(self) -> None:
        """Record that the worker is stopping: not ready again for the rest of its life."""
        self._draining = True

    def liveness(self) -> Probe:
        """Passes while the last tick is at most `stale_after_s` old."""
        age = self._monotonic() - self._last_tick
        if age <= self._stale_after_s:
            return Probe(True, "ok")
        return Probe(False, f"event loop stalled: last tick {age:.1f} s ago")

    def readiness(self) -> Probe:
        """Passes once every part has started, until `drain`."""
        if self._draining:
            return Probe(False, "draining")
        waiting = self._waiting
        if waiting:
            return Probe(False, f"starting: waiting for {', '.join(sorted(waiting))}")
        return Probe(True, "ready")


def probe_app(registry: CollectorRegistry, health: Health | None = None) -> WSGIApplication:
    """WSGI app: /metrics from `registry`, /healthz and /readyz from `health`, else 404.

    Without `health` only /metrics is served (the probe paths answer 404 too).
    """
    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            result: Iterable[bytes] = metrics(environ, start_response)
            return result
        if health is None or path not in ("/healthz", "/readyz"):
            return _text(environ, start_response, 404, "not found")
        if environ.get("REQUEST_METHOD") not in _PROBE_METHODS:
            return _text(environ, start_response, 405, "use GET or HEAD")
        probe = health.liveness() if path == "/healthz" else health.readiness()
        return _text(environ, start_response, 200 if probe.ok else 503, probe.detail)

    return app


_REASONS: Final = {
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


def _text(
    environ: WSGIEnvironment, start_response: StartResponse, status: int, detail: str
) -> list[bytes]:
    body = (detail + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    if status == 405:
        headers.append(("Allow", "GET, HEAD"))
    start_response(f"{status} {_REASONS[status]}", headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


async def _beat(health: Health, interval: float) -> None:
    while True:
        health.beat()
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def beating(health: Health, *, interval: float = BEAT_INTERVAL_S) -> AsyncIterator[None]:
    """Stamp `health`'s tick every `interval` s from a task on the running loop while inside."""
    task = asyncio.create_task(_beat(health, interval), name="health-beat")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def drain_on_signals(health: Health, stop: Callable[[], None]) -> None:
    """Make SIGTERM and SIGINT mark `health` draining, then call `stop` (from the running loop).

    Used instead of `BatchConsumer.install_signal_handlers`, which only stops.
    """

    def on_signal() -> None:
        health.drain()
        stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
