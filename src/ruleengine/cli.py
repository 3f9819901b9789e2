"""The `ruleengine` command line.

Exit codes (stable, as in ruff): 0 clean, 1 problems found in the input, 2 usage or I/O
errors, 101 internal error (a traceback is printed only with `--debug`). Heavy modules are
imported inside the commands, so `ruleengine --help` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

from ruleengine import __version__

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 101

RULE_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".test.yaml", ".test.yml")


class UsageError(Exception):
    """A problem with how the command was called (exit 2)."""


def _use_color(stream: TextIO, choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def discover_rule_files(paths: Sequence[str]) -> list[Path]:
    """Rule files named by `paths`: files as given, folders searched recursively for
    `*.yaml`/`*.yml` (rule test files, `*.test.yaml`, and hidden folders are skipped)."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            matches = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in RULE_SUFFIXES
                and p.is_file()
                and not p.name.endswith(TEST_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
            if not matches:
                raise UsageError(f"no rule files (*.yaml, *.yml) found in `{text}`")
            found.extend(matches)
        elif path.exists() or not path.suffix:
            found.append(path)
        else:
            found.append(path)  # reported as unreadable by the checker (RE100)
    return found


# -- validate -------------------------------------------------------------------------------------


def command_validate(args: argparse.Namespace) -> int:
    from ruleengine.diagnostics import Diagnostic
    from ruleengine.render import (
        render_github,
        render_json,
        render_sarif,
        render_summary,
        render_text,
    )
    from ruleengine.ruleset import check_source, read_source

    files = discover_rule_files(args.paths)
    today = args.today or date.today()
    diagnostics: list[Diagnostic] = []
    unreadable = False
    for path in files:
        source = read_source(path, str(path))
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            unreadable = unreadable or source.code == "RE100"
            continue
        diagnostics.extend(check_source(source, today=today).diagnostics)
    out = sys.stdout
    if args.format == "json":
        print(render_json(diagnostics, files=[str(f) for f in files]), file=out)
    elif args.format == "github":
        for d in diagnostics:
            print(render_github(d), file=out)
    elif args.format == "sarif":
        print(render_sarif(diagnostics, version=__version__), file=out)
    else:
        color = _use_color(out, args.color)
        for d in diagnostics:
            print(render_text(d, color=color) + "\n", file=out)
        print(render_summary(diagnostics, len(files), color=color), file=out)
    if unreadable:
        return EXIT_USAGE
    failing = [d for d in diagnostics if d.is_error or args.strict]
    return EXIT_FINDINGS if failing else EXIT_OK


# -- schema -------------------------------------------------------------------------------------


def command_schema(args: argparse.Namespace) -> int:
    from ruleengine.schema_export import SCHEMAS, schema_text

    if args.name not in SCHEMAS:
        raise UsageError(f"unknown schema `{args.name}`; choose from {', '.join(SCHEMAS)}")
    sys.stdout.write(schema_text(args.name))
    return EXIT_OK


# -- the parser ---------------------------------------------------------------------------------


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a date (YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ruleengine",
        description="Check and run loyalty rule files.",
        epilog="exit codes: 0 clean, 1 problems found, 2 usage or I/O error, 101 internal error",
    )
    parser.add_argument("--version", action="version", version=f"ruleengine {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check rule files and report every problem",
        description="Check rule files (or folders of them, recursively) and report every "
        "problem with its file, line and column.",
        epilog="example: ruleengine validate examples/rules/ --format github",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="rule files or folders")
    validate.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="output format (default: text)",
    )
    validate.add_argument("--strict", action="store_true", help="fail on warnings too")
    validate.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    validate.add_argument(
        "--today",
        type=_iso_date,
        default=None,
        help="the date for date-dependent warnings (default: today)",
    )
    validate.set_defaults(handler=command_validate)

    schema = commands.add_parser(
        "schema",
        help="print a JSON Schema (ruleset)",
        description="Print the JSON Schema of a file format, as checked in under schemas/.",
        epilog="example: ruleengine schema ruleset > ruleset.schema.json",
    )
    schema.add_argument("name", nargs="?", default="ruleset", help="the schema (default: ruleset)")
    schema.set_defaults(handler=command_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except UsageError as error:
        print(f"ruleengine: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # the last line of defence: no traceback unless asked for
        if args.debug:
            raise
        print(
            "ruleengine: internal error; please report it, with the output of the same "
            "command run with --debug",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
