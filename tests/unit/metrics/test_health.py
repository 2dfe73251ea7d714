"""Worker probes: the liveness tick, the readiness parts, and the WSGI app serving them."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any
from wsgiref.types import WSGIApplication
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from newsflow.health import STALE_AFTER_S, Health, Probe, beating, drain_on_signals, probe_app


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _get(app: WSGIApplication, path: str, method: str = "GET") -> tuple[int, str]:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": method}
    setup_testing_defaults(environ)
    statuses: list[str] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None, /
    ) -> Callable[[bytes], object]:
        statuses.append(status)
        return lambda data: None

    text = b"".join(app(environ, start_response)).decode()
    return int(statuses[0].split()[0]), text


def test_liveness_holds_while_ticks_are_recent_and_fails_after_thirty_seconds() -> None:
    """A fresh Health is live; without a beat for over 30 s it is not; a beat revives it."""
    clock = _Clock()
    health = Health(("consumer",), monotonic=clock)
    assert health.liveness() == Probe(True, "ok")
    clock.now += STALE_AFTER_S
    assert health.liveness().ok
    clock.now += 1.5
    assert health.liveness() == Probe(False, "event loop stalled: last tick 31.5 s ago")
    health.beat()
    assert health.liveness().ok


def test_readiness_waits_for_every_part_and_ends_at_drain() -> None:
    """Not ready until each part started; ready then; not ready again once draining."""
    health = Health(("publisher", "consumer"), monotonic=_Clock())
    assert health.readiness() == Probe(False, "starting: waiting for consumer, publisher")
    health.started("publisher")
    assert health.readiness() == Probe(False, "starting: waiting for consumer")
    health.started("consumer")
    health.started("consumer")  # every rebalance reports the consumer again
    assert health.readiness() == Probe(True, "ready")
    health.drain()
    assert health.readiness() == Probe(False, "draining")
    health.started("consumer")
    assert not health.readiness().ok


def test_an_unknown_part_is_refused() -> None:
    """Starting a part the worker does not wait for is a programming error, not a no-op."""
    health = Health(("writer",))
    with pytest.raises(ValueError, match="unknown part 'consumer'"):
        health.started("consumer")


def test_the_app_routes_metrics_probes_and_everything_else() -> None:
    """/metrics is the registry, /healthz and /readyz follow Health, other paths are 404."""
    registry = CollectorRegistry()
    Counter("newsflow_sink_demo_total", "A counter.", registry=registry).inc(2)
    clock = _Clock()
    health = Health(("consumer",), monotonic=clock)
    app = probe_app(registry, health)

    status, text = _get(app, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["newsflow_sink_demo"].samples[0].value == 2
    assert _get(app, "/healthz") == (200, "ok\n")
    assert _get(app, "/readyz") == (503, "starting: waiting for consumer\n")
    health.started("consumer")
    assert _get(app, "/readyz") == (200, "ready\n")
    clock.now += STALE_AFTER_S + 1
    assert _get(app, "/healthz")[0] == 503
    for path in ("/", "/healthz/", "/metrics/x", "/favicon.ico", "/ready"):
        assert _get(app, path) == (404, "not found\n"), path


def test_probes_answer_head_without_a_body_and_refuse_other_methods() -> None:
    """HEAD gets the status alone; POST on a probe path is 405."""
    health = Health(())
    app = probe_app(CollectorRegistry(), health)
    assert _get(app, "/readyz", "HEAD") == (200, "")
    assert _get(app, "/healthz", "POST") == (405, "use GET or HEAD\n")


def test_without_health_only_metrics_is_served() -> None:
    """An app built without Health answers the probe paths with 404, not with metrics."""
    app = probe_app(CollectorRegistry())
    assert _get(app, "/metrics")[0] == 200
    assert _get(app, "/healthz")[0] == 404
    assert _get(app, "/readyz")[0] == 404


async def test_beating_stamps_the_tick_from_the_loop_until_left() -> None:
    """Inside `beating` the tick follows the clock; after leaving, it stops and goes stale."""
    clock = _Clock()
    health = Health((), monotonic=clock)
    async with beating(health, interval=0.01):
        clock.now += 100.0
        await asyncio.sleep(0.05)
        assert health.liveness().ok
    clock.now += 100.0
    await asyncio.sleep(0.05)
    assert not health.liveness().ok


async def test_sigterm_marks_draining_and_requests_the_stop() -> None:
    """SIGTERM makes readiness fail and calls the stop function on the loop."""
    health = Health(())
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    drain_on_signals(health, stopped.set)
    try:
        assert health.readiness().ok
        os.kill(os.getpid(), signal.SIGTERM)
        async with asyncio.timeout(5):
            await stopped.wait()
        assert health.readiness() == Probe(False, "draining")
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        loop.remove_signal_handler(signal.SIGINT)
