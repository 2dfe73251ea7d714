"""Benchmark of offline enrich: text and HTML pages per second on one core, and peak memory.

Runs `newsflow enrich --pages FILE` as a child process pinned to one CPU (taskset) over
generated files, so the figure includes start-up, JSON parsing, the whole core, dedupe and
serialisation, as a user would see it. Memory: the child's peak RSS, for two input sizes, to
show it is bounded by the dedupe window rather than by the input.

    python -m benchmarks.enrich [--text-pages 1000] [--html-pages 200]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from benchmarks.corpus import generate_pages

ROOT = Path(__file__).resolve().parents[1]
HTML_FIXTURES = ROOT / "tests" / "fixtures" / "html"
NEWSFLOW = Path(sys.executable).with_name("newsflow")


_FILLER = (
    "council",
    "budget",
    "harbour",
    "ministers",
    "storm",
    "rail",
    "vote",
    "talks",
    "court",
    "energy",
    "prices",
    "river",
    "election",
    "strike",
    "hospital",
    "bridge",
    "police",
    "farmers",
    "market",
    "weather",
    "report",
)

FETCH_STEP = timedelta(minutes=10)
"""Pages are spread in fetch time like a steady crawl: 1,000 pages span about a week, the
default dedupe window, so a larger file shows whether memory follows the window or the input."""


def write_text_pages(path: Path, count: int, seed: int = 7) -> None:
    """`count` generated aggregator text pages as RawPage JSON lines, one per FETCH_STEP."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("wb") as out:
        for index, generated in enumerate(generate_pages(count, seed=seed)):
            page = {**generated.page, "fetched_at": (start + index * FETCH_STEP).isoformat()}
            out.write(orjson.dumps(page) + b"\n")


def write_html_pages(path: Path, count: int, seed: int = 7) -> None:
    """`count` HTML pages made from the test fixtures, each with its own words shuffled in."""
    rng = random.Random(seed)
    fixtures = sorted(HTML_FIXTURES.glob("*.html"))
    if not fixtures:
        raise SystemExit(f"no HTML fixtures under {HTML_FIXTURES}")
    sources = [f.read_text(encoding="utf-8") for f in fixtures]
    fetched = datetime(2025, 6, 21, 18, tzinfo=UTC)
    with path.open("wb") as out:
        for index in range(count):
            html = sources[index % len(sources)]
            # Vary every paragraph so that dedupe sees distinct articles, as in real traffic.
            html = re.sub(
                r"<p>",
                lambda _: "<p>" + " ".join(rng.choices(_FILLER, k=12)) + ". ",
                html,
            )
            page = {
                "page_id": f"bench-html-{index}",
                "url": f"https://news.example/{index}",
                "source": "bench",
                "fetched_at": (fetched + timedelta(seconds=index)).isoformat(),
                "content_type": "text/html",
                "body": html,
            }
            out.write(orjson.dumps(page) + b"\n")


# Runs the command and prints its peak RSS. A process forked from this one starts with this
# one's resident pages (the generated corpus) counted in its peak; a small fresh interpreter
# in between makes the figure the enrich process's own.
_PEAK_RSS = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def run_enrich(pages: Path) -> tuple[float, int, int]:
    """Seconds, peak RSS in KiB and event count of one pinned `newsflow enrich` run."""
    command = [str(NEWSFLOW), "enrich", "--pages", str(pages), "--include-duplicates"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, *command],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited with {done.returncode}")
        out.seek(0)
        events = sum(1 for _ in out)
    return elapsed, int(done.stderr.split()[-1]), events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-pages", type=int, default=1000)
    parser.add_argument("--html-pages", type=int, default=200)
    parser.add_argument(
        "--memory-factor",
        type=int,
        default=10,
        help="also run text-pages x this, to compare peak memory with the input size",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        text, html = Path(tmp) / "text.jsonl", Path(tmp) / "html.jsonl"
        big = Path(tmp) / "text-big.jsonl"
        write_text_pages(text, args.text_pages)
        write_html_pages(html, args.html_pages)
        big_count = args.text_pages * args.memory_factor
        write_text_pages(big, big_count)
        runs = (
            ("html", html, args.html_pages),
            ("text", text, args.text_pages),
            ("text", big, big_count),
        )
        for label, path, count in runs:
            seconds, peak, events = run_enrich(path)
            print(
                f"{label:5} pages={count:6} events={events:6} seconds={seconds:7.2f} "
                f"pages/s={count / seconds:8.1f} peak_rss_mib={peak / 1024:7.1f}"
            )


if __name__ == "__main__":
    main()
