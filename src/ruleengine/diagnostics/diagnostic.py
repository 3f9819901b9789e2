"""One diagnostic type for every phase, and the collector each phase reports into."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import msgspec

from ruleengine.diagnostics.source import SourceFile, Span
from ruleengine.errors import RuleEngineError
from ruleengine.limits import DEFAULT_LIMITS

PathPart = str | int


class Severity(enum.StrEnum):
    """How much a diagnostic matters.

    An error stops the pipeline and fails every run; a warning fails `validate --strict`; a
    note is information that depends on the day (an ended campaign window) and fails a run only
    when asked for with `--fail-on note`, so a merchant's CI does not turn red on the day a
    campaign ends.
    """

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem found in a rule file, a snapshot or an expression.

    `code` is the stable contract ("RE402"); `message` is one line for people and may be
    reworded. Lines and columns are 1-based and count characters; `end_line`/`end_column` point
    just past the problem. `path` is where the problem sits in the YAML document, in the style of
    jsonschema's `absolute_path`.
    """

    code: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    snippet: str
    hint: str | None = None
    path: tuple[PathPart, ...] = ()
    snippet_column: int = 1  # the column of the snippet's first character (1 unless cut)
    snippet_cut: bool = False  # the first line of the snippet is a window of a long line

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)

    def to_dict(self) -> dict[str, object]:
        """The stable JSON form: these keys are a contract for tools. `snippet_column` is
        there only for a snippet cut from a long line (its first character's column, 1 when
        the window starts with the line)."""
        data: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "snippet": self.snippet,
            "hint": self.hint,
            "path": list(self.path),
        }
        if self.snippet_column != 1 or self.snippet_cut:
            data["snippet_column"] = self.snippet_column
        return data


def make_diagnostic(
    source: SourceFile,
    span: Span,
    code: str,
    message: str,
    *,
    hint: str | None = None,
    path: Sequence[PathPart] = (),
    severity: Severity | None = None,
) -> Diagnostic:
    """Build a diagnostic at `span` of `source`; the severity defaults to the code's."""
    from ruleengine.diagnostics.codes import CODES  # the catalogue: only when there is a problem

    info = CODES[code]
    start = source.location(span.start)
    end = source.location(span.end)
    snippet, snippet_column = source.snippet_window(span)
    return Diagnostic(
        code=code,
        severity=severity or Severity(info.severity),
        message=message,
        file=source.name,
        line=start.line,
        column=start.column,
        end_line=end.line,
        end_column=end.column,
        snippet=snippet,
        hint=hint,
        path=tuple(path),
        snippet_column=snippet_column,
        snippet_cut=source.line_is_cut(start.line),
    )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in reading order (file, line, column, code), without exact duplicates."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


class DiagnosticSink(msgspec.Struct, dict=True):
    """Collects a phase's diagnostics for one source file, so a phase reports all it finds.

    `dropped` counts, per severity, the diagnostics past `limit`; it is not a field (not an
    argument, not compared or shown) but an attribute in the instance's `__dict__`."""

    source: SourceFile
    diagnostics: list[Diagnostic] = msgspec.field(default_factory=list)
    limit: int = DEFAULT_LIMITS.max_diagnostics  # kept in full; the rest are only counted

    if TYPE_CHECKING:
        dropped: ClassVar[list[int]]  # set per instance, in `__dict__`

    def __post_init__(self) -> None:
        self.__dict__["dropped"] = [0, 0, 0]

    def report(
        self,
        span: Span,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        path: Sequence[PathPart] = (),
        severity: Severity | None = None,
    ) -> None:
        from ruleengine.diagnostics.codes import CODES  # the catalogue: only for a problem

        level = severity or Severity(CODES[code].severity)
        if len(self.diagnostics) >= self.limit:  # counted, not built: no work past the limit
            self.dropped[_RANK[level]] += 1
            return
        self.diagnostics.append(
            make_diagnostic(self.source, span, code, message, hint=hint, path=path, severity=level)
        )

    @property
    def has_errors(self) -> bool:
        return bool(self.dropped[0]) or has_errors(self.diagnostics)

    def finished(self) -> list[Diagnostic]:
        """Every diagnostic, sorted, up to `limit`; past it, the first `limit` and a last
        RE110 at the end of the file that counts the rest, as severe as the worst of them
        (so a file never passes because its errors were not shown)."""
        found = sort_diagnostics(self.diagnostics)
        dropped = list(self.dropped)
        for diagnostic in found[self.limit :]:
            dropped[_RANK[diagnostic.severity]] += 1
        if not sum(dropped):
            return found
        worst = next(level for level in Severity if dropped[_RANK[level]])
        end = len(self.source.text)
        summary = make_diagnostic(
            self.source,
            Span(end, end),
            "RE110",
            f"and {sum(dropped):,} more; at most {self.limit:,} diagnostics are reported per file",
            hint="fix the ones reported and check again, or raise `Limits.max_diagnostics`",
            severity=worst,
        )
        return [*found[: self.limit], summary]


_RANK = {level: index for index, level in enumerate(Severity)}


class RuleSetError(RuleEngineError):
    """Raised by the API when a rule file has errors; carries every diagnostic, sorted."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = (
            f"{first.file}:{first.line}:{first.column}: {first.code} {first.message}"
            if first
            else "invalid ruleset"
        )
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(summary + more)

    def __reduce__(self) -> tuple[type[RuleSetError], tuple[list[Diagnostic]]]:
        return type(self), (self.diagnostics,)
