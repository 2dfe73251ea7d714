"""The `newsflow` command: one entry point, a subcommand per service or tool."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from newsflow.logs import configure_logging


def _cmd_enrich(args: argparse.Namespace) -> int:
    from services.enrich.settings import EnrichSettings

    settings = EnrichSettings()
    configure_logging("enrich", settings.log_level)
    if args.pages is None:
        print("newsflow enrich: the streaming worker is not available yet; use --pages", file=sys.stderr)
        return 2
    from services.enrich.dedupe import Deduper, InMemoryDedupeStore
    from services.enrich.offline import enrich_lines
    from services.enrich.process import PageProcessor

    deduper = Deduper(
        InMemoryDedupeStore(), window=settings.dedupe_window, threshold=settings.dedupe_threshold
    )
    processor = PageProcessor(deduper)
    path: Path = args.pages
    with (sys.stdin if str(path) == "-" else path.open(encoding="utf-8")) as lines:
        summary = asyncio.run(
            enrich_lines(
                lines,
                processor,
                sys.stdout,
                sys.stderr,
                include_duplicates=args.include_duplicates,
                origin=str(path),
            )
        )
    if args.summary:
        print(
            f"pages={summary.pages} events={summary.events} duplicates={summary.duplicates} "
            f"dead_letters={summary.dead_letters}",
            file=sys.stderr,
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow", description="Event-driven ingestion of news pages."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    enrich = commands.add_parser(
        "enrich", help="split, date and dedupe pages into article events"
    )
    enrich.add_argument(
        "--pages", type=Path, help="JSONL file of RawPages (or - for stdin): process offline"
    )
    enrich.add_argument(
        "--include-duplicates",
        action="store_true",
        help="also write duplicates of emitted articles, with duplicate_of set",
    )
    enrich.add_argument(
        "--summary", action="store_true", help="print counts to stderr at the end"
    )
    enrich.set_defaults(handler=_cmd_enrich)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
