"""What every command shares: exit codes, the usage error, colour, argument types, and
finding the rule files named on the command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 101


class UsageError(Exception):
    """A problem with how the command was called (exit 2)."""


class ExitError(Exception):
    """Stops a command with an exit code after its problems were printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def use_color(stream: TextIO, choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def discover_rule_files(paths: Sequence[str]) -> list[Path]:
    """Rule files named by `paths`: files as given, folders searched recursively for
    `*.yaml`/`*.yml` (rule test files, `*.test.yaml`, and hidden folders are skipped)."""
    from ruleengine.rules.discovery import files_below, is_rule_file

    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            matches = files_below(path, is_rule_file)
            if not matches:
                raise UsageError(f"no rule files (*.yaml, *.yml) found in `{text}`")
            found.extend(matches)
        else:
            found.append(path)  # one that cannot be read is reported by the checker (RE100)
    return found


def now_of(args: argparse.Namespace) -> datetime:
    """`--now`, or the clock: the command line is the one place that reads it."""
    return args.now if args.now is not None else datetime.now(UTC)


def iso_date(text: str) -> date:
    """A day written YYYY-MM-DD, as in rule files (`--today`)."""
    from ruleengine.expr.runtime import parse_day  # not for `--help` (it loads msgspec)

    try:
        return parse_day(text)
    except ValueError as error:
        from ruleengine.rules.structure_hints import date_hint  # only for a problem

        hint = date_hint(text)
        raise argparse.ArgumentTypeError(str(error) + (f": {hint}" if hint else "")) from None


def iso_datetime(text: str) -> datetime:
    from ruleengine.expr.runtime import parse_moment  # not for `--help` (it loads msgspec)

    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
