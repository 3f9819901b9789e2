"""Rule tests: merchants' `*.test.yaml` files, run like unit tests (`ruleengine test`, pytest).

A rule test file names a rule file and lists cases; each case evaluates one customer snapshot at
one moment and states what the engine must decide. The format is in `docs/rule-tests.md`.

The file is read with the project's own located YAML reader (YAML 1.2 scalars: timestamps stay
text, `on` stays a key) and validated strictly by pydantic models that forbid unknown keys, so a
misspelt expectation is an error at its line and column instead of a check that silently never
runs. Checks that need the rule file (does `loyalty-journy/2` name a rule?) run after it has
loaded, for the same reason.

Comparisons are partial where the author wants them to be: a decision or progress expectation
names only the fields it cares about. What is compared is rendered one item per line in a
stable YAML flow style, so a failure is a readable unified diff of expected against actual.

Coverage instruments the compiled `when` conditions of the ruleset (a wrapper around each
evaluator records every value the engine computed), so a condition branch counts as covered
only when the engine itself evaluated it that way; rules and milestone steps are covered by
what the engine's explanations say happened to them (see `docs/rule-tests.md`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import ErrorDetails, PydanticCustomError

from ruleengine.decisions import Decision, EvaluationResult, Progress, format_time, money_text
from ruleengine.diagnostics import (
    Diagnostic,
    PathPart,
    has_errors,
    make_diagnostic,
    sort_diagnostics,
)
from ruleengine.engine import Engine
from ruleengine.expr.compiler import Env
from ruleengine.models import REWARD_TYPES, MilestoneType
from ruleengine.ruleset import CompiledExpression, RuleSet, check_source, read_source
from ruleengine.snapshot import SnapshotError, SnapshotProblem
from ruleengine.source import SourceFile, Span
from ruleengine.validate import FileFormat, Finding, describe, structure_diagnostics
from ruleengine.yaml_source import (
    LocatedMapping,
    LocatedNode,
    LocatedScalar,
    find_node,
    read_document,
    span_of,
    to_plain,
)

TEST_SUFFIXES = (".test.yaml", ".test.yml")  # the same suffixes `ruleengine validate` skips


# == the format ==================================================================================


def _text_only(value: object) -> object:
    """Timestamps are written as text; a number would otherwise be read as a Unix time."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "RE203",
            "a timestamp must be text such as `2026-06-01T00:00:00Z`, not {value}",
            {"value": describe(value)},
        )
    return value


def _number(value: object) -> object:
    """Amounts and counts: a YAML number, or decimal text as `ruleengine eval` prints money
    (`"61.20"`), so expectations can be copied from its output. Never a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PydanticCustomError(
            "RE203", "expected a number, not {value}", {"value": describe(value)}
        )
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise PydanticCustomError(
                "RE203", "expected a number, not {value}", {"value": describe(value)}
            ) from None
        if not number.is_finite():
            raise PydanticCustomError(
                "RE205", "expected a finite number, not `{value}`", {"value": value}
            )
        return number
    return Decimal(value)


def _snapshot_reference(value: object) -> object:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        return value
    raise PydanticCustomError(
        "RE203",
        "`snapshot` must be a path to a JSON file or an inline mapping, not {value}",
        {"value": describe(value)},
    )


def _key_shorthand(field_name: str, what: str) -> Callable[[object], object]:
    """`- third-order/1` is short for `- {key: third-order/1}` (and `- RE601` for
    `- {code: RE601}`): the common case stays one word."""

    def convert(value: object) -> object:
        if isinstance(value, str):
            return {field_name: value}
        if isinstance(value, dict):
            return value
        raise PydanticCustomError(
            "RE203",
            "{what} must be text or a mapping, not {value}",
            {"what": what, "value": describe(value)},
        )

    return convert


Timestamp = Annotated[AwareDatetime, BeforeValidator(_text_only)]
Number = Annotated[Decimal, BeforeValidator(_number)]
WholeNumber = Annotated[int, Strict()]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedGift(_Strict):
    product: Text


class ExpectedReward(_Strict):
    """A reward in the rule file's own syntax (`{points: 100}`, `{free_shipping: true}`).
    Points may be negative: a reversal takes points back."""

    points: WholeNumber | None = None
    store_credit: Number | None = None
    discount_amount: Number | None = None
    discount_percentage: Number | None = None
    free_shipping: Annotated[bool, Strict()] | None = None
    free_gift: ExpectedGift | None = None

    @pydantic.model_validator(mode="after")
    def _exactly_one(self) -> ExpectedReward:
        if self.free_shipping is False:
            raise PydanticCustomError(
                "RE205", "`free_shipping` is `true` or left out; a decision never grants `false`"
            )
        chosen = [name for name in REWARD_TYPES if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise PydanticCustomError(
                "RE209",
                "a reward must have exactly one type, found {found}",
                {"found": ", ".join(f"`{n}`" for n in chosen) if chosen else "none"},
            )
        return self


class DecisionExpectation(_Strict):
    """Some fields of one decision; the fields left out are not compared."""

    key: Text | None = None
    rule: Text | None = None
    step: WholeNumber | None = None
    status: Literal["granted", "pending", "reversed"] | None = None
    points: WholeNumber | None = None
    rewards: list[ExpectedReward] | None = None
    logic: Literal["grant_all", "customer_picks"] | None = None
    pick: WholeNumber | None = None
    qualifying: Text | None = None
    achieved_at: Timestamp | None = None
    available_at: Timestamp | None = None


class ProgressExpectation(_Strict):
    """Some fields of one milestone's progress, found by `rule`."""

    rule: Text
    step: WholeNumber | None = None
    steps: WholeNumber | None = None
    metric: MilestoneType | None = None
    current: Number | None = None
    pending: Number | None = None
    target: Number | None = None
    completed: Annotated[bool, Strict()] | None = None
    description: str | None = None
    remaining: str | None = None


