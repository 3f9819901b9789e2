"""The `ruleengine backtest` and `ruleengine diff` subcommands.

`ruleengine.cli` calls `add_backtest_commands(commands)` and nothing else; the handlers import
the rest of this package (and DuckDB, pyarrow) only when they run, so `ruleengine --help`
stays fast and the core install works without the `batch` extra. Exit codes are the CLI's:
0 done, 1 problems in the rules or the data, 2 usage or I/O (a missing file, an unknown git
revision, a missing extra, an `--out` that is not empty).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _moment(text: str) -> datetime:
    """`--now`, as `ruleengine eval` reads it (`cli.common.iso_datetime`, which an edge
    package may not import): with its offset, in the supported years."""
    from ruleengine.expr.runtime import parse_moment  # not for `--help` (it loads msgspec)

    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--customers",
        metavar="DATA",
        required=True,
        help="the customers: a JSON Lines file of snapshots (.jsonl), a folder with "
        "customers and activity tables (.parquet or .csv), or a DuckDB database (.duckdb); "
        "see docs/batch.md",
    )
    command.add_argument(
        "--now",
        type=_moment,
        required=True,
        help="the moment of evaluation, ISO 8601 with offset (required: a backtest is "
        "reproducible only at a fixed moment)",
    )
    command.add_argument(
        "--by",
        choices=("rule", "month"),
        default="rule",
        help="group by rule and step (default), or also by month of `achieved_at` (UTC)",
    )
    command.add_argument(
        "--out",
        metavar="DIR",
        help="also write decisions.parquet (one row per decision) and report.json to DIR, "
        "a new or empty folder (written all or nothing)",
    )
    command.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="report format"
    )
    command.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="evaluate in N worker processes (0: one per CPU; default 1); the report and "
        "--out are the same whatever N",
    )


def add_backtest_commands(commands: Any) -> None:
    """Add `backtest` and `diff` to the CLI's subcommands (an argparse subparsers action)."""
    backtest = commands.add_parser(
        "backtest",
        help="evaluate a ruleset over customer history and add up its decisions",
        description="Evaluate every customer of a history at --now and add up the decisions "
        "per rule and step: customers, points (granted minus reversed and expired), store "
        "credit and discounts. Tables need the `ruleengine[batch]` extra.",
        epilog="example: ruleengine backtest examples/rules/acme.yaml --customers "
        "history/ --now 2026-06-01T00:00:00Z --by month",
    )
    backtest.add_argument("rules", metavar="RULES", help="the rule file (or REVISION:PATH)")
    _common(backtest)
    backtest.set_defaults(handler=command_backtest)

    diff = commands.add_parser(
        "diff",
        help="compare what two rulesets decide for the same customers",
        description="Evaluate OLD and NEW on each customer (one pass over the data) and "
        "report who gains or loses which decisions, the change in points, store credit and "
        "discounts per rule and step, and a few example customers with the reasons. OLD and "
        "NEW may be REVISION:PATH, read with `git show` (`main:rules/acme.yaml`).",
        epilog="example: ruleengine diff main:rules/acme.yaml rules/acme.yaml --customers "
        "history/ --now 2026-06-01T00:00:00Z --format markdown",
    )
    diff.add_argument("old", metavar="OLD", help="the ruleset before the change")
    diff.add_argument("new", metavar="NEW", help="the ruleset after the change")
    _common(diff)
    diff.set_defaults(handler=command_diff)


def _fail(message: str, code: int) -> int:
    print(f"ruleengine: error: {message}", file=sys.stderr)
    return code


def _load(spec: str) -> Any:
    """The loaded rules, or an exit code after printing why not."""
    from ruleengine.backtest.rules import RulesError, load_rules
    from ruleengine.diagnostics.render import render_text

    try:
        return load_rules(spec)
    except RulesError as error:
        if not error.diagnostics or error.usage:
            return _fail(error.message, EXIT_USAGE if error.usage else EXIT_FINDINGS)
        for diagnostic in error.diagnostics:
            print(render_text(diagnostic) + "\n", file=sys.stderr)
        return EXIT_FINDINGS


