"""Time spent in garbage collection by `newsflow enrich --pages FILE`, per generation.

Runs the offline command in this process with a `gc.callbacks` hook, with newsflow's
collector settings (`newsflow.heap`) or, with `--default-gc`, CPython's own.

    python -m benchmarks.gc_time PAGES.jsonl [--default-gc]

PAGES.jsonl: e.g. `benchmarks.enrich.write_text_pages` or `benchmarks.pipeline_pages.write_pages`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import time
from typing import Any

from newsflow import cli


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("pages", help="RawPage JSON lines")
    parser.add_argument("--default-gc", action="store_true", help="keep CPython's GC settings")
    args = parser.parse_args()
    if args.default_gc:
        cli.tune_garbage_collector = lambda: None  # type: ignore[attr-defined]  # patched for this run only
    counts = [0, 0, 0]
    seconds = [0.0, 0.0, 0.0]
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            counts[info["generation"]] += 1
            seconds[info["generation"]] += time.perf_counter() - started[0]

    gc.callbacks.append(timed)
    cpu = time.process_time()
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        cli.main(["enrich", "--pages", args.pages])
    cpu = time.process_time() - cpu
    settings = "CPython's defaults" if args.default_gc else "newsflow.heap"
    print(
        f"gc ({settings}, thresholds {gc.get_threshold()}): "
        + ", ".join(f"gen{g} {counts[g]} x {seconds[g]:.2f}s" for g in range(3))
        + f"; total {sum(seconds):.2f}s of {cpu:.2f}s CPU",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
