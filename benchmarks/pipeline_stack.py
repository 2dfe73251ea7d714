"""One `newsflow run` pipeline for a benchmark phase: fresh broker, temp data dir, watches.

`BenchStack` starts `newsflow.run.Pipeline` on a new embedded broker (loopback, free port)
with the JSONL sink and the SQLite dedupe store in a temporary directory, and two
`CommitWatch`es: the enrich group on `pages.raw`, the sink group on `articles.events`. It
can start with no enrich worker and add them later (`start_enrich`), which is how the
drain phase fills the raw topic first. Services log at WARNING so the report stays
readable (their INFO lines are a handful per process, so this changes no figure).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from benchmarks.pipeline_probe import CommitWatch
from benchmarks.pipeline_proc import child_pids, service_cpu, service_memory
from newsflow.broker import free_port
from newsflow.run import Pipeline, RunOptions
from newsflow.settings import KafkaSettings


class BenchStack:
    """A pipeline in a temporary directory, torn down on exit."""

    def __init__(
        self,
        *,
        enrich_workers: int,
        sink_watch_s: float = 0.1,
        enrich_watch_s: float = 0.1,
        drain_timeout: float = 30.0,
    ) -> None:
        # The watches poll the broker from this process, on the cores the services share:
        # every 20 ms that cost 0.1 ms of this process's CPU and 0.05 ms of the broker's a page.
        self._tmp = tempfile.TemporaryDirectory(prefix="newsflow-bench-")
        self.data_dir = Path(self._tmp.name)
        self.extra_env = {
            "NEWSFLOW_DATA_DIR": str(self.data_dir),
            "NEWSFLOW_SINK": "jsonl",
            "NEWSFLOW_DEDUPE_STORE": "sqlite",
            # Warnings are per page (a page without articles): thousands of lines in a report.
            "NEWSFLOW_LOG_LEVEL": "ERROR",
            # Any free port: fixed metrics ports would collide with a `newsflow run` nearby.
            "NEWSFLOW_METRICS_PORT": "0",
        }
        self.options = RunOptions(
            enrich_workers=enrich_workers,
            http_port=free_port(),
            drain_timeout=drain_timeout,
            env=self.extra_env,
            metrics_port=0,
        )
        # bootstrap_servers=None: always the embedded broker, whatever the environment says.
        self.pipeline = Pipeline(KafkaSettings(bootstrap_servers=None), self.options)
        self._watch_s = (enrich_watch_s, sink_watch_s)
        self._url_dir = self.data_dir / "metrics-urls"
        self.enrich_watch: CommitWatch | None = None
        self.sink_watch: CommitWatch | None = None
        self._enrich_started = 0

    @property
    def kafka(self) -> KafkaSettings:
        return self.pipeline.kafka

    @property
    def base_url(self) -> str:
        return self.pipeline.base_url

    async def start(self) -> None:
        await self.pipeline.start()
        self._enrich_started = self.options.enrich_workers
        k = self.kafka
        self.enrich_watch = CommitWatch(
            k, self.options.enrich_group, k.topic_pages, self._watch_s[0]
        )
        self.sink_watch = CommitWatch(k, self.options.sink_group, k.topic_events, self._watch_s[1])
        await self.enrich_watch.start()
        await self.sink_watch.start()

    async def start_enrich(self, count: int) -> None:
        """Start `count` more enrich processes, as `Pipeline.start` does."""
        assert self.kafka.bootstrap_servers is not None
        env = {
            **os.environ,
            **self.extra_env,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
        }
        argv = [sys.executable, "-m", "newsflow.cli", "enrich"]
        self._url_dir.mkdir(exist_ok=True)
        for _ in range(count):
            name = f"enrich-{self._enrich_started}"
            url_file = {"NEWSFLOW_METRICS_URL_FILE": str(self._url_dir / f"{name}.url")}
            await self.pipeline.supervisor.start(name, argv, {**env, **url_file})
            self._enrich_started += 1

    def metrics_urls(self) -> dict[str, str]:
        """Every service's /metrics URL, the enrich workers started late included."""
        urls = self.pipeline.metrics_urls()
        for path in self._url_dir.glob("*.url"):
            urls.setdefault(path.stem, path.read_text(encoding="utf-8").strip())
        return urls

    def pids(self) -> dict[str, int]:
        """Service name -> pid of the supervised children and the broker."""
        pids = {
            name: child.process.pid
            for name, child in self.pipeline.supervisor.children.items()
            if child.process is not None and child.process.returncode is None
        }
        known = set(pids.values())
        others = [pid for pid in child_pids(os.getpid()) if pid not in known]
        if len(others) == 1:
            pids["broker"] = others[0]
        return pids

    def memory(self) -> dict[str, int]:
        """Service name -> VmHWM (KiB) now; read before the services stop."""
        return service_memory(self.pids())

    def cpu(self) -> dict[str, float]:
        """Service name -> CPU seconds used so far; "bench" is this process (push, watches)."""
        own = os.times()
        return {**service_cpu(self.pids()), "bench": own.user + own.system}

    def restarts(self) -> int:
        """Service restarts by the supervisor so far (each resets that service's VmHWM)."""
        return sum(child.restarts for child in self.pipeline.supervisor.children.values())

    def jsonl_lines(self) -> int:
        """Complete lines in the sink's JSONL files: the article events written."""
        lines = 0
        for path in (self.data_dir / "articles").rglob("*.jsonl"):
            with path.open("rb") as handle:
                lines += sum(1 for line in handle if line.endswith(b"\n"))
        return lines

    async def stop(self) -> None:
        for watch in (self.enrich_watch, self.sink_watch):
            if watch is not None:
                await watch.stop()
        await self.pipeline.drain_and_stop()

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.pipeline.kill()
            self._tmp.cleanup()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                await self.stop()
            else:
                for watch in (self.enrich_watch, self.sink_watch):
                    if watch is not None:
                        await watch.stop()
                await self.pipeline.kill()
        finally:
            self._tmp.cleanup()
