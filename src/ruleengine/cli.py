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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from ruleengine import __version__
from ruleengine.discovery import RULE_SUFFIXES, TEST_SUFFIXES, files_below

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 101


class UsageError(Exception):
    """A problem with how the command was called (exit 2)."""


def _use_color(stream: TextIO, choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def _is_rule_file(path: Path) -> bool:
    return path.suffix in RULE_SUFFIXES and not path.name.endswith(TEST_SUFFIXES)


def discover_rule_files(paths: Sequence[str]) -> list[Path]:
    """Rule files named by `paths`: files as given, folders searched recursively for
    `*.yaml`/`*.yml` (rule test files, `*.test.yaml`, and hidden folders are skipped)."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            matches = files_below(path, _is_rule_file)
            if not matches:
                raise UsageError(f"no rule files (*.yaml, *.yml) found in `{text}`")
            found.extend(matches)
        else:
            found.append(path)  # one that cannot be read is reported by the checker (RE100)
    return found


# -- validate -------------------------------------------------------------------------------------


# --fail-on: each choice and the severities that then fail a run
_FAILING_SEVERITIES = {
    "error": frozenset({"error"}),
    "warning": frozenset({"error", "warning"}),
    "note": frozenset({"error", "warning", "note"}),
}


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
    now = datetime.now(UTC)  # window warnings take today in each ruleset's zone; --today wins
    diagnostics: list[Diagnostic] = []
    unreadable = False
    for path in files:
        source = read_source(path, str(path))
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            unreadable = unreadable or source.code == "RE100"
            continue
        diagnostics.extend(check_source(source, today=args.today, now=now).diagnostics)
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
    fail_on = _FAILING_SEVERITIES["warning" if args.strict else args.fail_on]
    failing = [d for d in diagnostics if d.severity in fail_on]
    return EXIT_FINDINGS if failing else EXIT_OK


# -- eval and explain ------------------------------------------------------------------------------


def _load_engine(rules: str, args: argparse.Namespace) -> Any:
    """The engine for a rule file, or exit 1/2 with the rule file's diagnostics."""
    from ruleengine.diagnostics import Diagnostic
    from ruleengine.engine import Engine
    from ruleengine.render import render_text
    from ruleengine.ruleset import check_source, read_source

    source = read_source(Path(rules), rules)
    if isinstance(source, Diagnostic):
        print(render_text(source), file=sys.stderr)
        raise _ExitError(EXIT_USAGE if source.code == "RE100" else EXIT_FINDINGS)
    result = check_source(source)
    if result.ruleset is None:
        color = _use_color(sys.stderr, getattr(args, "color", "auto"))
        for diagnostic in result.diagnostics:
            print(render_text(diagnostic, color=color) + "\n", file=sys.stderr)
        raise _ExitError(EXIT_FINDINGS)
    return Engine(result.ruleset)


class _ExitError(Exception):
    """Stops a command with an exit code after its problems were printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        print(f"ruleengine: error: `{path}` is not UTF-8 text", file=sys.stderr)
        raise _ExitError(EXIT_FINDINGS) from None
    except OSError as error:
        print(
            f"ruleengine: error: cannot read `{path}`: {error.strerror or error}", file=sys.stderr
        )
        raise _ExitError(EXIT_USAGE) from None


def _parse_snapshot(
    engine: Any, text: str, name: str, line: int | None = None, err: TextIO | None = None
) -> Any:
    """JSON text -> Snapshot, or None after printing the located problems (to `err`, standard
    error by default). `line` is the line of the text in its file, for JSON Lines input; the
    batch workers (`ruleengine.batch`) use this function too, so every path words them alike."""
    import json
    from decimal import Decimal

    from ruleengine.snapshot import SnapshotError

    err = err if err is not None else sys.stderr
    where = name if line is None else f"{name}:{line}"
    limit = engine.limits.max_snapshot_bytes
    if len(text) > limit:  # characters, at least as many bytes: refused before parsing
        print(f"{where}: error[RE614] the snapshot is larger than {limit:,} bytes", file=err)
        return None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        print(
            f"{name}:{(line or 1) + error.lineno - 1}:{error.colno}: error[RE611] the "
            f"snapshot is not valid JSON: {error.msg}",
            file=err,
        )
        return None
    except RecursionError:  # the standard parser recurses once per nesting level
        print(f"{where}: error[RE614] the snapshot is nested too deeply", file=err)
        return None
    try:
        return engine.read_snapshot(data, name=where)
    except SnapshotError as error:
        for problem in error.problems:
            hint = f" (hint: {problem.hint})" if problem.hint else ""
            print(
                f"{where}: {problem.path}: error[{problem.code}] {problem.message}{hint}",
                file=err,
            )
        return None


def _now(args: argparse.Namespace) -> datetime:
    return args.now if args.now is not None else datetime.now(UTC)


def command_eval(args: argparse.Namespace) -> int:
    engine = _load_engine(args.rules, args)
    if args.snapshots is not None:
        return _eval_lines(engine, args)
    path = args.snapshot if args.snapshot is not None else "-"
    snapshot = _parse_snapshot(engine, _read_text(path), "<stdin>" if path == "-" else path)
    if snapshot is None:
        return EXIT_FINDINGS
    result = engine.evaluate(snapshot, now=_now(args))
    if args.format == "json":
        print(result.dumps())
    else:
        from ruleengine.report import render_result_text

        print(render_result_text(result, engine.ruleset.model.currency))
    return EXIT_OK


def _eval_lines(engine: Any, args: argparse.Namespace) -> int:
    """One result per input line (JSON Lines); a bad line prints its problems to stderr, and
    its output line is `{"line": N, "error": ...}` so outputs stay aligned with inputs.
    `--jobs N` spreads the lines over N worker processes; the output is the same."""
    from ruleengine import batch

    if args.jobs < 0:
        raise UsageError(f"--jobs must be 0 (one per CPU) or more, not {args.jobs}")
    jobs = args.jobs or batch.default_jobs()
    now = _now(args)
    try:
        stream = sys.stdin if args.snapshots == "-" else open(args.snapshots, encoding="utf-8")  # noqa: SIM115
    except OSError as error:
        print(
            f"ruleengine: error: cannot read `{args.snapshots}`: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    size = None if args.snapshots == "-" else os.fstat(stream.fileno()).st_size
    with stream:
        lines = batch.bounded_lines(stream, engine.limits.max_snapshot_bytes)
        failed = batch.eval_lines(engine, lines, name=args.snapshots, now=now, jobs=jobs, size=size)
    return EXIT_FINDINGS if failed else EXIT_OK


def command_explain(args: argparse.Namespace) -> int:
    engine = _load_engine(args.rules, args)
    path = args.snapshot if args.snapshot is not None else "-"
    snapshot = _parse_snapshot(engine, _read_text(path), "<stdin>" if path == "-" else path)
    if snapshot is None:
        return EXIT_FINDINGS
    if args.rule is not None and args.rule not in {
        r.id for r in [*engine.ruleset.model.earning, *engine.ruleset.model.milestones]
    }:
        raise UsageError(f"no rule `{args.rule}` in {args.rules}")
    explanations = engine.explain(snapshot, now=_now(args), rule=args.rule)
    if args.format == "json":
        import json

        print(json.dumps([e.to_json() for e in explanations], indent=2, ensure_ascii=False))
    else:
        from ruleengine.report import render_explanations_text

        print(render_explanations_text(explanations))
    return EXIT_OK


# -- test ---------------------------------------------------------------------------------------


def command_test(args: argparse.Namespace) -> int:
    """Run rule test files. Exit 1 when a case fails, a test file is invalid, or coverage is
    under `--fail-under`; exit 2 when a path cannot be read or a folder holds no test files
    (the run itself is broken, not the rules)."""
    import json

    from ruleengine import testing

    fail_under: float | None = args.fail_under
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UsageError(f"--fail-under must be a percentage from 0 to 100, not {fail_under:g}")
    try:
        files = testing.discover_test_files(args.paths)
    except testing.NoTestFilesError as error:
        raise UsageError(str(error)) from None
    run = testing.run_tests(files, coverage=args.coverage or fail_under is not None)
    if args.format == "json":
        report = testing.run_to_json(run, fail_under=fail_under)
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        color = _use_color(sys.stdout, args.color)
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
            f"ruleengine: coverage {testing.total_percent(run.coverage or []):.1f}% is under "
            f"--fail-under {fail_under:g}%",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if not run.ok or below else EXIT_OK


# -- fmt ----------------------------------------------------------------------------------------


def command_fmt(args: argparse.Namespace) -> int:
    import difflib

    from ruleengine.formatter import format_text, write_atomically

    files = discover_rule_files(args.paths)
    changed: list[Path] = []
    failed = False
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(f"ruleengine: error: cannot read `{path}`: {error}", file=sys.stderr)
            return EXIT_USAGE
        result = format_text(text)
        if result.text is None:
            print(f"{path}: not formatted: {result.error}", file=sys.stderr)
            failed = True
            continue
        if result.text == text:
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    result.text.splitlines(keepends=True),
                    f"{path}",
                    f"{path} (formatted)",
                )
            )
        if not args.check and not args.diff:
            write_atomically(path, result.text)
    verb = "would reformat" if args.check or args.diff else "reformatted"
    for path in changed:
        print(f"{verb} {path}", file=sys.stderr)
    unchanged = len(files) - len(changed)
    print(
        f"{len(changed)} file{'s' if len(changed) != 1 else ''} {verb}, {unchanged} left unchanged",
        file=sys.stderr,
    )
    if failed or ((args.check or args.diff) and changed):
        return EXIT_FINDINGS
    return EXIT_OK


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


def _iso_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"`{text}` has no time zone offset; write it as `2026-06-01T00:00:00Z`"
        )
    return moment


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
    validate.add_argument(
        "--fail-on",
        choices=tuple(_FAILING_SEVERITIES),
        default="error",
        help="the least severity that fails the run (default: error); notes, such as a campaign "
        "window that has ended, depend on the day and fail only with --fail-on note",
    )
    validate.add_argument(
        "--strict", action="store_true", help="fail on warnings too (--fail-on warning)"
    )
    validate.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    validate.add_argument(
        "--today",
        type=_iso_date,
        default=None,
        help="the date for date-dependent warnings (default: today)",
    )
    validate.set_defaults(handler=command_validate)

    for name, summary, example in (
        (
            "eval",
            "decide a customer's rewards",
            "ruleengine eval examples/rules/acme.yaml "
            "--snapshot examples/snapshots/acme-maria.json --now 2026-06-01T00:00:00Z",
        ),
        (
            "explain",
            "say why each rule did or did not grant",
            "ruleengine explain "
            "examples/rules/acme.yaml --snapshot examples/snapshots/acme-maria.json "
            "--rule loyalty-journey",
        ),
    ):
        command = commands.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"example: {example}",
        )
        command.add_argument("rules", metavar="RULES", help="the rule file")
        command.add_argument(
            "--snapshot",
            metavar="FILE",
            help="the customer snapshot (JSON); `-` or omitted: standard input",
        )
        command.add_argument(
            "--now",
            type=_iso_datetime,
            default=None,
            help="the moment of evaluation, ISO 8601 with offset (default: the current time)",
        )
        command.add_argument(
            "--format", choices=("text", "json"), default="json" if name == "eval" else "text"
        )
        command.add_argument("--color", choices=("auto", "always", "never"), default="auto")
        if name == "eval":
            command.add_argument(
                "--snapshots",
                metavar="FILE.jsonl",
                help="many snapshots, one JSON object per line; prints one result per line",
            )
            command.add_argument(
                "--jobs",
                type=int,
                default=1,
                metavar="N",
                help="with --snapshots: evaluate in N worker processes, output in input order "
                "(0: one per CPU; default 1)",
            )
            command.set_defaults(handler=command_eval)
        else:
            command.add_argument("--rule", metavar="ID", help="explain only this rule")
            command.set_defaults(handler=command_explain)

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
        help="report which rules, milestone steps and `when` branches the cases exercised",
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

    fmt = commands.add_parser(
        "fmt",
        help="format rule files canonically (comments kept)",
        description="Rewrite rule files in canonical layout: 2-space indentation, sequences as "
        "`  - item`, and normalised spacing inside single-line expressions. Comments, key order "
        "and the author's parentheses are kept; writes are atomic.",
        epilog="example: ruleengine fmt --check examples/rules/",
    )
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="rule files or folders")
    fmt.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when a file would be reformatted",
    )
    fmt.add_argument(
        "--diff", action="store_true", help="change nothing; print what would change as a diff"
    )
    fmt.set_defaults(handler=command_fmt)

    schema = commands.add_parser(
        "schema",
        help="print a JSON Schema (ruleset, snapshot or result)",
        description="Print the JSON Schema of a file format, as checked in under schemas/.",
        epilog="example: ruleengine schema ruleset > ruleset.schema.json",
    )
    schema.add_argument("name", nargs="?", default="ruleset", help="the schema (default: ruleset)")
    schema.set_defaults(handler=command_schema)

    from ruleengine.backtest.command import add_backtest_commands  # argparse only, no duckdb

    add_backtest_commands(commands)
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
    except _ExitError as stop:
        return stop.code
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
