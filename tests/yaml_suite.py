"""The YAML test suite, from a local checkout: every case through the reader, validate and fmt.

    git clone -b data https://github.com/yaml/yaml-test-suite /tmp/yaml-test-suite
    python -m tests.yaml_suite --suite /tmp/yaml-test-suite

The suite (github.com/yaml/yaml-test-suite, its `data` branch: one folder per case, holding
`in.yaml`, the expected `in.json` or an `error` marker) is not copied into this repository;
the runner reads whatever checkout it is given. Each case runs twice: whole, as a rule file,
and embedded as the value of a rule's `description` in an otherwise valid rule file (not
possible for cases with directives or document markers, which only run whole). For each run:

* a valid case reads as `in.json` says (the same tree on the libyaml and the pure-Python
  path), or is refused with one of the diagnostics `REFUSALS` documents (aliases, tags, ...);
* an invalid case gets an error diagnostic of the reader (RE1xx) at a line and column;
* `validate` ends in diagnostics, never an exception;
* `fmt` never raises; what it writes reads the same as its input and formats to itself; a run
  the reader accepts is formatted, not refused.

Prints one line per failure and the totals `N cases, P pass, R refused (documented), F
failures`; exits 1 when any run failed. Not part of the default test run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruleengine.diagnostics.diagnostic import Diagnostic, DiagnosticSink
from ruleengine.diagnostics.source import SourceFile
from ruleengine.limits import DEFAULT_LIMITS
from ruleengine.rules import yaml_compose
from ruleengine.rules.formatter import format_source
from ruleengine.rules.ruleset import check_source
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedNode, LocatedScalar

# Diagnostics that refuse valid YAML on purpose, each documented in docs/errors.md and
# docs/robustness.md: a rule file is one document of plain values.
REFUSALS = {
    "RE102": "a duplicate key",
    "RE103": "an alias",
    "RE104": "an explicit tag",
    "RE105": "a root that is not a mapping, or no document",
    "RE107": "more than one document",
    "RE109": "nesting past the limit",
    "RE111": "a YAML feature rule files do not use (directives, complex keys, ...)",
    "RE112": "valid YAML 1.2 rule files cannot hold: an empty key",
    "RE203": "a mapping key that is not plain text",
}

RULE_FILE = """\
version: 1
program: suite
currency: EUR
earning:
  - id: r1
    name: Rule one
    on: order
    points: 1
    description:
{value}"""
EMBEDDED_AT: tuple[str | int, ...] = ("earning", 0, "description")


@dataclass
class Run:
    """One case read one way: whole, or embedded."""

    case: str
    how: str
    text: str
    valid: bool
    expected: list[Any] | None  # the documents in.json holds, when it is there
    failures: list[str] = field(default_factory=list)
    refused: str | None = None


_ID = re.compile("[0-9A-Z]{4}")


def cases(suite: Path) -> Iterator[tuple[str, Path]]:
    """(id, folder) of every case, `ABCD` or `ABCD-01` for the folders of a multi-case id."""
    # Each case is a folder named by its id; `name/` and `tags/` hold links to the same cases.
    for folder in sorted(p for p in suite.iterdir() if p.is_dir() and _ID.fullmatch(p.name)):
        if (folder / "in.yaml").is_file():
            yield folder.name, folder
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if (sub / "in.yaml").is_file():
                yield f"{folder.name}-{sub.name}", sub


def json_documents(text: str) -> list[Any]:
    decoder = json.JSONDecoder(parse_float=Decimal)
    documents, at = [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return documents
        value, at = decoder.raw_decode(text, at)
        documents.append(value)


def plain(node: LocatedNode | None) -> Any:
    if node is None:
        return None
    if isinstance(node, LocatedScalar):
        return node.value
    if isinstance(node, LocatedMapping):
        return {key.text: plain(value) for key, value in node.items}
    return [plain(item) for item in node.items]


def same(actual: Any, expected: Any) -> bool:
    """YAML as read against JSON: numbers by value (a JSON `1` is a YAML `1.0` too)."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and sorted(actual) == sorted(expected)
            and all(same(actual[k], v) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | Decimal) and isinstance(actual, int | Decimal):
        return Decimal(actual) == Decimal(expected)
    return type(actual) is type(expected) and actual == expected


def read(text: str, fast: bool) -> tuple[Any, list[Diagnostic]]:
    """The reader's tree (any root, not only a mapping) and its diagnostics, on one path."""
    source = SourceFile("in.yaml", text)
    sink = DiagnosticSink(source, limit=DEFAULT_LIMITS.max_diagnostics)
    depth = DEFAULT_LIMITS.max_nesting_depth
    composed = yaml_compose.compose_fast(text, depth) if fast else None
    if composed is None:
        composed = yaml_compose.compose_pure(source, sink, depth)
        if composed is None:
            return None, sink.finished()
    yaml_compose.finish_compose(composed, source, sink)
    root = composed.root
    tree = None
    if root is not None:
        scratch = DiagnosticSink(source, limit=DEFAULT_LIMITS.max_diagnostics)
        tree = plain(yaml_compose._locate(root, source, scratch))  # a test tool
    return tree, sink.finished()


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]


