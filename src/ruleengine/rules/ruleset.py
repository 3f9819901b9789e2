"""The pipeline from rule file text to a compiled `RuleSet`, with a gate between phases.

text -> located YAML tree -> validated model -> ruleset semantics -> expression ASTs ->
checked ASTs -> compiled evaluators. Each phase reports all of its diagnostics; the pipeline
stops after the first phase that found an error, because later phases would only repeat the
problem in other words. Warnings never stop it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import msgspec

try:  # CPython's own SHA-256: `hashlib` loads OpenSSL first, ~3 ms of every start-up
    from _sha256 import sha256  # type: ignore[import-not-found]  # CPython's; no stubs
except ImportError:  # a build without it (Python 3.12 names it `_sha2`): the same digest
    from hashlib import sha256

from ruleengine.diagnostics.diagnostic import (
    Diagnostic,
    DiagnosticSink,
    PathPart,
    RuleSetError,
    has_errors,
    make_diagnostic,
    sort_diagnostics,
)
from ruleengine.diagnostics.source import SourceFile, Span
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.checker import check_expression
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.printer import normalise_spacing
from ruleengine.expr.program import ProgramLike, compile_program
from ruleengine.expr.scope import Scope
from ruleengine.expr.size import expression_size_problems, length_problem
from ruleengine.expr.types import BOOL, INT, BoolType, DecimalType, MoneyType, OptionalType, Type
from ruleengine.expr.values import Duration
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.models import RuleSetFile
from ruleengine.rules.semantics import check_semantics
from ruleengine.rules.semantics_tiers import tier_literal_problems
from ruleengine.rules.structure import validate_document
from ruleengine.rules.vocabulary import earning_scope, milestone_scope, redeeming_scope
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedScalar, find_node, span_of
from ruleengine.rules.yaml_source import decode_source, read_document


@dataclass(frozen=True)
class CompiledExpression:
    """A rule's condition or formula: its checked AST and the compiled evaluator."""

    path: tuple[PathPart, ...]
    checked: CheckedExpr
    evaluate: ProgramLike

    @property
    def text(self) -> str:
        return self.checked.source.text

    def report(self, span: Span, code: str, message: str) -> Diagnostic:
        """A diagnostic at `span` (expression offsets) of this expression, in the file."""
        return self.checked.source.report(span, code, message)


@dataclass(frozen=True)
class RuleSet:
    """A checked and compiled rule file: immutable, and safe to share between threads."""

    model: RuleSetFile
    source: SourceFile
    expressions: MappingProxyType[tuple[PathPart, ...], CompiledExpression]
    warnings: tuple[Diagnostic, ...] = field(default=())

    @property
    def program(self) -> str:
        return self.model.program

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.model.timezone)

    @property
    def hash(self) -> str:
        """`sha256:` of the ruleset's canonical content: formatting and comments do not count,
        every value does. Results carry it so a decision can be traced to the rules that made it."""
        return content_hash(self.model)

    def expression(self, *path: PathPart) -> CompiledExpression | None:
        return self.expressions.get(tuple(path))


# Where rule files hold expressions (the formatter respaces the same ones).
EXPRESSION_KEYS = (("earning", "when"), ("earning", "points"), ("milestones", "when"))


def content_hash(model: RuleSetFile) -> str:
    """`sha256:` of the model's values, each expression in its canonical spacing
    (`normalise_spacing`, what `fmt` writes): `x!= null` and `x != null` hash alike, so
    formatting a file never changes its hash. Expressions already spaced canonically hash as
    their text always did."""
    data = model.model_dump(mode="json", by_alias=True)
    for section, key in EXPRESSION_KEYS:
        for rule in data.get(section) or ():
            text = rule.get(key)
            if isinstance(text, str):
                rule[key] = normalise_spacing(text)  # as written if it does not lex
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    digest: str = sha256(canonical.encode()).hexdigest()
    return "sha256:" + digest


@dataclass(frozen=True)
class CheckResult:
    """What checking a rule file found: the ruleset (None when there are errors) and every
    diagnostic, sorted, warnings included."""

    ruleset: RuleSet | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.ruleset is not None


