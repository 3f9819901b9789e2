"""`ruleengine test`: run rule test files (`*.test.yaml`) like unit tests."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ruleengine.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, use_color


def command_test(args: argparse.Namespace) -> int:
    """Run rule test files. Exit 1 when a case fails, a test file is invalid, or coverage is
    under `--fail-under`; exit 2 when a path cannot be read or a folder holds no test files
    (the run itself is broken, not the rules)."""
    import json

    from ruleengine import testing
    from ruleengine.testing.coverage import shortfall_text

    fail_under: float | None = args.fail_under
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UsageError(f"--fail-under must be a percentage from 0 to 100, not {fail_under:g}")
    try:
        files = testing.discover_test_files(args.paths)
    except testing.NoTestFilesError as error:
        raise UsageError(str(error)) from None
    coverage = args.coverage or fail_under is not None
    # Rule files in the folders given count for coverage even when no test file uses them.
    untested = testing.rule_files_below(args.paths) if coverage else []
    run = testing.run_tests(files, coverage=coverage, rule_files=untested)
    if args.format == "json":
        report = testing.run_to_json(run, fail_under=fail_under)
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        color = use_color(sys.stdout, args.color)
        for test_file in run.files:
            if not test_file.ok:
                print(testing.render_file_errors_text(test_file, color=color) + "\n")
        for result in run.results:
            if not result.passed:
                print(testing.render_case_text(result, color=color) + "\n")
            elif args.verbose:
                print(f"PASS {result.file}:{result.line}: {result.name}")
        if run.coverage is not None:
            print(testing.render_coverage_text(run.coverage) + "\n")
        print(testing.render_summary(run))
    if run.unreadable:
        return EXIT_USAGE
    below = (
        fail_under is not None
        and run.coverage is not None
        and testing.total_percent(run.coverage) < fail_under
    )
    if below and args.format != "json":
        print(
            f"ruleengine: {shortfall_text(run.coverage or [], fail_under or 0.0)}",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if not run.ok or below else EXIT_OK


def add_test_command(commands: Any) -> None:
    test = commands.add_parser(
        "test",
        help="run rule test files (*.test.yaml) like unit tests",
        description="Run rule test files (or folders of them, recursively): evaluate each "
        "case's snapshot and compare the decisions, progress and problems with the expected "
        "ones. The format is in docs/rule-tests.md.",
        epilog="example: ruleengine test examples/ --coverage --fail-under 90",
    )
    test.add_argument("paths", nargs="+", metavar="PATH", help="rule test files or folders")
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.add_argument(
        "--coverage",
        action="store_true",
        help="report which rules, milestone steps and `when` branches the cases exercised; "
        "rule files in the folders given that no test file uses count as 0%%",
    )
    test.add_argument(
        "--fail-under",
        type=float,
        metavar="PERCENT",
        default=None,
        help="exit 1 when total coverage is under PERCENT (implies --coverage)",
    )
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    test.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    test.set_defaults(handler=command_test)
