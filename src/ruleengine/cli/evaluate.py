"""`ruleengine eval` and `ruleengine explain`: one customer (or a JSON Lines file of them)
against one rule file."""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
from pathlib import Path
from typing import Any, TextIO

from ruleengine.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    ExitError,
    UsageError,
    iso_datetime,
    now_of,
    use_color,
)


def load_engine(rules: str, args: argparse.Namespace) -> Any:
    """The engine for a rule file, or exit 1/2 with the rule file's diagnostics."""
    from ruleengine.diagnostics.diagnostic import Diagnostic
    from ruleengine.engine.engine import Engine
    from ruleengine.rules.ruleset import check_source, read_source

    source = read_source(Path(rules), rules)
    if isinstance(source, Diagnostic):
        from ruleengine.diagnostics.render import render_text

        print(render_text(source), file=sys.stderr)
        raise ExitError(EXIT_USAGE if source.code == "RE100" else EXIT_FINDINGS)
    result = check_source(source)
    if result.ruleset is None:
        from ruleengine.diagnostics.render import render_text

        color = use_color(sys.stderr, getattr(args, "color", "auto"))
        for diagnostic in result.diagnostics:
            print(render_text(diagnostic, color=color) + "\n", file=sys.stderr)
        raise ExitError(EXIT_FINDINGS)
    return Engine(result.ruleset)


def read_text(path: str, limit: int | None = None) -> str:
    """The text of `path` (`-`: standard input). With `limit`, at most `limit + 1` characters
    are read: enough for the reader to refuse more than `limit` (RE614) without holding a
    file of any size in memory."""
    size = -1 if limit is None else limit + 1
    if path == "-":
        return sys.stdin.read(size)
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read(size)
    except UnicodeDecodeError:
        print(f"ruleengine: error: `{path}` is not UTF-8 text", file=sys.stderr)
        raise ExitError(EXIT_FINDINGS) from None
    except OSError as error:
        print(
            f"ruleengine: error: cannot read `{path}`: {error.strerror or error}", file=sys.stderr
        )
        raise ExitError(EXIT_USAGE) from None


def read_snapshot(engine: Any, path: str) -> Any:
    """The snapshot in a file (`-`: standard input), or exit 1 after printing its problems
    (the engine returns them as data; this is the edge that prints them)."""
    from ruleengine.engine.snapshot import (
        SnapshotError,
        render_snapshot_problem,
        snapshot_too_large,
    )

    name = "<stdin>" if path == "-" else path
    limits = engine.limits
    try:
        if path != "-" and _file_size(path) > limits.max_snapshot_bytes:  # refused unread
            raise SnapshotError([snapshot_too_large(limits)], name)
        return engine.read_snapshot_text(read_text(path, limits.max_snapshot_bytes), name=name)
    except SnapshotError as error:
        for problem in error.problems:
            print(render_snapshot_problem(problem, name), file=sys.stderr)
        raise ExitError(EXIT_FINDINGS) from None


def _file_size(path: str) -> int:
    """The size of a regular file; 0 for anything else (a pipe), and for a path that cannot
    be read, which `read_text` then reports."""
    try:
        status = os.stat(path)
    except OSError:
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def command_eval(args: argparse.Namespace) -> int:
    if args.snapshots is not None and args.format == "text":  # json is the default
        raise UsageError("--format text is for one customer; --snapshots writes JSON Lines")
    engine = load_engine(args.rules, args)
    if args.snapshots is not None:
        return _eval_lines(engine, args)
    snapshot = read_snapshot(engine, args.snapshot if args.snapshot is not None else "-")
    result = engine.evaluate(snapshot, now=now_of(args))
    if args.format == "json":
        print(result.dumps())
    else:
        from ruleengine.engine.result_text import render_result_text

        print(render_result_text(result, engine.ruleset.model.currency))
    # Runtime problems are part of a valid result (the rule granted nothing, and says why),
    # so they fail the run only when asked to.
    return EXIT_FINDINGS if args.strict and result.problems else EXIT_OK


