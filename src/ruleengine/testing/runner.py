"""Running one case: read its snapshot, evaluate it at the case's `now`, compare the result."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ruleengine.diagnostics.diagnostic import Diagnostic, PathPart, make_diagnostic
from ruleengine.diagnostics.source import SourceFile, Span
from ruleengine.engine.decisions import EvaluationResult
from ruleengine.engine.engine import Engine
from ruleengine.engine.snapshot import SnapshotError, SnapshotProblem
from ruleengine.rules.yaml_nodes import LocatedNode, span_of
from ruleengine.rules.yaml_source import read_document
from ruleengine.testing.compare import Mismatch, compare
from ruleengine.testing.loader import Case, LoadedTestFile, SnapshotRef

CaseStatus = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class CaseResult:
    """What running a case gave. `error` means the case could not run (its snapshot is
    missing or invalid); `diagnostics` says why."""

    file: str
    name: str
    line: int
    status: CaseStatus
    mismatches: tuple[Mismatch, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    result: EvaluationResult | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "name": self.name,
            "status": self.status,
            "mismatches": [
                {
                    "part": m.part,
                    "expected": list(m.expected),
                    "actual": list(m.actual),
                    "diff": "\n".join(m.diff()),
                }
                for m in self.mismatches
            ],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def run_case(test_file: LoadedTestFile, case: Case) -> CaseResult:
    """Evaluate the case's snapshot at its `now` and compare with its expectations."""
    assert test_file.rules is not None and test_file.rules.engine is not None
    engine = test_file.rules.engine
    snapshot, problems = _read_snapshot(engine, case.snapshot, test_file)
    if snapshot is None:
        return CaseResult(
            test_file.display, case.name, case.line, "error", diagnostics=tuple(problems)
        )
    result = engine.evaluate(snapshot, now=case.now, explain=True)
    mismatches = compare(case.expect, result)
    status: CaseStatus = "failed" if mismatches else "passed"
    return CaseResult(
        test_file.display, case.name, case.line, status, tuple(mismatches), result=result
    )


def _read_snapshot(
    engine: Engine, ref: SnapshotRef, test_file: LoadedTestFile
) -> tuple[Any, list[Diagnostic]]:
    """The validated snapshot, or None and located diagnostics: a missing file is reported at
    the `snapshot:` value in the test file, bad JSON at its place in the JSON file, and a
    value that breaks the snapshot contract at that value (in either file) when it can be
    found."""
    source = _test_source(test_file)
    json_source: SourceFile | None = None
    if ref.path is None:
        data = ref.inline
    else:
        text = _read_json_text(ref, source, engine.limits.max_snapshot_bytes)
        if isinstance(text, Diagnostic):
            return None, [text]
        json_source = SourceFile(ref.display, text)
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as error:
            span = Span(error.pos, min(error.pos + 1, len(text)))
            message = f"the snapshot is not valid JSON: {error.msg}"
            return None, [make_diagnostic(json_source, span, "RE611", message)]
    try:
        return engine.read_snapshot(data, name=ref.display), []
    except SnapshotError as error:
        where: tuple[SourceFile, LocatedNode] | None = (source, ref.node)
        if json_source is not None:
            located, _ = read_document(json_source)  # JSON is YAML: its tree locates values
            where = (json_source, located) if located is not None else None
        return None, [_snapshot_diagnostic(p, where, ref) for p in error.problems]


def _test_source(test_file: LoadedTestFile) -> SourceFile:
    assert test_file.source is not None  # a test file with cases was read
    return test_file.source


def _read_json_text(ref: SnapshotRef, source: SourceFile, limit: int) -> str | Diagnostic:
    """The snapshot file's text; at most `limit + 1` bytes are read, so a file over the limit
    (or `/dev/zero`) is refused (RE614, as `eval --snapshot` does) without holding it."""
    assert ref.path is not None
    try:
        with ref.path.open("rb") as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            return make_diagnostic(
                source,
                ref.node.span,
                "RE614",
                f"the snapshot file `{ref.display}` is larger than {limit:,} bytes",
                hint="a snapshot holds one customer; split the file or raise "
                "`Limits.max_snapshot_bytes`",
            )
        return data.decode("utf-8-sig")
    except FileNotFoundError:
        problem = "does not exist"
    except IsADirectoryError:
        problem = "is a directory"
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except OSError as error:
        problem = f"cannot be read: {error.strerror or error}"
    return make_diagnostic(
        source,
        ref.node.span,
        "RE100",
        f"the snapshot file `{ref.display}` {problem}",
        hint="`snapshot` is a path relative to this test file, or an inline mapping",
    )


def _snapshot_diagnostic(
    problem: SnapshotProblem, where: tuple[SourceFile, LocatedNode] | None, ref: SnapshotRef
) -> Diagnostic:
    """A snapshot problem at the value its JSON path names, in the JSON file or in the test
    file's inline snapshot (at line 1 of the file when the value cannot be found)."""
    message = f"{problem.path}: {problem.message}"
    if where is None:
        return make_diagnostic(
            SourceFile(ref.display, ""), Span(0, 0), problem.code, message, hint=problem.hint
        )
    source, node = where
    path = _json_path(problem.path)
    span = span_of(node, path)
    return make_diagnostic(source, span, problem.code, message, hint=problem.hint, path=path)


def _json_path(text: str) -> tuple[PathPart, ...]:
    """`$.activity[3].at` -> ("activity", 3, "at")."""
    return tuple(
        int(index) if index else name
        for name, index in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", text)
    )
