"""`ruleengine fmt`: rewrite rule files in canonical layout, comments kept."""

from __future__ import annotations

import argparse
import codecs
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruleengine.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, discover_rule_files, use_color


def command_fmt(args: argparse.Namespace) -> int:
    from ruleengine.diagnostics.diagnostic import Diagnostic
    from ruleengine.diagnostics.render import render_text
    from ruleengine.rules.formatter import format_source, write_atomically
    from ruleengine.rules.ruleset import read_source

    files = discover_rule_files(args.paths)
    changed: list[Path] = []
    failed = False
    color = use_color(sys.stderr, getattr(args, "color", "auto"))
    for path in files:
        # Read as validate reads: the same size limit (RE108) and encoding check (RE106).
        source = read_source(path, str(path))
        if isinstance(source, Diagnostic):
            print(render_text(source, color=color) + "\n", file=sys.stderr)
            if source.code == "RE100":
                return EXIT_USAGE
            print(f"{path}: not formatted: {source.code} {source.message}", file=sys.stderr)
            failed = True
            continue
        text = source.text  # line breaks read as LF, as validate reads them
        result = format_source(source)
        if result.text is None:
            for diagnostic in result.diagnostics:
                print(render_text(diagnostic, color=color) + "\n", file=sys.stderr)
            print(f"{path}: not formatted: {result.error}", file=sys.stderr)
            failed = True
            continue
        if result.text == text:
            continue
        changed.append(path)
        # The file keeps its line breaks (CRLF where at least half of them are CRLF) and its
        # byte order mark, which the reader dropped.
        line_break, mark = _file_form(path)
        if args.diff:
            old, new = (mark + t.replace("\n", line_break) for t in (text, result.text))
            sys.stdout.writelines(unified_diff(old, new, str(path)))
        if not args.check and not args.diff:
            write_atomically(path, mark + result.text.replace("\n", line_break))
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


def unified_diff(old: str, new: str, name: str) -> Iterator[str]:
    """A unified diff that `patch` applies: a last line without a line break is followed by
    `\\ No newline at end of file`, as `diff -u` writes it, instead of running into the next
    line of the diff. Lines keep their own line endings (CRLF too)."""
    import difflib

    lines = difflib.unified_diff(_lines(old), _lines(new), name, f"{name} (formatted)")
    for line in lines:
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n\\ No newline at end of file\n"


def _file_form(path: Path) -> tuple[str, str]:
    """The line break to write, `\\r\\n` for a file at least half of whose line breaks are
    CRLF, else `\\n` (the reader turned them all into LF), and the UTF-8 byte order mark the
    file starts with (Windows editors write one), or "". Reads at most what a rule file may
    hold."""
    from ruleengine.limits import DEFAULT_LIMITS

    try:
        with path.open("rb") as stream:
            data = stream.read(DEFAULT_LIMITS.max_file_bytes + 1)
    except OSError:  # read a moment ago: the text read then is written as LF, without a mark
        return "\n", ""
    crlf = data.count(b"\r\n")
    line_break = "\r\n" if crlf and 2 * crlf >= data.count(b"\n") else "\n"
    return line_break, "\ufeff" if data.startswith(codecs.BOM_UTF8) else ""


def _lines(text: str) -> list[str]:
    """The lines of `text` as `patch` counts them: split at `\\n` only (`splitlines` also
    splits at `\\x0c`, `\\u2028` and others, which YAML text may hold)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def add_fmt_command(commands: Any) -> None:
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