class ProblemExpectation(_Strict):
    code: Annotated[str, Field(pattern=r"^RE[0-9]{3}$")]
    rule: Text | None = None


class Expectation(_Strict):
    decisions: (
        list[
            Annotated[
                DecisionExpectation,
                BeforeValidator(_key_shorthand("key", "a decision expectation")),
            ]
        ]
        | None
    ) = None
    progress: list[ProgressExpectation] | None = None
    problems: (
        list[
            Annotated[
                ProblemExpectation,
                BeforeValidator(_key_shorthand("code", "a problem expectation")),
            ]
        ]
        | None
    ) = None


class CaseModel(_Strict):
    name: Text
    now: Timestamp | None = None
    snapshot: Annotated[Any, BeforeValidator(_snapshot_reference)]
    expect: Expectation


class FileModel(_Strict):
    """A rule test file: the rule file under test and its cases."""

    model_config = ConfigDict(title="ruleengine rule test file")

    rules: Text
    now: Timestamp | None = None
    cases: Annotated[list[CaseModel], Field(min_length=1)]


# == loaded test files ===========================================================================


@dataclass(frozen=True)
class Partial:
    """One expected item: the fields to compare, in display order. `short` items were written as
    a bare key or code and are shown the same way in diffs."""

    fields: tuple[tuple[str, Any], ...]
    short: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)


@dataclass(frozen=True)
class CaseExpectation:
    """None for a part the case does not check. `problems` is always checked: a runtime
    problem means a rule failed to evaluate, which a test must never pass over silently."""

    decisions: tuple[Partial, ...] | None
    progress: tuple[Partial, ...] | None
    problems: tuple[Partial, ...]


@dataclass(frozen=True)
class SnapshotRef:
    """Where a case's snapshot comes from: a JSON file (`path`) or the test file (`inline`)."""

    path: Path | None
    display: str
    inline: Any
    node: LocatedNode  # the `snapshot:` value in the test file, for locating problems


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    now: datetime
    snapshot: SnapshotRef
    expect: CaseExpectation


@dataclass
class LoadedRules:
    """A rule file as tests use it: its engine, or the diagnostics that stopped it loading.
    With coverage, the engine's `when` conditions report each value they compute to
    `conditions`."""

    path: Path
    display: str
    ruleset: RuleSet | None
    engine: Engine | None
    diagnostics: list[Diagnostic]
    unreadable: bool = False
    conditions: list[tuple[tuple[PathPart, ...], bool]] = field(default_factory=list)


class RulesCache:
    """Rule files by resolved path, so test files sharing a rule file load and compile it once
    per run (and, with coverage, share one record of what was exercised)."""

    def __init__(self, *, coverage: bool = False) -> None:
        self.coverage = coverage
        self._loaded: dict[Path, LoadedRules] = {}

    def get(self, path: Path, display: str) -> LoadedRules:
        key = path.resolve()
        loaded = self._loaded.get(key)
        if loaded is None:
            loaded = self._loaded[key] = self._load(path, display)
        return loaded

    def _load(self, path: Path, display: str) -> LoadedRules:
        source = read_source(path, display)
        if isinstance(source, Diagnostic):
            return LoadedRules(path, display, None, None, [source], source.code == "RE100")
        result = check_source(source)
        if result.ruleset is None:
            errors = [d for d in result.diagnostics if d.is_error]
            return LoadedRules(path, display, None, None, errors)
        loaded = LoadedRules(path, display, result.ruleset, None, [])
        ruleset = _instrumented(result.ruleset, loaded.conditions) if self.coverage else None
        loaded.engine = Engine(ruleset or result.ruleset)
        return loaded


def _instrumented(ruleset: RuleSet, record: list[tuple[tuple[PathPart, ...], bool]]) -> RuleSet:
    """The ruleset with each `when` condition wrapped to append (path, value) to `record`
    whenever the engine evaluates it. The wrapper changes no result: it returns what the
    compiled condition returned and lets its errors through."""
    expressions: dict[tuple[PathPart, ...], CompiledExpression] = dict(ruleset.expressions)
    for path, compiled in ruleset.expressions.items():
        if path[-1] != "when":
            continue
        inner = compiled.evaluate

        def recording(
            env: Env, inner: Callable[[Env], Any] = inner, path: tuple[PathPart, ...] = path
        ) -> Any:
            value = inner(env)
            record.append((path, bool(value)))
            return value

        expressions[path] = dataclasses.replace(compiled, evaluate=recording)
    return dataclasses.replace(ruleset, expressions=MappingProxyType(expressions))


