"""The newsflow image's HEALTHCHECK: GET /healthz of whichever service the container runs.

One image runs ingest, enrich or sink (the command picks), so the probe finds the service
in PID 1's command line (`newsflow enrich`, or `docker-init -- newsflow enrich` under
`--init`) unless one is named as the first argument, and asks the port that service's own
settings read from the same environment: ingest's HTTP port (NEWSFLOW_HTTP_PORT), a
worker's metrics port (NEWSFLOW_METRICS_PORT). Exit status 0 on a 200 answer, 1 otherwise,
as Docker expects.

    python healthcheck.py [ingest|enrich|sink]
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Final

SERVICES: Final = ("ingest", "enrich", "sink")
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::", "[::]"})
_TIMEOUT_S: Final = 3.0


def service_of(argv: Sequence[str]) -> str | None:
    """The newsflow service a command line runs (`run` serves ingest's port), or None."""
    for arg in argv:
        if arg in SERVICES:
            return arg
        if arg == "run":
            return "ingest"
    return None


def probe_url(service: str) -> str:
    """The /healthz URL of `service`, from the settings it reads out of the environment."""
    # Deferred: only the settings of the service being probed are validated and loaded.
    if service == "ingest":
        from services.ingest.settings import IngestSettings  # noqa: PLC0415

        ingest = IngestSettings()
        host, port = ingest.http_host, ingest.http_port
    elif service == "enrich":
        from services.enrich.settings import EnrichSettings  # noqa: PLC0415

        enrich = EnrichSettings()
        host, port = enrich.metrics_host, enrich.metrics_port
    elif service == "sink":
        from services.sink.settings import SinkSettings  # noqa: PLC0415

        sink = SinkSettings()
        host, port = sink.metrics_host, sink.metrics_port
    else:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    if port == 0:
        raise ValueError(f"{service} picks a free port (0): no fixed port to probe")
    # A wildcard bind answers on loopback; a specific address is probed where it listens.
    host = "127.0.0.1" if host in _WILDCARDS else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/healthz"


def healthy(url: str, timeout: float = _TIMEOUT_S) -> bool:
    """True when GET `url` answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: Sequence[str]) -> int:
    """Probe the named service, or the one PID 1 runs; 0 when healthy."""
    service = service_of(argv[:1])
    if service is None:
        pid1 = Path("/proc/1/cmdline").read_bytes().decode(errors="replace").split("\0")
        service = service_of(pid1)
    if service is None:
        print("healthcheck: no newsflow service named or running as PID 1", file=sys.stderr)
        return 1
    try:
        url = probe_url(service)
    except ValueError as exc:  # invalid settings are unhealthy, never a traceback
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    if healthy(url):
        return 0
    print(f"healthcheck: {service} did not answer 200 at {url}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