def _attributes(*loaded: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for rules in loaded:
        names.update({k: str(v) for k, v in rules.engine.ruleset.model.attributes.items()})
    return names


def command_backtest(args: argparse.Namespace) -> int:
    rules = _load(args.rules)
    if isinstance(rules, int):
        return rules
    return _run(args, (rules,))


def command_diff(args: argparse.Namespace) -> int:
    old = _load(args.old)
    if isinstance(old, int):
        return old
    new = _load(args.new)
    if isinstance(new, int):
        return new
    return _run(args, (old, new))


def _run(args: argparse.Namespace, loaded: tuple[Any, ...]) -> int:
    """Open the source and `--out`, evaluate, render; every failure a message and a code.
    SIGTERM and SIGINT stop the run like bad data does: nothing is left of `--out`, and the
    exit code is 128 + the signal's number (143, 130)."""
    from ruleengine.backtest.output import Interrupted, OutputError, interrupts
    from ruleengine.backtest.sources import SourceError

    if args.jobs < 0:
        return _fail(f"--jobs must be 0 (one per CPU) or more, not {args.jobs}", EXIT_USAGE)
    if args.jobs == 0:
        from ruleengine.backtest.parallel import default_jobs

        args.jobs = default_jobs()
    try:
        with interrupts():
            if args.jobs > 1:
                from ruleengine.backtest.parallel import start_workers_without_ctrl_c

                start_workers_without_ctrl_c()  # first, while this is the only thread
            text = _run_to_out(args, loaded)
        sys.stdout.write(text)
        return EXIT_OK
    except SourceError as error:
        return _fail(error.message, EXIT_USAGE if error.usage else EXIT_FINDINGS)
    except (OutputError, OSError) as error:
        return _fail(str(error), EXIT_USAGE)
    except Interrupted as stop:
        written = " (--out not written)" if args.out else ""
        return _fail(f"interrupted by {stop.name}{written}", 128 + stop.signum)


def _run_to_out(args: argparse.Namespace, loaded: tuple[Any, ...]) -> str:
    """The report's text; with `--out`, its files written all or nothing."""
    from ruleengine.backtest.output import DecisionWriter, Staging, check_out
    from ruleengine.backtest.sources import open_source

    out = Path(args.out) if args.out else None
    if out is not None:
        check_out(out)
    source = open_source(Path(args.customers), _attributes(*loaded))
    if out is None:
        return _evaluate(args, loaded, source, None)[0]
    with Staging(out) as staging:
        assert staging.path is not None
        writer = DecisionWriter(staging.path / "decisions.parquet")
        try:
            text, document = _evaluate(args, loaded, source, writer)
        except BaseException:
            writer.abort()  # nothing buffered is written: the folder is removed
            raise
        writer.close()
        from ruleengine.backtest.report import render

        (staging.path / "report.json").write_text(render(document, "json"), "utf-8")
        staging.commit()
    return text


def _evaluate(
    args: argparse.Namespace, loaded: tuple[Any, ...], source: Any, writer: Any
) -> tuple[str, dict[str, Any]]:
    from ruleengine.backtest.report import backtest_document, diff_document, render
    from ruleengine.backtest.run import progress_for, run_backtest, run_diff

    by_month = args.by == "month"
    progress = progress_for(source)
    if len(loaded) == 1:
        from ruleengine.backtest.tally import Tally

        (rules,) = loaded
        tally = Tally(by_month=by_month)
        run_backtest(
            rules.engine,
            source,
            now=args.now,
            tally=tally,
            writer=writer,
            progress=progress,
            jobs=args.jobs,
        )
        document = backtest_document(
            rules=rules.name,
            program=rules.engine.ruleset.program,
            ruleset_hash=rules.engine.ruleset.hash,
            source=source.name,
            now=args.now,
            by_month=by_month,
            tally=tally.to_json(rules.engine.ruleset.model.currency),
            currency=rules.engine.ruleset.model.currency,
        )
        return render(document, args.format), document
    from ruleengine.backtest.differ import Differ, explain_example

    old, new = loaded
    differ = Differ(by_month=by_month)
    # NEW reuses what OLD worked out for each customer (engine.paired), in any number of jobs.
    run_diff(
        old.engine,
        new.engine,
        source,
        now=args.now,
        differ=differ,
        writer=writer,
        progress=progress,
        jobs=args.jobs,
    )
    examples = [
        explain_example(diff, data, old.engine, new.engine, args.now)
        for _, data, diff in differ.examples()
    ]
    document = diff_document(
        old=_side(old),
        new=_side(new),
        source=source.name,
        now=args.now,
        by_month=by_month,
        customers=differ.old.customers,
        customers_changed=differ.customers_changed,
        rows=differ.rows(new.engine.ruleset.model.currency),
        totals=differ.totals(new.engine.ruleset.model.currency),
        examples=examples,
        currency=new.engine.ruleset.model.currency,
    )
    return render(document, args.format), document


def _side(rules: Any) -> dict[str, str]:
    return {
        "rules": rules.name,
        "program": rules.engine.ruleset.program,
        "ruleset_hash": rules.engine.ruleset.hash,
        "currency": rules.engine.ruleset.model.currency,
    }
