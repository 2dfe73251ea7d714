"""The two limits the streaming pipeline is compared with, over the very same pages.

- Compute: offline `newsflow enrich --pages FILE` (no broker, in-memory dedupe store), as
  `benchmarks.enrich` runs it: one process pinned to one CPU; and `processes` of them at
  once, each over a contiguous share of the file and pinned to its own CPU (round robin),
  timed until the last one ends. The pipeline with K enrich workers is held against the
  K-process figure measured on this machine, which already pays for sharing the cores.
- Transport: `benchmarks.passthrough.backlog_rate`, a bare aiokafka consume -> parse the
  envelope -> produce one small event per page -> commit loop, on a broker of its own.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.enrich import NEWSFLOW
from benchmarks.passthrough import BacklogResult, backlog_rate
from benchmarks.pipeline_pages import read_lines

__all__ = ["BacklogResult", "OfflineRate", "bracketing", "offline_enrich", "passthrough_rate"]


@dataclass(frozen=True, slots=True)
class OfflineRate:
    """Offline enrich over a pages file with `processes` processes at once."""

    processes: int
    pages: int
    seconds: float
    events: int
    peak_rss_kib: int
    """The largest peak RSS among the processes."""
    cpu_s: float
    """User + system CPU seconds of all the processes."""

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


def bracketing(before: OfflineRate, after: OfflineRate) -> OfflineRate:
    """One offline figure from runs just before and just after what it is held against.

    The time and the CPU are the means of the two runs (so the rate is their harmonic
    mean): a machine that speeds up or slows down steadily during the pipeline's runs moves
    both halves, and the mean is what it was in the middle.
    """
    if (before.processes, before.pages) != (after.processes, after.pages):
        raise ValueError("bracketing runs must be of the same pages and processes")
    return OfflineRate(
        before.processes,
        before.pages,
        (before.seconds + after.seconds) / 2,
        before.events,
        max(before.peak_rss_kib, after.peak_rss_kib),
        (before.cpu_s + after.cpu_s) / 2,
    )


def _split(path: Path, parts: int, into: Path) -> list[Path]:
    lines = read_lines(path)
    size = -(-len(lines) // parts)
    paths = []
    for index in range(parts):
        part = into / f"part-{index}.jsonl"
        part.write_bytes(
            b"".join(line + b"\n" for line in lines[index * size : (index + 1) * size])
        )
        paths.append(part)
    return paths


def _reap(child: subprocess.Popen[bytes], deadline: float) -> resource.struct_rusage:
    """Wait for `child` until `deadline` (monotonic); its own rusage.

    wait4 gives this child's rusage (RUSAGE_CHILDREN would be a max over all children).
    """
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                raise RuntimeError(f"{child.args!r} exited with {child.returncode}")
            return usage
        if time.monotonic() > deadline:
            raise TimeoutError(f"{child.args!r} did not finish in time")
        time.sleep(0.05)


def offline_enrich(
    path: Path, pages: int, processes: int = 1, *, timeout_s: float = 3600.0
) -> OfflineRate:
    """Run `newsflow enrich --pages` over `path` (split in `processes` parts, run at once)."""
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="newsflow-offline-") as tmp:
        parts = [path] if processes == 1 else _split(path, processes, Path(tmp))
        outputs = [Path(tmp) / f"out-{i}.jsonl" for i in range(len(parts))]
        children: list[subprocess.Popen[bytes]] = []
        started = time.perf_counter()
        for index, (part, output) in enumerate(zip(parts, outputs, strict=True)):
            command = [str(NEWSFLOW), "enrich", "--pages", str(part)]
            if shutil.which("taskset"):
                command = ["taskset", "-c", str(cpus[index % len(cpus)]), *command]
            with output.open("wb") as out:
                children.append(subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL))
        peak, cpu = 0, 0.0
        deadline = time.monotonic() + timeout_s
        try:
            for child in children:
                usage = _reap(child, deadline)
                peak = max(peak, usage.ru_maxrss)
                cpu += usage.ru_utime + usage.ru_stime
        finally:
            for child in children:
                if child.returncode is None:
                    child.kill()
                    child.wait()
        seconds = time.perf_counter() - started
        events = 0
        for output in outputs:
            with output.open("rb") as handle:
                events += sum(1 for _ in handle)
    return OfflineRate(processes, pages, seconds, events, peak, cpu)


async def passthrough_rate(path: Path) -> BacklogResult:
    """The bare transport's backlog drain rate over the pages of `path`."""
    return await backlog_rate(read_lines(path))
