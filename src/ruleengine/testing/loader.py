"""Reading a rule test file: validate it and check it against its rule file, giving runnable
cases or located diagnostics."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic

from ruleengine.diagnostics.diagnostic import (
    Diagnostic,
    PathPart,
    has_errors,
    make_diagnostic,
    sort_diagnostics,
)
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.models import REWARD_TYPES
from ruleengine.rules.ruleset import RuleSet, read_source
from ruleengine.rules.structure import structure_diagnostics
from ruleengine.rules.yaml_nodes import (
    LocatedMapping,
    LocatedNode,
    LocatedScalar,
    find_node,
    span_of,
    to_plain,
)
from ruleengine.rules.yaml_source import read_document
from ruleengine.testing.format import (
    _BALANCE_FIELDS,
    _DECISION_FIELDS,
    _PROBLEM_FIELDS,
    _PROGRESS_FIELDS,
    _TEST_FILE,
    _TIER_FIELDS,
    DecisionExpectation,
    Expectation,
    ExpectedReward,
    FileModel,
    ProblemExpectation,
    ProgressExpectation,
)
from ruleengine.testing.rule_files import LoadedRules, RulesCache


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
    balance: Partial | None = None  # the points balance, when the case checks it
    tier: Partial | None = None  # the VIP tier, when the case checks it


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
        if model.tiers is not None:
            self.rule_ids.append("tiers")  # `tier_change` decisions: keys `tiers/<level>/...`
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
        if (
            expect.decisions is None
            and expect.progress is None
            and expect.problems is None
            and expect.balance is None
            and expect.tier is None
        ):
            self.report(
                at,
                "RE202",
                "`expect` needs at least one of `decisions`, `progress`, `balance`, `tier`, "
                "`problems`",
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
        balance = None
        if expect.balance is not None:
            node = find_node(self.root, (*at, "balance"))
            fields = expect.balance.model_dump(exclude_unset=True)
            balance = _partial(fields, _order(node, _BALANCE_FIELDS))
        tier = None
        if expect.tier is not None:
            node = find_node(self.root, (*at, "tier"))
            fields = expect.tier.model_dump(exclude_unset=True)
            tier = _partial(fields, _order(node, _TIER_FIELDS))
        return CaseExpectation(decisions, progress, problems, balance, tier)

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
        # The points ledger's decisions (`_expiry/...`, rule `points.expiry`) name no rule.
        if item.key is not None and not item.key.startswith("_expiry/"):
            self.known_rule(item.key.split("/", 1)[0], (*at, "key"), f"`{item.key}` names")
        if item.rule is not None and item.rule != "points.expiry":
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
        from ruleengine.diagnostics.codes import CODES

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