def _eval_lines(engine: Any, args: argparse.Namespace) -> int:
    """One result per input line (JSON Lines); a bad line's output line is
    `{"line": N, "error": "invalid snapshot", "problems": [...]}`, so outputs stay aligned
    with inputs, and its problems also go to stderr. `--jobs N` spreads the lines over N
    worker processes; the output is the same. Exit 1 when a line is invalid, as for one
    snapshot, or, with `--strict`, when a result has runtime problems."""
    from ruleengine.cli import jsonl

    if args.jobs < 0:
        raise UsageError(f"--jobs must be 0 (one per CPU) or more, not {args.jobs}")
    jobs = args.jobs or jsonl.default_jobs()
    now = now_of(args)
    try:
        # a line that is not UTF-8 is reported in its place (`snapshot_json.undecodable_byte`)
        stream = (
            _undecoded_stdin()
            if args.snapshots == "-"
            else open(args.snapshots, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
        )
    except OSError as error:
        print(
            f"ruleengine: error: cannot read `{args.snapshots}`: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    size = None if args.snapshots == "-" else os.fstat(stream.fileno()).st_size
    with stream:
        lines = jsonl.bounded_lines(stream, engine.limits.max_snapshot_bytes)
        counts = jsonl.eval_lines(engine, lines, name=args.snapshots, now=now, jobs=jobs, size=size)
    failed = counts.invalid or (args.strict and counts.with_problems)
    return EXIT_FINDINGS if failed else EXIT_OK


def command_explain(args: argparse.Namespace) -> int:
    engine = load_engine(args.rules, args)
    snapshot = read_snapshot(engine, args.snapshot if args.snapshot is not None else "-")
    ids = engine.explainable_rules()  # `tiers` asks "why didn't I level up?"
    if args.rule is not None and args.rule not in ids:
        known = ", ".join(f"`{i}`" for i in ids) or "none"
        raise UsageError(f"no rule `{args.rule}` in {args.rules}; its rules are {known}")
    explanations = engine.explain(snapshot, now=now_of(args), rule=args.rule)
    if args.format == "json":
        from ruleengine.engine.json_text import dumps_indented

        print(dumps_indented([e.to_json() for e in explanations]))
    else:
        from ruleengine.engine.result_text import render_explanations_text

        print(render_explanations_text(explanations))
    return EXIT_OK


_EXIT_CODES = {
    "eval": "exit codes: 0 evaluated (runtime problems, such as a division by zero, are data in\n"
    "the results' `problems`), 1 the rules or a snapshot (a line of --snapshots) are invalid,\n"
    "or with --strict a result has runtime problems, 2 usage or I/O error, 101 internal error",
    "explain": "exit codes: 0 explained (a rule that could not be evaluated says so in its\n"
    "words), 1 the rules or the snapshot are invalid, 2 usage or I/O error (an unknown --rule),\n"
    "101 internal error",
}


def add_eval_commands(commands: Any) -> None:
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
            epilog=f"example: {example}\n\n{_EXIT_CODES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument("rules", metavar="RULES", help="the rule file")
        # One customer or many: `eval --snapshot A --snapshots B` is a usage error (exit 2),
        # not a batch that silently drops A.
        source = command.add_mutually_exclusive_group() if name == "eval" else command
        source.add_argument(
            "--snapshot",
            metavar="FILE",
            help="the customer snapshot (JSON); `-` or omitted: standard input",
        )
        command.add_argument(
            "--now",
            type=iso_datetime,
            default=None,
            help="the moment of evaluation, ISO 8601 with offset (default: the current time)",
        )
        command.add_argument(
            "--format",
            choices=("text", "json"),
            default="json" if name == "eval" else "text",
            help="output format (default: json); text is for one customer, so it cannot be "
            "used with --snapshots"
            if name == "eval"
            else "output format (default: text)",
        )
        command.add_argument("--color", choices=("auto", "always", "never"), default="auto")
        if name == "eval":
            source.add_argument(
                "--snapshots",
                metavar="FILE.jsonl",
                help="many snapshots, one JSON object per line; prints one result per line "
                "(JSON Lines, so not with --format text); an invalid line's output line is "
                '{"line": N, "error": "invalid snapshot", "problems": [...]}',
            )
            command.add_argument(
                "--strict",
                action="store_true",
                help="exit 1 when a result has runtime problems (such as a division by zero, "
                "RE601); without it they are data in the result's `problems` and the exit "
                "code is 0. An invalid snapshot, or JSON Lines line, exits 1 either way",
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


def _undecoded_stdin() -> TextIO:
    """Standard input, read as UTF-8 with each byte that is not kept as an escape."""
    stdin = sys.stdin
    if isinstance(stdin, io.TextIOWrapper):
        stdin.reconfigure(encoding="utf-8", errors="surrogateescape")
    return stdin
