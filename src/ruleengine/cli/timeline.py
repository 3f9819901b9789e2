"""`ruleengine timeline`: a customer's points history, for support agents."""

from __future__ import annotations

import argparse
from typing import Any

from ruleengine.cli.common import EXIT_OK, iso_datetime, now_of


def command_timeline(args: argparse.Namespace) -> int:
    from ruleengine.cli.evaluate import load_engine, read_snapshot

    engine = load_engine(args.rules, args)
    snapshot = read_snapshot(engine, args.snapshot if args.snapshot is not None else "-")
    history = engine.timeline(snapshot, now=now_of(args))
    print(history.dumps() if args.format == "json" else history.render_text())
    return EXIT_OK


def add_timeline_command(commands: Any) -> None:
    command = commands.add_parser(
        "timeline",
        help="show a customer's points history and balance",
        description="Every change of the customer's points in time order, with the balance "
        "after each: what they earned (which rule, for which activity, pending until when), "
        "redeemed, got back, had adjusted or lost to expiry.",
        epilog="example: ruleengine timeline examples/rules/maple-loyalty.yaml "
        "--snapshot examples/snapshots/maple-nadia.json --now 2026-05-10T00:00:00Z\n"
        "exit codes: 0 shown, 1 the rules or the snapshot are invalid, 2 usage or I/O error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("rules", metavar="RULES", help="the rule file")
    command.add_argument(
        "--snapshot", metavar="FILE", help="the customer snapshot (JSON; `-` or none: stdin)"
    )
    command.add_argument(
        "--now",
        type=iso_datetime,
        help="the moment of the history (ISO 8601 with an offset); default: the clock",
    )
    command.add_argument("--format", choices=("text", "json"), default="text")
    command.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    command.set_defaults(handler=command_timeline)
