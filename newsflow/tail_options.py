"""The options of `newsflow tail`, apart from the command so that parsing them stays light."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `newsflow tail` options, for the CLI to install on its subcommand parser."""
    parser.add_argument(
        "--from-beginning", action="store_true", help="also print events older than now"
    )
    parser.add_argument(
        "--group", help="consumer group to read as (resumes from and commits its offsets)"
    )
    parser.add_argument("--max", type=int, dest="max_events", help="stop after N events")
    parser.add_argument("--timeout", type=float, dest="timeout_s", help="stop after S seconds")
    parser.add_argument(
        "--topic", help="topic to read (default: articles.events, or pages.dlq with --dead-letters)"
    )
    parser.add_argument(
        "--dead-letters",
        action="store_true",
        help="read the dead-letter topic: what could not be processed, with the reason, the "
        "message, the origin and the raw input",
    )
    parser.add_argument(
        "--pretty",
        action="store_true",
        help="print `published_at  source  title` lines "
        "(dead letters: `failed_at  stage/reason  page_id  message`)",
    )
