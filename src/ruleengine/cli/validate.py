"""`ruleengine validate`: check rule files and print every diagnostic, in one of four formats."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ruleengine import __version__
from ruleengine.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    discover_rule_files,
    iso_date,
    use_color,
)

# --fail-on: each choice and the severities that then fail a run
_FAILING_SEVERITIES = {
    "error": frozenset({"error"}),
    "warning": frozenset({"error", "warning"}),
    "note": frozenset({"error", "warning", "note"}),
}


def command_validate(args: argparse.Namespace) -> int:
    from ruleengine.diagnostics.diagnostic import Diagnostic
    from ruleengine.diagnostics.render import (
        render_github,
        render_json,
        render_sarif,
        render_summary,
        render_text,
    )
    from ruleengine.diagnostics.source import SourceFile
    from ruleengine.rules.ruleset import (
        RuleSet,
        check_source,
        duplicate_programs,
        read_source,
    )

    files = discover_rule_files(args.paths)
    now = datetime.now(UTC)  # window warnings take today in each ruleset's zone; --today wins
    diagnostics: list[Diagnostic] = []
    checked: list[tuple[SourceFile, RuleSet]] = []
    unreadable = False
    for path in files:
        source = read_source(path, str(path))
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            unreadable = unreadable or source.code == "RE100"
            continue
        result = check_source(source, today=args.today, now=now)
        diagnostics.extend(result.diagnostics)
        if result.ruleset is not None:
            checked.append((source, result.ruleset))
    # as `ruleengine serve` ranks a folder's files: by their names as text
    again = duplicate_programs(sorted(checked, key=lambda found: found[0].name))
    if again:
        order = {str(path): index for index, path in enumerate(files)}
        diagnostics = sorted(
            [*diagnostics, *again], key=lambda d: (order.get(d.file, -1), d.sort_key())
        )
    out = sys.stdout
    if args.format == "json":
        print(render_json(diagnostics, files=[str(f) for f in files]), file=out)
    elif args.format == "github":
        for d in diagnostics:
            print(render_github(d), file=out)
    elif args.format == "sarif":
        print(render_sarif(diagnostics, version=__version__), file=out)
    else:
        color = use_color(out, args.color)
        for d in diagnostics:
            print(render_text(d, color=color) + "\n", file=out)
        print(render_summary(diagnostics, len(files), color=color), file=out)
    if unreadable:
        return EXIT_USAGE
    # --strict is --fail-on warning; given with another --fail-on, the stricter of the two wins
    fail_on = _FAILING_SEVERITIES[args.fail_on]
    if args.strict:
        fail_on |= _FAILING_SEVERITIES["warning"]
    failing = [d for d in diagnostics if d.severity in fail_on]
    return EXIT_FINDINGS if failing else EXIT_OK


def add_validate_command(commands: Any) -> None:
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
    validate.add_argument(
        "--fail-on",
        choices=tuple(_FAILING_SEVERITIES),
        default="error",
        help="the least severity that fails the run (default: error); notes, such as a campaign "
        "window that has ended, depend on the day and fail only with --fail-on note",
    )
    validate.add_argument(
        "--strict",
        action="store_true",
        help="fail on warnings too (--fail-on warning; with --fail-on note, notes still fail)",
    )
    validate.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    validate.add_argument(
        "--today",
        type=iso_date,
        default=None,
        help="the date for date-dependent warnings (default: today)",
    )
    validate.set_defaults(handler=command_validate)