def check_reading(run: Run) -> None:
    tree, diagnostics = read(run.text, fast=False)
    if yaml_compose.FAST_PATH:
        fast = read(run.text, fast=True)
        if (fast[0], [d.code for d in fast[1]]) != (tree, [d.code for d in diagnostics]):
            run.failures.append(
                f"fast and pure paths differ: {[d.code for d in fast[1]]} vs "
                f"{[d.code for d in diagnostics]}"
            )
    if run.how == "embedded" and tree is not None:
        for part in EMBEDDED_AT:
            tree = tree[part] if isinstance(tree, dict | list) else None
    found = errors(diagnostics)
    if run.how == "whole":  # a rule file's root must be a mapping: that is not the YAML's fault
        found = [d for d in found if d.code != "RE105"] if tree is not None else found
    for diagnostic in found:
        if diagnostic.line < 1 or diagnostic.column < 1:
            run.failures.append(f"{diagnostic.code} is not located")
    if not run.valid:
        if not any(d.code.startswith("RE1") for d in found):
            run.failures.append("invalid YAML read without a diagnostic")
        return
    if found:
        undocumented = [d for d in found if d.code not in REFUSALS]
        if undocumented:
            first = undocumented[0]
            run.failures.append(
                f"valid YAML refused: {first.code} {first.line}:{first.column} {first.message}"
            )
        else:
            run.refused = found[0].code
        return
    if run.expected is not None and len(run.expected) == 1 and not same(tree, run.expected[0]):
        run.failures.append(f"read {tree!r}, in.json says {run.expected[0]!r}")


def check_validate(run: Run) -> None:
    try:
        check_source(SourceFile("in.yaml", run.text))
    except Exception as error:  # a crash: what the runner exists to find
        run.failures.append(f"validate raised {type(error).__name__}: {error}")


def check_fmt(run: Run) -> None:
    source = SourceFile("in.yaml", run.text)
    try:
        result = format_source(source)
    except Exception as error:
        run.failures.append(f"fmt raised {type(error).__name__}: {error}")
        traceback.print_exc(file=sys.stderr)
        return
    tree, diagnostics = read(run.text, fast=False)
    blocking = [d for d in errors(diagnostics) if d.code != "RE105"]
    if result.text is None:
        if not blocking:
            run.failures.append(f"fmt refused a file the reader accepts: {result.error}")
        return
    if blocking:
        run.failures.append(f"fmt formatted a file the reader refuses ({blocking[0].code})")
        return
    after, after_diagnostics = read(result.text, fast=False)
    if after != tree or [d.code for d in after_diagnostics] != [d.code for d in diagnostics]:
        run.failures.append(f"fmt changed the meaning: {tree!r} -> {after!r}")
        return
    before_codes = [d.code for d in check_source(source).diagnostics]
    after_codes = [d.code for d in check_source(SourceFile("in.yaml", result.text)).diagnostics]
    if before_codes != after_codes:
        run.failures.append(f"fmt changed validate's codes: {before_codes} -> {after_codes}")
    again = format_source(SourceFile("in.yaml", result.text))
    if again.text != result.text:
        run.failures.append("fmt is not idempotent")


def embeddable(text: str) -> bool:
    """Whether the case can be indented under a key: no directives, no document markers."""
    return not any(line.startswith(("%", "---", "...")) for line in text.split("\n"))


def embed(text: str) -> str:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(f"      {line}\n" if line else "\n" for line in lines)


def runs_of(case: str, folder: Path) -> Iterator[Run]:
    raw = (folder / "in.yaml").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    valid = not (folder / "error").exists()
    expected = None
    if valid and (folder / "in.json").is_file():
        expected = json_documents((folder / "in.json").read_text(encoding="utf-8"))
    yield Run(case, "whole", text, valid, expected)
    if embeddable(text) and (expected is None or len(expected) <= 1):
        yield Run(case, "embedded", RULE_FILE.format(value=embed(text)), valid, expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.yaml_suite", description=__doc__)
    parser.add_argument("--suite", type=Path, required=True, help="a checkout of the data branch")
    parser.add_argument("--case", action="append", help="only these case ids")
    parser.add_argument("--show", action="store_true", help="print each failing run's text")
    args = parser.parse_args(argv)
    totals: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    failed_cases: set[str] = set()
    for case, folder in cases(args.suite):
        if args.case and case not in args.case:
            continue
        totals["cases"] += 1
        for run in runs_of(case, folder):
            totals["runs"] += 1
            check_reading(run)
            check_validate(run)
            check_fmt(run)
            if run.failures:
                totals["failures"] += 1
                failed_cases.add(case)
                for failure in run.failures:
                    print(f"{case} ({run.how}): {failure}"[:400])
                if args.show:
                    print("    " + run.text.replace("\n", "\n    "))
            elif run.refused is not None:
                totals["refused"] += 1
                refusals[run.refused] += 1
            else:
                totals["pass"] += 1
    print(f"refused by code: {dict(sorted(refusals.items()))}")
    print(
        f"{totals['cases']} cases, {totals['runs']} runs: {totals['pass']} pass, "
        f"{totals['refused']} refused (documented), {totals['failures']} failures "
        f"in {len(failed_cases)} cases"
    )
    return 1 if totals["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
