"""The `newsflow` command: one entry point, a subcommand per service or tool.

Imports happen inside the subcommands so that each process loads only what it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from newsflow import push_options, tail_options
from newsflow.heap import share_one_arena, tune_garbage_collector, tune_malloc
from newsflow.logs import configure_logging

# The imports below are deferred on purpose: `newsflow tail` should not load trafilatura.
# ruff: noqa: PLC0415


def _need_cluster(service: str) -> int | None:
    from newsflow.settings import KafkaSettings

    if KafkaSettings().bootstrap_servers is None:
        print(
            f"newsflow {service}: KAFKA_BOOTSTRAP_SERVERS is not set. Point it at a Kafka "
            "cluster, or use `newsflow run`, which starts an embedded broker and every service.",
            file=sys.stderr,
        )
        return 2
    return None


def _cmd_enrich(args: argparse.Namespace) -> int:
    from services.enrich.settings import EnrichSettings

    settings = EnrichSettings()
    configure_logging("enrich", settings.log_level)
    if args.pages is None:
        if (code := _need_cluster("enrich")) is not None:
            return code
        from newsflow.settings import KafkaSettings
        from services.enrich.main import serve

        tune_garbage_collector()
        asyncio.run(serve(settings, KafkaSettings()))
        return 0
    from services.enrich.dedupe import InMemoryDedupeStore
    from services.enrich.language import load_language_model
    from services.enrich.offline import enrich_lines
    from services.enrich.process import PageProcessor

    processor = PageProcessor(settings.deduper(InMemoryDedupeStore()))
    load_language_model(settings.model_cache_dir)
    tune_garbage_collector()
    path: Path = args.pages
    with sys.stdin if str(path) == "-" else path.open(encoding="utf-8") as lines:
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


def _cmd_ingest(_: argparse.Namespace) -> int:
    from services.ingest.main import main as ingest_main

    ingest_main()
    return 0


def _cmd_sink(_: argparse.Namespace) -> int:
    from newsflow.settings import KafkaSettings
    from services.sink.main import serve
    from services.sink.settings import SinkSettings

    settings = SinkSettings()
    configure_logging("sink", settings.log_level)
    if (code := _need_cluster("sink")) is not None:
        return code
    tune_garbage_collector()
    asyncio.run(serve(settings, KafkaSettings()))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from newsflow.run import PortTaken, RunOptions, resolve_ports, run_command
    from newsflow.settings import KafkaSettings
    from services.enrich.settings import EnrichSettings
    from services.ingest.settings import IngestSettings
    from services.sink.settings import SinkSettings

    ingest, enrich, sink = IngestSettings(), EnrichSettings(), SinkSettings()
    configure_logging("run", ingest.log_level)
    options = RunOptions(
        enrich_workers=args.enrich_workers,
        http_host=ingest.http_host,
        http_port=ingest.http_port,
        drain_timeout=args.drain_timeout,
        enrich_group=enrich.consumer_group,
        sink_group=sink.consumer_group,
        metrics_port=enrich.metrics_port,
    )
    try:
        options = resolve_ports(options, fallback=args.free_ports)
    except PortTaken as taken:
        print(f"newsflow: {taken}", file=sys.stderr)
        return 2
    return asyncio.run(
        run_command(
            KafkaSettings(),
            options,
            feed=args.feed,
            exit_when_drained=args.exit_when_drained,
            data_dir=sink.data_dir,
            sink=sink.sink,
        )
    )


def _cmd_push(args: argparse.Namespace) -> int:
    from newsflow import push

    return push.run(args)


def _cmd_tail(args: argparse.Namespace) -> int:
    from newsflow import tail

    return tail.run(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="newsflow", description="Event-driven ingestion of news pages."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    enrich = commands.add_parser("enrich", help="split, date and dedupe pages into article events")
    enrich.add_argument(
        "--pages", type=Path, help="JSONL file of RawPages (- for stdin): offline, no broker"
    )
    enrich.add_argument(
        "--include-duplicates",
        action="store_true",
        help="offline: also write duplicates of written articles, with duplicate_of set",
    )
    enrich.add_argument("--summary", action="store_true", help="offline: print counts to stderr")
    enrich.set_defaults(handler=_cmd_enrich)

    commands.add_parser("ingest", help="serve the HTTP ingest API").set_defaults(
        handler=_cmd_ingest
    )
    commands.add_parser("sink", help="write article events to files or PostgreSQL").set_defaults(
        handler=_cmd_sink
    )

    run = commands.add_parser("run", help="run the whole pipeline (embedded broker by default)")
    run.add_argument(
        "--enrich-workers",
        type=int,
        default=1,
        help="enrich processes (default 1: the verdicts of `newsflow enrich --pages`)",
    )
    run.add_argument("--feed", type=Path, nargs="*", default=[], help="push these files at start")
    run.add_argument(
        "--exit-when-drained",
        action="store_true",
        help="stop once the fed pages have landed instead of serving until Ctrl-C",
    )
    run.add_argument("--drain-timeout", type=float, default=120.0, help="seconds (default 120)")
    run.add_argument(
        "--free-ports",
        action="store_true",
        help="where a port to listen on is taken, use a free one instead of stopping",
    )
    run.set_defaults(handler=_cmd_run)

    push = commands.add_parser("push", help="push files (text, HTML, NDJSON, WARC) to ingest")
    push_options.add_arguments(push)
    push.set_defaults(handler=_cmd_push)
    tail = commands.add_parser(
        "tail", help="print article events as a downstream consumer sees them, or dead letters"
    )
    tail_options.add_arguments(tail)
    tail.set_defaults(handler=_cmd_tail)
    return parser


EX_UNAVAILABLE = 69
"""The exit status of a command that cannot reach Kafka or its sink's destination (sysexits.h)."""


def _unavailable(error: Exception, command: str) -> str | None:
    """The one line to print when `error` says a server the command needs is unreachable."""
    from aiokafka.errors import KafkaConnectionError

    from newsflow.kafka.errors import PublishUnavailable
    from newsflow.settings import KafkaSettings
    from services.sink.errors import SinkUnavailable

    if isinstance(error, KafkaConnectionError | PublishUnavailable):
        where = KafkaSettings().bootstrap_servers or "the embedded broker"
        return f"newsflow {command}: cannot reach Kafka at {where}: {error}"
    if isinstance(error, SinkUnavailable):
        return f"newsflow {command}: {error}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand named in `argv`."""
    args = build_parser().parse_args(argv)
    tune_malloc()
    share_one_arena()
    try:
        code: int = args.handler(args)
    except Exception as error:
        line = _unavailable(error, args.command)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return EX_UNAVAILABLE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
