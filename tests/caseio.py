"""Reading the YAML case files: YAML 1.2-style scalars, so timestamps and `on:` stay text."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml


class CaseLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's timestamp and yes/no/on/off booleans."""


CaseLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_cases(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CaseLoader)  # a SafeLoader subclass


ROOT = Path(__file__).parent.parent
CASES_ROOT = ROOT / "tests" / "cases"
EXAMPLE_RULES = ROOT / "examples" / "rules"


ACME_EVAL = (
    "eval",
    str(EXAMPLE_RULES / "acme.yaml"),
    "--snapshot",
    str(ROOT / "examples" / "snapshots" / "acme-maria.json"),
    "--now",
    "2026-06-01T00:00:00Z",
)
"""`ruleengine eval` of one acme customer: the command whose start-up issue #18 measures."""


def cli_in_a_fresh_process(prelude: str, report: str, args: tuple[str, ...] = ACME_EVAL) -> str:
    """Run `ruleengine *args` in a new interpreter, after `prelude` (statements), and return
    what `report` (an expression, evaluated after the command) printed on the last line.
    The command must exit 0."""
    script = (
        f"import sys\n{prelude}\n"
        "from ruleengine.cli import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "except SystemExit as stop:\n"
        "    code = stop.code\n"
        f"print({report})\n"
        "sys.exit(code)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return completed.stdout.splitlines()[-1]


def example_rule_files() -> list[Path]:
    """The bundled rule files (their `*.test.yaml` rule tests are not rule files)."""
    return sorted(p for p in EXAMPLE_RULES.glob("*.yaml") if not p.name.endswith(".test.yaml"))


# -- the case corpus: one place that knows the folders, and the golden switch ----------------

# Each folder of case files and the test that reads every file in it. A YAML file under
# tests/cases that is in none of them fails tests/corpus/test_case_files.py, so a new file can
# never be silently left unread.
KINDS: dict[str, str] = {
    "check": "tests/corpus/test_check_cases.py",
    "evaluate": "tests/corpus/test_evaluate_cases.py",
    "parse": "tests/corpus/test_parse_cases.py",
    "types": "tests/corpus/test_typing_cases.py",
    "values": "tests/unit/expr/test_expression_values.py",
}
LOOSE: dict[str, str] = {"fuzz_regressions.yaml": "tests/property/test_fuzz_expressions.py"}

UPDATE_GOLDEN = os.environ.get("RULEENGINE_UPDATE_GOLDEN") == "1"
"""`RULEENGINE_UPDATE_GOLDEN=1 pytest tests/corpus`: cases whose expectation differs get the
actual output written back into their file (see `update_golden`); review the diff."""


def case_files(kind: str) -> list[Path]:
    """Every case file of a kind, sorted; fails when there are none (a moved folder must not
    turn its tests into zero tests)."""
    assert kind in KINDS, f"unknown case kind {kind!r}; add it to caseio.KINDS"
    files = sorted((CASES_ROOT / kind).glob("*.yaml"))
    assert files, f"no case files in tests/cases/{kind}"
    return files


def update_golden(path: Path, name: str, key: str, value: Any) -> None:
    """Set case `name`'s `key` in `path` to `value`, rewriting only that key's lines: the
    comments, order and layout of everything else in the file stay as they were. A list is
    written an item a line, each mapping in flow style, as the corpus writes its records. A
    case written on one line (`- {name: x, expr: ..., type: int}`) stays on one line."""
    lines = path.read_text(encoding="utf-8").split("\n")
    one_line = re.compile(rf"- \{{name: {re.escape(name)}[,}}].*")
    for i, line in enumerate(lines):
        if one_line.fullmatch(line):
            case = yaml.load(line[2:], Loader=CaseLoader)  # a SafeLoader subclass
            case[key] = value
            lines[i] = f"- {_flow(case)}"
            path.write_text("\n".join(lines), encoding="utf-8")
            return
    start = next(
        i for i, line in enumerate(lines) if re.fullmatch(rf"- name: {re.escape(name)}\s*", line)
    )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("- ")), len(lines))
    at = next((i for i in range(start, end) if re.match(rf"  {re.escape(key)}:", lines[i])), None)
    if at is None:  # a key the case left at its default: added after the case's last line
        at = max(i for i in range(start, end) if lines[i].strip() and not lines[i].startswith("#"))
        at += 1
        lines.insert(at, f"  {key}:")
        end += 1
    stop = at + 1
    while stop < end and (lines[stop].startswith("   ") or lines[stop].startswith("  - ")):
        stop += 1
    if isinstance(value, list):
        block = [f"  {key}:" if value else f"  {key}: []"] + [f"    - {_flow(v)}" for v in value]
    else:
        block = [f"  {key}: {_flow(value)}"]
    lines[at:stop] = block
    path.write_text("\n".join(lines), encoding="utf-8")


def _flow(item: Any) -> str:
    text = yaml.safe_dump(
        item, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False
    )
    return text.strip().removesuffix("...").strip()


def golden_file(kind: str, name: str, root: Path = CASES_ROOT) -> Path:
    """The case file of `kind` that holds the case `name`."""
    pattern = re.compile(rf"^- (?:name: |\{{name: ){re.escape(name)}(?:[,}}]|\s*$)", re.MULTILINE)
    found = [
        p for p in sorted((root / kind).glob("*.yaml")) if pattern.search(p.read_text("utf-8"))
    ]
    assert len(found) == 1, f"case {name!r} is in {len(found)} files of tests/cases/{kind}"
    return found[0]


def expect_golden(
    kind: str,
    name: str,
    key: str,
    actual: Any,
    expected: Any,
    *,
    root: Path = CASES_ROOT,
    update: bool = True,
) -> None:
    """Assert that the output `actual` equals the case's `key` (compared as JSON text, so `1`
    is not `true` and `1.0` is not `1`). Under `RULEENGINE_UPDATE_GOLDEN=1` a case that
    differs gets `actual` written into its file instead: every kind of golden case (check,
    evaluate, parse, types, values) is updated the same way; `update=False` keeps a case
    whose expectation is right though the code disagrees (a strict xfail)."""
    if json.dumps(actual, default=str) == json.dumps(expected, default=str):
        return
    if UPDATE_GOLDEN and update:
        update_golden(golden_file(kind, name, root), name, key, actual)
        return
    raise AssertionError(f"{kind}/{name}: {key} is {actual!r}, the case says {expected!r}")
