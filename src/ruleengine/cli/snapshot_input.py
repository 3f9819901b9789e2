"""Snapshot text as the command line reads it: JSON text -> `Snapshot`, or its problems.

`eval`, `explain` and each line of `eval --snapshots` read snapshots here, so every path
words problems, and applies the size and nesting limits, alike. Problems are returned as
data (`InputProblem`); the command prints them, once, where it decides to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ruleengine.engine.snapshot import Snapshot, SnapshotError

if TYPE_CHECKING:
    from ruleengine.engine.engine import Engine


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One problem with a snapshot's text: where (`file`, `file:line` or `file:line:column`),
    its code and message, and for a value that breaks the contract its JSON path and hint."""

    where: str
    code: str
    message: str
    path: str | None = None
    hint: str | None = None

    def text(self) -> str:
        """The problem as one line of standard error."""
        if self.path is None:
            return f"{self.where}: error[{self.code}] {self.message}"
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.where}: {self.path}: error[{self.code}] {self.message}{hint}"


def problems_text(problems: Sequence[InputProblem]) -> str:
    """The problems as standard error shows them: a line each."""
    return "".join(problem.text() + "\n" for problem in problems)


def read_snapshot_text(
    engine: Engine, text: str, name: str, line: int | None = None
) -> Snapshot | list[InputProblem]:
    """JSON text -> the engine's `Snapshot`, or every problem found. `line` is the line of the
    text in its file, for JSON Lines input."""
    where = name if line is None else f"{name}:{line}"
    limit = engine.limits.max_snapshot_bytes
    if len(text) > limit:  # characters, at least as many bytes: refused before parsing
        return [InputProblem(where, "RE614", f"the snapshot is larger than {limit:,} bytes")]
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        at = f"{name}:{(line or 1) + error.lineno - 1}:{error.colno}"
        return [InputProblem(at, "RE611", f"the snapshot is not valid JSON: {error.msg}")]
    except RecursionError:  # the standard parser recurses once per nesting level
        return [InputProblem(where, "RE614", "the snapshot is nested too deeply")]
    try:
        return engine.read_snapshot(data, name=where)
    except SnapshotError as error:
        return [
            InputProblem(where, p.code, p.message, path=p.path, hint=p.hint) for p in error.problems
        ]