def check_source(
    source: SourceFile,
    *,
    today: date | None = None,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> CheckResult:
    """Run the whole pipeline on one rule file's text.

    `today` (a day in the ruleset's time zone) or `now` (an aware moment, whose day is taken
    in the ruleset's time zone) enables the warning for windows that have already ended;
    `today` wins when both are given. `limits` bounds the sizes a file may have."""
    if len(source.text) > limits.max_file_bytes:
        return CheckResult(None, [file_too_large(source, limits)])
    root, diagnostics = read_document(source, limits)
    if root is None or has_errors(diagnostics):
        return CheckResult(None, sort_diagnostics(diagnostics))
    sink = DiagnosticSink(source, list(diagnostics), limit=limits.max_diagnostics)
    model = validate_document(root, sink)
    if model is None or sink.has_errors:
        return CheckResult(None, sink.finished())
    check_sizes(model, root, sink, limits)
    if sink.has_errors:
        return CheckResult(None, sink.finished())
    check_semantics(model, root, sink, today, now=now)
    if sink.has_errors:
        return CheckResult(None, sink.finished())
    expressions = _compile_expressions(model, root, sink, limits)
    if model.tiers is not None and not sink.has_errors:
        checked = [expression.checked for expression in expressions.values()]
        sink.diagnostics.extend(tier_literal_problems(model.tiers, checked))
    found = sink.finished()
    if sink.has_errors:
        return CheckResult(None, found)
    ruleset = RuleSet(model, source, MappingProxyType(expressions), tuple(found))
    return CheckResult(ruleset, found)


def duplicate_programs(
    checked: list[tuple[SourceFile, RuleSet]], limits: Limits = DEFAULT_LIMITS
) -> list[Diagnostic]:
    """RE524 for each ruleset whose `program` an earlier one in `checked` already defines, at
    its `program` value: the files a folder holds, in the order `ruleengine serve` ranks them
    (the first one serves). Only a duplicate's document is read again, to locate it."""
    first: dict[str, SourceFile] = {}
    found: list[Diagnostic] = []
    for source, ruleset in checked:
        program = ruleset.program
        earlier = first.setdefault(program, source)
        if earlier is source:
            continue
        root, _ = read_document(source, limits)
        span = span_of(root, ("program",)) if root is not None else Span(0, 0)
        found.append(
            make_diagnostic(
                source,
                span,
                "RE524",
                f"program `{program}` is already defined in {earlier.name}",
                hint=f"served from one folder, `{program}` is {earlier.name}'s and this file "
                "is not served: give each file its own `program`, or delete the old one",
                path=("program",),
            )
        )
    return found


def read_source(
    path: Path, name: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> SourceFile | Diagnostic:
    """Read and decode a rule file; an unreadable, oversized or undecodable file gives a
    diagnostic. The size is checked before anything is read, and at most one byte more than
    the limit is ever read, whatever the file is (a FIFO or `/dev/zero` has no size to check)."""
    display = name if name is not None else str(path)
    try:
        data = read_bounded(path, limits.max_file_bytes)
        if data is None:
            return file_too_large(SourceFile(display, ""), limits)
    except IsADirectoryError:
        return _io_error(display, "is a directory, not a rule file")
    except FileNotFoundError:
        return _io_error(display, "no such file")
    except OSError as error:
        return _io_error(display, f"cannot be read: {error.strerror or error}")
    return decode_source(display, data)


def read_bounded(path: Path, limit: int) -> bytes | None:
    """The bytes of `path`, or None when it holds more than `limit` bytes; never reads more
    than `limit + 1` bytes. Raises `OSError` as `open` and `read` do."""
    with path.open("rb") as stream:
        status = os.fstat(stream.fileno())
        if stat.S_ISREG(status.st_mode) and status.st_size > limit:
            return None  # a regular file says its size: refused before reading
        data = stream.read(limit + 1)
    return None if len(data) > limit else data


def file_too_large(source: SourceFile, limits: Limits) -> Diagnostic:
    """RE108 for `source`, refused before it is parsed."""
    return make_diagnostic(
        SourceFile(source.name, ""),
        Span(0, 0),
        "RE108",
        f"the file is larger than {limits.max_file_bytes:,} bytes",
        hint="split the program into several files, or raise `Limits.max_file_bytes`",
    )


def check_sizes(
    model: RuleSetFile, root: LocatedMapping, sink: DiagnosticSink, limits: Limits
) -> None:
    """RE516 for more rules, steps or rewards than `limits` allow, at the list that has them."""

    def report(path: tuple[PathPart, ...], what: str, count: int, limit: int) -> None:
        sink.report(
            span_of(root, path, key=True),
            "RE516",
            f"{count} {what}; at most {limit:,} are allowed",
            hint="split the program, or raise the limit in the host's `Limits`",
            path=path,
        )

    rules = len(model.earning) + len(model.milestones)
    if rules > limits.max_rules:
        section = "milestones" if model.milestones else "earning"
        report((section,), "rules", rules, limits.max_rules)
    for index, milestone in enumerate(model.milestones):
        steps = milestone.steps or []
        if len(steps) > limits.max_steps:
            report(("milestones", index, "steps"), "steps", len(steps), limits.max_steps)
        specs = [((*("milestones", index), "reward"), milestone.reward)] + [
            (("milestones", index, "steps", n, "reward"), step.reward)
            for n, step in enumerate(steps)
        ]
        for path, spec in specs:
            if spec is not None and len(spec.rewards) > limits.max_rewards:
                report((*path, "rewards"), "rewards", len(spec.rewards), limits.max_rewards)
    check_day_counts(model, root, sink, limits)


def check_day_counts(
    model: RuleSetFile, root: LocatedMapping, sink: DiagnosticSink, limits: Limits
) -> None:
    """RE520 for a hold, a pending time or an inactivity target longer than
    `limits.max_days`, at the value: the engine adds them to timestamps, and a span of
    thousands of years would leave the calendar (or, for `Engine`, fail building it)."""

    def report(path: tuple[PathPart, ...], what: str) -> None:
        sink.report(
            span_of(root, path),
            "RE520",
            f"{what} is longer than {limits.max_days:,} days",
            hint="use a realistic span, or raise `Limits.max_days` in the host",
            path=path,
        )

    for index, rule in enumerate(model.earning):
        if rule.pending_days is not None and rule.pending_days > limits.max_days:
            report(("earning", index, "pending_days"), "`pending_days`")
    for index, milestone in enumerate(model.milestones):
        here: tuple[PathPart, ...] = ("milestones", index)
        requirements = milestone.order_requirements
        if requirements is not None and requirements.refund_hold_days > limits.max_days:
            report((*here, "order_requirements", "refund_hold_days"), "`refund_hold_days`")
        targets = [((*here, "target"), milestone.target)] + [
            ((*here, "steps", n, "target"), step.target)
            for n, step in enumerate(milestone.steps or [])
        ]
        for path, target in targets:
            if isinstance(target, str) and _days_in(target) > limits.max_days:
                report(path, "the target")


def _days_in(text: str) -> int:
    """The most days a duration text can span (a month counted as 31 days); 0 when it is not
    a duration, which the semantic checks report."""
    try:
        duration = Duration.parse(text)
    except ValueError:
        return 0
    return duration.months * 31 + -(-duration.seconds // 86400)


def _io_error(name: str, message: str) -> Diagnostic:
    return make_diagnostic(SourceFile(name, ""), Span(0, 0), "RE100", f"`{name}` {message}")


def check_ruleset(
    path_or_text: str | Path,
    *,
    today: date | None = None,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Diagnostic]:
    """Every diagnostic for a rule file (errors and warnings); never raises for bad input.

    A `Path`, or a `str` without a line break, is a file path; any other `str` is rule text.
    `today` or `now` date the window warnings, as for `check_source`.
    """
    source = _source_of(path_or_text, limits)
    if isinstance(source, Diagnostic):
        return [source]
    return check_source(source, today=today, now=now, limits=limits).diagnostics


def load_ruleset(
    path_or_text: str | Path,
    *,
    today: date | None = None,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RuleSet:
    """Check and compile a rule file; raises `RuleSetError` carrying every diagnostic.

    A `Path`, or a `str` without a line break, is a file path; any other `str` is rule text.
    `today` or `now` date the window warnings, as for `check_source`.
    """
    source = _source_of(path_or_text, limits)
    if isinstance(source, Diagnostic):
        raise RuleSetError([source])
    result = check_source(source, today=today, now=now, limits=limits)
    if result.ruleset is None:
        raise RuleSetError(result.diagnostics)
    return result.ruleset


def _source_of(path_or_text: str | Path, limits: Limits) -> SourceFile | Diagnostic:
    if isinstance(path_or_text, Path):
        return read_source(path_or_text, limits=limits)
    if "\n" in path_or_text:
        return SourceFile("<string>", path_or_text)
    return read_source(Path(path_or_text), path_or_text, limits)


# -- expressions ----------------------------------------------------------------------------------


class _Site(msgspec.Struct, frozen=True):
    """Where an expression stands in the file and what it must produce."""

    path: tuple[PathPart, ...]
    scope: Scope
    expected: Type


def _expression_sites(model: RuleSetFile) -> Iterator[_Site]:
    for index, rule in enumerate(model.earning):
        scope = earning_scope(rule.on, model.attributes, model.events)
        if rule.when is not None:
            yield _Site(("earning", index, "when"), scope, BOOL)
        yield _Site(("earning", index, "points"), scope, INT)
    milestone_names = milestone_scope(model.attributes)
    for index, milestone in enumerate(model.milestones):
        if milestone.when is not None:
            yield _Site(("milestones", index, "when"), milestone_names, BOOL)
    redeeming_names = redeeming_scope(model.attributes)
    for index, program in enumerate(model.redeeming):
        if program.when is not None:
            yield _Site(("redeeming", index, "when"), redeeming_names, BOOL)


def _compile_expressions(
    model: RuleSetFile, root: LocatedMapping, sink: DiagnosticSink, limits: Limits
) -> dict[tuple[PathPart, ...], CompiledExpression]:
    compiled: dict[tuple[PathPart, ...], CompiledExpression] = {}
    for site in _expression_sites(model):
        node = find_node(root, site.path)
        assert isinstance(node, LocatedScalar), site.path  # validated as a scalar
        src = ExpressionSource(node.text, sink.source, node.offsets, site.path)
        too_long = length_problem(src, limits)
        if too_long is not None:
            sink.diagnostics.append(too_long)
            continue
        expr, problems = parse_expression(src)
        if expr is None and node.style is None:
            problems = _yaml_number_hint(problems, node.value)
        sink.diagnostics.extend(problems)
        if expr is None:
            continue
        size_problems = expression_size_problems(expr, src, limits)
        if size_problems:
            sink.diagnostics.extend(size_problems)
            continue
        checked, problems = check_expression(expr, site.scope, src)
        sink.diagnostics.extend(problems)
        if checked is None:
            continue
        problem = _result_problem(checked, site)
        if problem is not None:
            sink.diagnostics.append(problem)
            continue
        compiled[site.path] = CompiledExpression(site.path, checked, compile_program(checked))
    return compiled


def _yaml_number_hint(problems: list[Diagnostic], value: object) -> list[Diagnostic]:
    """A plain `points: 0x10` or `+5` is a YAML number (16, 5) but no expression: the syntax
    error gets the number to write, when the parser had no hint of its own."""
    if type(value) not in (int, Decimal):
        return problems
    written = f"{value:f}" if isinstance(value, Decimal) else str(value)
    hint = (
        "expressions write numbers as digits with an optional `.`, such as `1000` or "
        f"`0.5`: write `{written}`"
    )
    return [replace(d, hint=hint) if d.code == "RE301" and d.hint is None else d for d in problems]


def _result_problem(checked: CheckedExpr, site: _Site) -> Diagnostic | None:
    """A diagnostic when the expression's type is not what its key needs."""
    actual = checked.type
    if actual == site.expected:
        return None
    span = checked.root.span
    src = checked.source
    if isinstance(actual, OptionalType) and actual.inner == site.expected:
        text = src.text[span.start : span.end].strip()
        return src.report(
            span,
            "RE409",
            f"`{text}` may be null",
            hint=f"give a default: `coalesce({text}, {'false' if site.expected == BOOL else '0'})`",
        )
    if isinstance(site.expected, BoolType):
        return src.report(
            span,
            "RE407",
            f"a condition must be true/false, but this is `{actual}`",
            hint=_bool_hint(actual),
        )
    hint = (
        "round explicitly: `floor(...)`, `round(...)` or `ceil(...)`"
        if isinstance(actual, DecimalType | MoneyType)
        else None
    )
    return src.report(
        span, "RE408", f"points must be a whole number, but this is `{actual}`", hint=hint
    )


def _bool_hint(actual: Type) -> str | None:
    if isinstance(actual, MoneyType | DecimalType) or actual == INT:
        return "compare the value, for example `... > 0`"
    return None
