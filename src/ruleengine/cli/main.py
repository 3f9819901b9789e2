"""The `ruleengine` command line.

Exit codes (stable, as in ruff): 0 clean, 1 problems found in the input, 2 usage or I/O
errors, 101 internal error (a traceback is printed only with `--debug`). Heavy modules are
imported inside the commands, so `ruleengine --help` starts fast.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ruleengine import __version__
from ruleengine.cli.common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, ExitError, UsageError
from ruleengine.cli.evaluate import add_eval_commands
from ruleengine.cli.fmt import add_fmt_command
from ruleengine.cli.rule_tests import add_test_command
from ruleengine.cli.schema import add_schema_command
from ruleengine.cli.timeline import add_timeline_command
from ruleengine.cli.validate import add_validate_command


def _add_serve(commands: Any) -> None:
    from ruleengine.service.command import add_serve_command  # argparse only; no web stack

    add_serve_command(commands)


def _add_backtest(commands: Any) -> None:
    from ruleengine.backtest.command import add_backtest_commands  # argparse only, no duckdb

    add_backtest_commands(commands)


# Each command's names and the function that adds its parser, in `--help`'s order.
_COMMANDS: tuple[tuple[tuple[str, ...], Callable[[Any], None]], ...] = (
    (("validate",), add_validate_command),
    (("eval", "explain"), add_eval_commands),
    (("timeline",), add_timeline_command),
    (("test",), add_test_command),
    (("fmt",), add_fmt_command),
    (("schema",), add_schema_command),
    (("serve",), _add_serve),
    (("backtest", "diff"), _add_backtest),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `command` (a command's name), only that command's
    parser is added below it: what a run of that command reads, built in a fraction of the
    time (the other commands' parsers, and the edge packages' modules that add them, are
    start-up time `ruleengine eval` does not need)."""
    parser = argparse.ArgumentParser(
        prog="ruleengine",
        description="Check and run loyalty rule files.",
        epilog="exit codes: 0 clean, 1 problems found, 2 usage or I/O error, 101 internal error",
    )
    parser.add_argument("--version", action="version", version=f"ruleengine {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for names, add in _COMMANDS:
        if command is None or command in names:
            add(commands)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command an argument list runs when it names one first (`eval ...`); None for
    anything else (`--help`, `--debug eval`, a mistyped command), which the whole parser
    reads, so its help and its errors list every command."""
    first = argv[0] if argv else None
    return first if any(first in names for names, _ in _COMMANDS) else None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(arguments))
    args = parser.parse_args(arguments)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except UsageError as error:
        print(f"ruleengine: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ExitError as stop:
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
