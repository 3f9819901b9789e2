"""Coverage: which rules, milestone steps and `when` branches of each tested rule file the
cases exercised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruleengine.diagnostics.diagnostic import PathPart
from ruleengine.engine.decisions import EvaluationResult
from ruleengine.testing.rule_files import LoadedRules


@dataclass
class RulesetCoverage:
    """What the cases of one rule file exercised. Each map goes from an item's label to
    whether it was covered; disabled rules are not counted. `tested` is false for a rule file
    that no test file uses (found in a folder given to `ruleengine test`): nothing in it is
    covered."""

    file: str
    rules: dict[str, bool]
    steps: dict[str, bool]
    branches: dict[str, bool]
    tested: bool = True

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
        found = [] if self.tested else ["no test file uses this rule file"]
        found += [
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
            "tested": self.tested,
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

    def register(self, rules: LoadedRules, *, tested: bool = True) -> None:
        """Count a rule file's items, covered or not, once it is known to be tested (or, with
        `tested=False`, known to be in scope with no test file using it)."""
        if rules.ruleset is None or rules.path.resolve() in self._files:
            return
        model = rules.ruleset.model
        items = RulesetCoverage(rules.display, {}, {}, {}, tested)
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


def shortfall_text(coverage: Sequence[RulesetCoverage], fail_under: float) -> str:
    """Why a run is under `--fail-under`, with as many decimals as it takes to show it: 97 of
    103 items is 94.2% in the table but 94.17% here, under 94.2%."""
    percent = total_percent(coverage)
    shown = f"{percent:.1f}"
    for decimals in range(2, 7):
        if float(shown) < fail_under:
            break
        shown = f"{percent:.{decimals}f}"
    covered = sum(c.covered for c in coverage)
    total = sum(c.total for c in coverage)
    return f"coverage {shown}% ({covered} of {total} items) is under --fail-under {fail_under:g}%"
