"""`ruleengine schema`: print the JSON Schema of a file format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ruleengine.cli.common import EXIT_OK, UsageError


def command_schema(args: argparse.Namespace) -> int:
    from ruleengine.schema_export import SCHEMAS, schema_text

    if args.name not in SCHEMAS:
        raise UsageError(f"unknown schema `{args.name}`; choose from {', '.join(SCHEMAS)}")
    sys.stdout.write(schema_text(args.name))
    return EXIT_OK


def add_schema_command(commands: Any) -> None:
    schema = commands.add_parser(
        "schema",
        help="print a JSON Schema (ruleset, snapshot, result or timeline)",
        description="Print the JSON Schema of a file format, as checked in under schemas/.",
        epilog="example: ruleengine schema ruleset > ruleset.schema.json",
    )
    schema.add_argument("name", nargs="?", default="ruleset", help="the schema (default: ruleset)")
    schema.set_defaults(handler=command_schema)