@dataclass
class LoadedTestFile:
    """A rule test file: its cases, or the diagnostics that keep it from running."""

    path: Path
    display: str
    rules: LoadedRules | None
    cases: list[Case]
    diagnostics: list[Diagnostic]
    unreadable: bool = False  # the test file itself could not be read (an I/O error)
    source: SourceFile | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def load_test_file(path: Path, cache: RulesCache, display: str | None = None) -> LoadedTestFile:
    """Read, validate and prepare a rule test file. Never raises for bad input: every problem
    is a diagnostic, located in the test file (or in the rule file, for its own errors)."""
    name = display if display is not None else str(path)
    source = read_source(path, name)
    if isinstance(source, Diagnostic):
        return LoadedTestFile(path, name, None, [], [source], unreadable=source.code == "RE100")
    root, diagnostics = read_document(source)
    diagnostics = [_reword(d) for d in diagnostics]
    if root is None or has_errors(diagnostics):
        return LoadedTestFile(path, name, None, [], sort_diagnostics(diagnostics), source=source)
    try:
        model = FileModel.model_validate(to_plain(root))
    except pydantic.ValidationError as error:
        errors = error.errors(include_url=False)
        found = structure_diagnostics(errors, root, source, _TEST_FILE)
        return LoadedTestFile(path, name, None, [], sort_diagnostics(found), source=source)
    rules_node = find_node(root, ("rules",))
    assert rules_node is not None  # validated: `rules` is required
    rules = cache.get(path.parent / model.rules, _join(name, model.rules))
    if rules.ruleset is None:
        if rules.unreadable:
            problem = rules.diagnostics[0].message.split("` ", 1)[-1]
            problem = "does not exist" if problem == "no such file" else problem
            diagnostics = [
                make_diagnostic(
                    source,
                    rules_node.span,
                    "RE100",
                    f"the rule file `{rules.display}` {problem}",
                    hint="`rules` is a path relative to this test file",
                    path=("rules",),
                )
            ]
        else:
            diagnostics = list(rules.diagnostics)
        return LoadedTestFile(path, name, rules, [], sort_diagnostics(diagnostics), source=source)
    checker = _CaseChecker(source, root, rules.ruleset, path)
    cases = checker.cases(model)
    return LoadedTestFile(
        path, name, rules, cases, sort_diagnostics(checker.diagnostics), source=source
    )


def _join(test_file: str, relative: str) -> str:
    """A referenced file's name for messages: relative to the test file, normalised
    (`examples/rules/../snapshots/a.json` -> `examples/snapshots/a.json`)."""
    return os.path.normpath(os.path.join(os.path.dirname(test_file), relative))


def _reword(diagnostic: Diagnostic) -> Diagnostic:
    """The YAML reader words its file-level problems for rule files; say "rule test file"."""
    if diagnostic.code not in ("RE105", "RE107"):
        return diagnostic
    hint = diagnostic.hint
    if diagnostic.code == "RE105":
        hint = "a rule test file starts with `rules: <rule file>` and a list of `cases`"
    elif hint is not None:
        hint = hint.replace("a rule file", "a rule test file")
    message = diagnostic.message.replace("a rule file", "a rule test file")
    return dataclasses.replace(diagnostic, message=message, hint=hint)


_DECISION_FIELDS = (
    "key",
    "rule",
    "step",
    "status",
    "points",
    "rewards",
    "logic",
    "pick",
    "qualifying",
    "achieved_at",
    "available_at",
)
_PROGRESS_FIELDS = (
    "rule",
    "step",
    "steps",
    "metric",
    "current",
    "pending",
    "target",
    "completed",
    "description",
    "remaining",
)
_PROBLEM_FIELDS = ("code", "rule")


