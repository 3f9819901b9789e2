"""The `ruleengine` command line.

Exit codes (stable, as in ruff): 0 clean, 1 problems found in the input, 2 usage or I/O
errors, 101 internal error (a traceback is printed only with `--debug`). Heavy modules are
imported inside the commands, so `ruleengine --help` starts fast.
"""

import argparse
import sys
from collections.abc import Callable, Sequence

from ruleengine import __version__
from ruleengine.cli.common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, ExitError, UsageError
from ruleengine.cli.evaluate import add_eval_commands
from ruleengine.cli.fmt import add_fmt_command
from ruleengine.cli.rule_tests import add_test_command
from ruleengine.cli.schema import add_schema_command
from ruleengine.cli.timeline import add_timeline_command
from ruleengine.cli.validate import add_validate_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ruleengine",
        description="Check and run loyalty rule files.",
        epilog="exit codes: 0 clean, 1 problems found, 2 usage or I/O error, 101 internal error",
    )
    parser.add_argument("--version", action="version", version=f"ruleengine {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    add_validate_command(commands)
    add_eval_commands(commands)
    add_timeline_command(commands)
    add_test_command(commands)
    add_fmt_command(commands)
    add_schema_command(commands)

    from ruleengine.service.command import add_serve_command  # argparse only; no web stack

    add_serve_command(commands)

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