class _CaseChecker:
    """The checks that need the rule file or the whole file, with located diagnostics."""

    def __init__(self, source: SourceFile, root: LocatedMapping, ruleset: RuleSet, path: Path):
        self.source = source
        self.root = root
        self.ruleset = ruleset
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        model = ruleset.model
        self.rule_ids = [r.id for r in model.earning] + [m.id for m in model.milestones]
        self.milestones = [m.id for m in model.milestones if m.enabled]

    def report(
        self,
        path: tuple[PathPart, ...],
        code: str,
        message: str,
        hint: str | None = None,
        *,
        parent: bool = False,
    ) -> None:
        span = span_of(self.root, path[:-1] if parent else path)
        self.diagnostics.append(
            make_diagnostic(self.source, span, code, message, hint=hint, path=path)
        )

    def cases(self, model: FileModel) -> list[Case]:
        cases: list[Case] = []
        names: dict[str, int] = {}
        for index, case in enumerate(model.cases):
            at: tuple[PathPart, ...] = ("cases", index)
            node = find_node(self.root, at)
            assert node is not None
            line = self.source.location(node.span.start).line
            if case.name in names:
                self.report(
                    (*at, "name"),
                    "RE205",
                    f"duplicate case name `{case.name}`",
                    f"case names must differ; `{case.name}` is first used on line "
                    f"{names[case.name]}",
                )
            names.setdefault(case.name, line)
            now = case.now or model.now
            if now is None:
                self.report(
                    (*at, "now"),
                    "RE202",
                    f"missing required key `now` in case {index + 1}",
                    "give the case a `now`, or the file a `now` for all of its cases",
                    parent=True,
                )
            expect = self.expectation(case.expect, (*at, "expect"))
            snapshot = self.snapshot(case.snapshot, (*at, "snapshot"))
            if now is not None and expect is not None:
                cases.append(Case(case.name, line, now, snapshot, expect))
        return cases

    def snapshot(self, value: Any, at: tuple[PathPart, ...]) -> SnapshotRef:
        node = find_node(self.root, at)
        assert node is not None
        if isinstance(value, str):
            return SnapshotRef(self.path.parent / value, _join(self.source.name, value), None, node)
        return SnapshotRef(None, self.source.name, value, node)

    def expectation(self, expect: Expectation, at: tuple[PathPart, ...]) -> CaseExpectation | None:
        if expect.decisions is None and expect.progress is None and expect.problems is None:
            self.report(
                at,
                "RE202",
                "`expect` needs at least one of `decisions`, `progress`, `problems`",
                "a case that expects nothing would always pass",
            )
            return None
        decisions = None
        if expect.decisions is not None:
            decisions = tuple(
                self.decision(item, (*at, "decisions", i))
                for i, item in enumerate(expect.decisions)
            )
            self.unique(decisions, "key", (*at, "decisions"), "decision key")
        progress = None
        if expect.progress is not None:
            progress = tuple(
                self.progress(item, (*at, "progress", i)) for i, item in enumerate(expect.progress)
            )
            self.unique(progress, "rule", (*at, "progress"), "progress of rule")
        problems = tuple(
            self.problem(item, (*at, "problems", i)) for i, item in enumerate(expect.problems or ())
        )
        return CaseExpectation(decisions, progress, problems)

    def decision(self, item: DecisionExpectation, at: tuple[PathPart, ...]) -> Partial:
        node = find_node(self.root, at)
        data = item.model_dump(exclude_unset=True)
        if not data:
            self.report(
                at,
                "RE202",
                "a decision expectation needs at least one key",
                "for example `{key: third-order/1}` or `{rule: order-points, points: 212}`",
            )
        if item.key is not None:
            self.known_rule(item.key.split("/", 1)[0], (*at, "key"), f"`{item.key}` names")
        if item.rule is not None:
            self.known_rule(item.rule, (*at, "rule"), "`rule` names")
        if "rewards" in data:
            data["rewards"] = [_reward_dict(r) for r in item.rewards or ()]
        return _partial(data, _order(node, _DECISION_FIELDS), short=isinstance(node, LocatedScalar))

    def progress(self, item: ProgressExpectation, at: tuple[PathPart, ...]) -> Partial:
        if item.rule not in self.milestones:
            self.known_rule(item.rule, (*at, "rule"), "`rule` names", self.milestones, "milestone")
        node = find_node(self.root, at)
        return _partial(item.model_dump(exclude_unset=True), _order(node, _PROGRESS_FIELDS))

    def problem(self, item: ProblemExpectation, at: tuple[PathPart, ...]) -> Partial:
        from ruleengine.codes import CODES

        node = find_node(self.root, at)
        if item.code not in CODES:
            self.report(
                (*at, "code") if isinstance(node, LocatedMapping) else at,
                "RE204",
                f"`{item.code}` is not a diagnostic code",
                "runtime problems have codes such as `RE601` (division by zero) and `RE603` "
                "(negative points)",
            )
        if item.rule is not None:
            self.known_rule(item.rule, (*at, "rule"), "`rule` names")
        return _partial(
            item.model_dump(exclude_unset=True),
            _order(node, _PROBLEM_FIELDS),
            short=isinstance(node, LocatedScalar),
        )

    def known_rule(
        self,
        rule: str,
        at: tuple[PathPart, ...],
        what: str,
        choices: Sequence[str] | None = None,
        kind: str = "rule",
    ) -> None:
        options = self.rule_ids if choices is None else choices
        if rule in options:
            return
        close = difflib.get_close_matches(rule, options, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean `{close[0]}`?"
        elif options:
            hint = f"the {kind}s of the rule file: " + ", ".join(f"`{o}`" for o in options)
        else:
            hint = None
        where = self.ruleset.source.name
        if kind == "milestone" and rule in self.rule_ids:
            milestone = any(m.id == rule for m in self.ruleset.model.milestones)
            message = (
                f"{what} milestone `{rule}`, which is disabled in {where} and reports no progress"
                if milestone
                else f"{what} `{rule}`, an earning rule: only milestones report progress"
            )
        else:
            message = f"{what} {kind} `{rule}`, which does not exist in {where}"
        self.report(at, "RE204", message, hint)

    def unique(
        self, items: Sequence[Partial], name: str, at: tuple[PathPart, ...], what: str
    ) -> None:
        seen: set[Any] = set()
        for index, item in enumerate(items):
            value = dict(item.fields).get(name)
            if value is None:
                continue
            if value in seen:
                self.report((*at, index), "RE205", f"{what} `{value}` is listed twice")
            seen.add(value)


def _partial(data: Mapping[str, Any], order: Sequence[str], *, short: bool = False) -> Partial:
    return Partial(tuple((name, data[name]) for name in order if name in data), short)


def _order(node: LocatedNode | None, fields: Sequence[str]) -> list[str]:
    """The fields in the order the author wrote them, so a diff reads like the test file."""
    written = (
        [key.text for key, _ in node.items if key.text in fields]
        if isinstance(node, LocatedMapping)
        else []
    )
    return written + [name for name in fields if name not in written]


def _reward_dict(reward: ExpectedReward) -> dict[str, Any]:
    data = reward.model_dump(exclude_none=True)
    return {name: data[name] for name in REWARD_TYPES if name in data}


# == structure errors as located diagnostics =====================================================


_TIMESTAMP_HINT = "write a timestamp with its zone offset, such as `2026-06-01T00:00:00Z`"


def _test_file_special(
    error: ErrorDetails, path: tuple[PathPart, ...], where: str
) -> Finding | None:
    """The test file's own reading of a pydantic error, before the mapping it shares with rule
    files: the errors of its timestamps and problem codes, which rule files do not have, an
    empty `cases` said in the words of the format, and its own validators' messages, which say
    what is wrong but not where (the place is added here, as for every other error)."""
    kind = error["type"]
    value = error.get("input")
    if kind.startswith("RE"):
        return kind, f"{error['msg']}{where}", None
    if kind == "timezone_aware":
        return "RE205", f"`{value}` has no time zone offset{where}", _TIMESTAMP_HINT
    if kind.startswith(("datetime_", "date_")):
        return "RE205", f"{describe(value)} is not a timestamp{where}", _TIMESTAMP_HINT
    if kind == "too_short" and path == ("cases",):
        hint = "add a case: `- name: ...`, `now`, `snapshot` and `expect`"
        return "RE205", "`cases` must list at least one case", hint
    if kind == "string_pattern_mismatch":  # the only pattern is a problem's `code`
        return (
            "RE205",
            f"{describe(value)} is not a diagnostic code{where}",
            "codes look like `RE601`",
        )
    return None


_TEST_FILE = FileFormat(
    model=FileModel,
    places={
        "cases": "case",
        "decisions": "decision",
        "progress": "progress entry",
        "problems": "problem",
        "rewards": "reward",
    },
    special=_test_file_special,
    sort_allowed_keys=False,
    serial_choices=False,
    quoted_number_hint=False,
)


# == running a case ==============================================================================


@dataclass(frozen=True)
class Mismatch:
    """One compared part of a case that differs: its rendering, expected and actual."""

    part: str  # "decisions", "progress" or "problems"
    expected: tuple[str, ...]
    actual: tuple[str, ...]

    def diff(self) -> list[str]:
        """A unified diff with the whole lists as context, so the reader sees every item."""
        context = max(len(self.expected), len(self.actual))
        return list(
            difflib.unified_diff(
                list(self.expected),
                list(self.actual),
                fromfile="expected",
                tofile="actual",
                lineterm="",
                n=context,
            )
        )


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
        text = _read_json_text(ref, source)
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


def _read_json_text(ref: SnapshotRef, source: SourceFile) -> str | Diagnostic:
    assert ref.path is not None
    try:
        return ref.path.read_bytes().decode("utf-8-sig")
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


# == comparing ===================================================================================


def compare(expect: CaseExpectation, result: EvaluationResult) -> list[Mismatch]:
    """Every part of the result that does not meet the case's expectations."""
    mismatches = []
    if expect.decisions is not None:
        actual = [_decision_fields(d) for d in result.decisions]
        mismatch = _compare_items("decisions", expect.decisions, actual, _DECISION_FIELDS)
        if mismatch is not None:
            mismatches.append(mismatch)
    if expect.progress is not None:
        mismatch = _compare_progress(expect.progress, result.progress)
        if mismatch is not None:
            mismatches.append(mismatch)
    problems = [{"code": p.code, "rule": p.rule} for p in result.problems]
    mismatch = _compare_items("problems", expect.problems, problems, _PROBLEM_FIELDS)
    if mismatch is not None:
        mismatches.append(mismatch)
    return mismatches


def _decision_fields(decision: Decision) -> dict[str, Any]:
    points = [r.value for r in decision.rewards if r.type == "points"]
    rewards: list[dict[str, Any]] = []
    for reward in decision.rewards:
        if reward.type == "free_shipping":
            rewards.append({"free_shipping": True})
        elif reward.type == "free_gift":
            rewards.append({"free_gift": {"product": reward.product}})
        else:
            rewards.append({reward.type: reward.value})
    return {
        "key": decision.key,
        "rule": decision.rule,
        "step": decision.step,
        "status": decision.status,
        "points": sum(int(p) for p in points if p is not None) if points else None,
        "rewards": rewards,
        "logic": decision.logic,
        "pick": decision.pick,
        "qualifying": decision.qualifying,
        "achieved_at": decision.achieved_at,
        "available_at": decision.available_at,
    }


def _progress_fields(progress: Progress) -> dict[str, Any]:
    return {name: getattr(progress, name) for name in _PROGRESS_FIELDS}


def _compare_items(
    part: str,
    expected: Sequence[Partial],
    actual: Sequence[Mapping[str, Any]],
    order: Sequence[str],
) -> Mismatch | None:
    """Each expected item must match its own actual item, and nothing may be left over.

    Matching is a maximum bipartite matching (an expected item may match several actual
    ones), so the outcome does not depend on the order of the expectations. The diff shows
    matched items identically on both sides, each unmatched expected item next to the
    unmatched actual item most like it, and the leftover actual items at the end.
    """
    matched = _matching(expected, actual)
    if len(matched) == len(expected) == len(actual):
        return None
    used = set(matched.values())
    expected_lines = [_render_partial(item) for item in expected]
    actual_lines: list[str] = []
    for index, item in enumerate(expected):
        if index in matched:
            actual_lines.append(expected_lines[index])
            continue
        nearest = _nearest(item, actual, used)
        if nearest is not None:
            used.add(nearest)
            actual_lines.append(_render_actual(actual[nearest], item.names, item.short))
    shown = [name for name in order if any(name in item.names for item in expected)]
    short = bool(expected) and all(item.short for item in expected)
    if not short and order[0] not in shown:
        shown.insert(0, order[0])  # leftovers always show their key or code
    for index, leftover in enumerate(actual):
        if index not in used:
            actual_lines.append(_render_actual(leftover, shown, short or not expected))
    return Mismatch(part, tuple(expected_lines), tuple(actual_lines))


def _matching(expected: Sequence[Partial], actual: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """expected index -> actual index, as many pairs as possible (Kuhn's algorithm)."""
    candidates = [
        [j for j, item in enumerate(actual) if _matches(partial, item)] for partial in expected
    ]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        assign(i, set())
    return {i: j for j, i in owner.items()}


def _matches(partial: Partial, actual: Mapping[str, Any]) -> bool:
    return all(_same(value, actual.get(name)) for name, value in partial.fields)


def _same(expected: Any, actual: Any) -> bool:
    """Equal as the author means it: numbers by value (`10` is `10.00`), times as instants."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | Decimal) and isinstance(actual, int | Decimal):
        return Decimal(expected) == Decimal(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            _same(value, actual[name]) for name, value in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


def _nearest(partial: Partial, actual: Sequence[Mapping[str, Any]], used: set[int]) -> int | None:
    """The unmatched actual item with the same key, rule or code as `partial` that agrees with
    most of its fields, so that a wrong value shows as a changed line rather than as a
    missing item and an extra one."""
    identity = [(n, v) for n, v in partial.fields if n in ("key", "rule", "code")]
    best: tuple[int, int] | None = None
    best_index = None
    for index, item in enumerate(actual):
        if index in used:
            continue
        same_identity = sum(1 for name, value in identity if _same(value, item.get(name)))
        if identity and not same_identity:
            continue
        agree = sum(1 for name, value in partial.fields if _same(value, item.get(name)))
        if best is None or (same_identity, agree) > best:
            best, best_index = (same_identity, agree), index
    return best_index


def _compare_progress(expected: Sequence[Partial], actual: Sequence[Progress]) -> Mismatch | None:
    """Progress entries are found by rule; entries the case does not list are not compared."""
    by_rule = {p.rule: _progress_fields(p) for p in actual}
    expected_lines: list[str] = []
    actual_lines: list[str] = []
    differs = False
    for item in expected:
        rule = dict(item.fields)["rule"]
        line = _render_partial(item)
        expected_lines.append(line)
        found = by_rule.get(rule)
        if found is not None and _matches(item, found):
            actual_lines.append(line)
            continue
        differs = True
        if found is not None:
            actual_lines.append(_render_actual(found, item.names, False))
    return Mismatch("progress", tuple(expected_lines), tuple(actual_lines)) if differs else None


# -- rendering ----------------------------------------------------------------------------------


def _render_partial(item: Partial) -> str:
    if item.short:
        return _flow(item.fields[0][1])
    return _flow(dict(item.fields))


def _render_actual(item: Mapping[str, Any], names: Iterable[str], short: bool) -> str:
    chosen = list(names)
    if short:
        return _flow(item.get(chosen[0]))
    return _flow({name: item.get(name) for name in chosen})


# Text that YAML reads back as the same text, also inside `{...}` (so no `,`, `:` or `#`).
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+()£$€-]+)*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "~"}


def _flow(value: Any) -> str:
    """A value in YAML flow style, stable and on one line: `{key: a/1, points: 5}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, datetime):
        return format_time(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and ": " not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


# == running many files ==========================================================================


class NoTestFilesError(Exception):
    """A folder named on the command line holds no rule test files."""


def discover_test_files(paths: Sequence[str]) -> list[Path]:
    """Rule test files named by `paths`: files as given, folders searched recursively for
    `*.test.yaml`/`*.test.yml` (hidden folders are skipped). A path that does not exist is
    returned as is, to be reported as unreadable with the others' results."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            matches = sorted(
                p
                for p in path.rglob("*")
                if p.name.endswith(TEST_SUFFIXES)
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
            if not matches:
                raise NoTestFilesError(
                    f"no rule test files (*.test.yaml, *.test.yml) found in `{text}`"
                )
            found.extend(matches)
        else:
            found.append(path)
    return found


@dataclass
class RunReport:
    """Everything one `ruleengine test` run found."""

    files: list[LoadedTestFile]
    results: list[CaseResult]
    coverage: list[RulesetCoverage] | None = None

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        """Failed and errored cases, and one for each test file that could not run at all."""
        broken_files = sum(1 for f in self.files if not f.ok)
        return sum(1 for r in self.results if not r.passed) + broken_files

    @property
    def unreadable(self) -> bool:
        return any(f.unreadable for f in self.files)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def run_tests(paths: Sequence[Path], *, coverage: bool = False) -> RunReport:
    """Load and run every case of the given test files (in order), with coverage on request."""
    cache = RulesCache(coverage=coverage)
    files: list[LoadedTestFile] = []
    results: list[CaseResult] = []
    tracker = CoverageTracker() if coverage else None
    for path in paths:
        test_file = load_test_file(path, cache, str(path))
        files.append(test_file)
        if tracker is not None and test_file.rules is not None:
            tracker.register(test_file.rules)
        if not test_file.ok:
            continue
        for case in test_file.cases:
            assert test_file.rules is not None
            test_file.rules.conditions.clear()
            result = run_case(test_file, case)
            results.append(result)
            if tracker is not None and result.result is not None:
                tracker.add(test_file.rules, result.result)
    return RunReport(files, results, tracker.report() if tracker is not None else None)


# == coverage ====================================================================================


@dataclass
class RulesetCoverage:
    """What the cases of one rule file exercised. Each map goes from an item's label to
    whether it was covered; disabled rules are not counted."""

    file: str
    rules: dict[str, bool]
    steps: dict[str, bool]
    branches: dict[str, bool]

    @property
    def covered(self) -> int:
        return sum(
            sum(1 for ok in group.values() if ok)
            for group in (self.rules, self.steps, self.branches)
        )

    @property
    def total(self) -> int:
        return len(self.rules) + len(self.steps) + len(self.branches)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def uncovered(self) -> list[str]:
        """What no case exercised, in words: `step `regulars/2` was never reached`."""
        found = [
            f"rule `{label}` was never exercised" for label, ok in self.rules.items() if not ok
        ]
        found += [f"step `{label}` was never reached" for label, ok in self.steps.items() if not ok]
        for label, ok in self.branches.items():
            if not ok:
                rule, _, value = label.rpartition(" when ")
                found.append(f"the `when` of `{rule}` was never {value}")
        return found

    def to_json(self) -> dict[str, Any]:
        def counts(group: dict[str, bool]) -> dict[str, int]:
            return {"covered": sum(1 for ok in group.values() if ok), "total": len(group)}

        return {
            "file": self.file,
            "rules": counts(self.rules),
            "steps": counts(self.steps),
            "branches": counts(self.branches),
            "percent": round(self.percent, 1),
            "uncovered": self.uncovered(),
        }


# Explanation statuses that mean the engine computed the rule's points for an activity
# (everything after the `when` condition held): the rule's formula ran.
EARNING_COVERED = frozenset(
    {"granted", "pending", "reversed", "already_granted", "cancelled", "not_applied"}
)
# Statuses that mean a milestone step's target was reached (decided, waiting for a refund
# hold, already granted, or reached while the customer was not eligible).
STEP_COVERED = frozenset({"granted", "already_granted", "pending", "not_eligible"})


class CoverageTracker:
    """Accumulates coverage per rule file over every case that ran (passing or failing)."""

    def __init__(self) -> None:
        self._files: dict[Path, RulesetCoverage] = {}
        self._conditions: dict[Path, dict[tuple[PathPart, ...], str]] = {}

    def register(self, rules: LoadedRules) -> None:
        """Count a rule file's items, covered or not, once it is known to be tested."""
        if rules.ruleset is None or rules.path.resolve() in self._files:
            return
        model = rules.ruleset.model
        items = RulesetCoverage(rules.display, {}, {}, {})
        labels: dict[tuple[PathPart, ...], str] = {}
        for index, rule in enumerate(model.earning):
            if rule.enabled:
                items.rules[rule.id] = False
                if rule.when is not None:
                    labels[("earning", index, "when")] = rule.id
        for index, milestone in enumerate(model.milestones):
            if not milestone.enabled:
                continue
            items.rules[milestone.id] = False
            for number in range(1, len(milestone.steps or [None]) + 1):
                items.steps[f"{milestone.id}/{number}"] = False
            if milestone.when is not None:
                labels[("milestones", index, "when")] = milestone.id
        for label in labels.values():
            items.branches[f"{label} when true"] = False
            items.branches[f"{label} when false"] = False
        key = rules.path.resolve()
        self._files[key] = items
        self._conditions[key] = labels

    def add(self, rules: LoadedRules, result: EvaluationResult) -> None:
        """Mark what one evaluation exercised: its explanations and the condition values
        recorded while it ran."""
        key = rules.path.resolve()
        items = self._files[key]
        earning = {r.id for r in rules.ruleset.model.earning} if rules.ruleset else set()
        for explanation in result.explanations:
            rule = explanation.rule
            if rule in earning:
                if explanation.status in EARNING_COVERED and rule in items.rules:
                    items.rules[rule] = True
            elif explanation.step is not None and explanation.status in STEP_COVERED:
                label = f"{rule}/{explanation.step}"
                if label in items.steps:
                    items.steps[label] = True
                    items.rules[rule] = True
        labels = self._conditions[key]
        for path, value in rules.conditions:
            rule_id = labels.get(path)
            if rule_id is not None:
                items.branches[f"{rule_id} when {'true' if value else 'false'}"] = True

    def report(self) -> list[RulesetCoverage]:
        return list(self._files.values())


def total_percent(coverage: Sequence[RulesetCoverage]) -> float:
    """Covered items over all items of every tested rule file. A rule file with nothing to
    cover is fully covered; a run that tested no rule file at all covered nothing (0%), so
    `--fail-under` cannot pass on a run whose test files were all broken."""
    covered = sum(c.covered for c in coverage)
    total = sum(c.total for c in coverage)
    if total:
        return 100.0 * covered / total
    return 100.0 if coverage else 0.0


# == output ======================================================================================


_RESET = "\x1b[0m"
_COLORS = {"red": "\x1b[31m", "green": "\x1b[32m", "bold": "\x1b[1m", "cyan": "\x1b[36m"}


def _paint(text: str, color: str, enabled: bool) -> str:
    return f"{_COLORS[color]}{text}{_RESET}" if enabled and text else text


def render_case_text(result: CaseResult, *, color: bool = False) -> str:
    """A failed or errored case: a header with its place and name, then a diff per differing
    part, or the diagnostics that kept it from running."""
    from ruleengine.render import render_text

    label = "FAIL" if result.status == "failed" else "ERROR"
    header = _paint(f"{label} {result.file}:{result.line}: {result.name}", "bold", color)
    lines = [header]
    for mismatch in result.mismatches:
        lines.append(f"  {mismatch.part} differ (- expected, + actual):")
        for line in mismatch.diff():
            if line.startswith(("---", "+++")):
                painted = _paint(line, "bold", color)
            elif line.startswith("-"):
                painted = _paint(line, "red", color)
            elif line.startswith("+"):
                painted = _paint(line, "green", color)
            elif line.startswith("@@"):
                painted = _paint(line, "cyan", color)
            else:
                painted = line
            lines.append(f"    {painted}")
    lines += [render_text(d, color=color) + "\n" for d in result.diagnostics]
    return "\n".join(lines).rstrip("\n")


def render_file_errors_text(test_file: LoadedTestFile, *, color: bool = False) -> str:
    from ruleengine.render import render_text

    lines = [_paint(f"ERROR {test_file.display}: the test file cannot run", "bold", color)]
    lines += [render_text(d, color=color) + "\n" for d in test_file.diagnostics if d.is_error]
    return "\n".join(lines).rstrip("\n")


def render_coverage_text(coverage: Sequence[RulesetCoverage]) -> str:
    """A table in the style of `opa test --coverage`, then the items no case exercised."""
    if not coverage:
        return "Coverage: no rule file was tested"
    header = ("RULE FILE", "RULES", "STEPS", "BRANCHES", "TOTAL")
    rows: list[tuple[str, ...]] = []

    def fraction(group: dict[str, bool]) -> str:
        return f"{sum(1 for ok in group.values() if ok)}/{len(group)}"

    for item in coverage:
        rows.append(
            (
                item.file,
                fraction(item.rules),
                fraction(item.steps),
                fraction(item.branches),
                f"{item.percent:.1f}%",
            )
        )
    every: dict[str, dict[str, bool]] = {"rules": {}, "steps": {}, "branches": {}}
    for index, item in enumerate(coverage):
        for kind in every:
            every[kind].update({f"{index}:{k}": v for k, v in getattr(item, kind).items()})
    rows.append(
        (
            "total",
            fraction(every["rules"]),
            fraction(every["steps"]),
            fraction(every["branches"]),
            f"{total_percent(coverage):.1f}%",
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["Coverage:"]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 5)]
        lines.append("  " + "  ".join(cells).rstrip())
    missing = [(item.file, label) for item in coverage for label in item.uncovered()]
    if missing:
        lines += ["", "Not covered:"]
        lines += [f"  {file}: {label}" for file, label in missing]
    return "\n".join(lines)


def render_summary(run: RunReport) -> str:
    """`12 passed, 1 failed`: the last line of the text output, in this exact form."""
    return f"{run.passed} passed, {run.failed} failed"


def run_to_json(run: RunReport, *, fail_under: float | None = None) -> dict[str, Any]:
    """The JSON report: stable keys for tools (CI annotations, dashboards)."""
    data: dict[str, Any] = {
        "files": [f.display for f in run.files],
        "cases": [r.to_json() for r in run.results],
        "file_errors": [
            {"file": f.display, "diagnostics": [d.to_dict() for d in f.diagnostics if d.is_error]}
            for f in run.files
            if not f.ok
        ],
        "passed": run.passed,
        "failed": run.failed,
    }
    if run.coverage is not None:
        data["coverage"] = {
            "files": [c.to_json() for c in run.coverage],
            "percent": round(total_percent(run.coverage), 1),
            "fail_under": fail_under,
        }
    return data


__all__ = [
    "TEST_SUFFIXES",
    "CaseResult",
    "CoverageTracker",
    "LoadedTestFile",
    "NoTestFilesError",
    "RulesCache",
    "RulesetCoverage",
    "RunReport",
    "discover_test_files",
    "load_test_file",
    "render_case_text",
    "render_coverage_text",
    "render_file_errors_text",
    "render_summary",
    "run_case",
    "run_tests",
    "run_to_json",
    "total_percent",
]
