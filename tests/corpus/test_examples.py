"""The bundled example programs check clean and, together, use the whole format."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseio import example_rule_files
from ruleengine import RuleSet, check_ruleset, load_ruleset
from ruleengine.rules.models import BUILTIN_TRIGGERS, REWARD_TYPES, MilestoneType, RewardLogic

EXAMPLES = example_rule_files()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_checks_clean(path: Path) -> None:
    assert check_ruleset(path) == []


def load_all() -> list[RuleSet]:
    return [load_ruleset(path) for path in EXAMPLES]


def test_at_least_four_examples() -> None:
    assert len(EXAMPLES) >= 4


def test_examples_use_every_milestone_type() -> None:
    used = set()
    for ruleset in load_all():
        for milestone in ruleset.model.milestones:
            used.add(milestone.type)
            used.update(step.type for step in milestone.steps or [] if step.type)
    assert used == set(MilestoneType)


def test_examples_use_every_reward_type_and_logic() -> None:
    types, logics = set(), set()
    for ruleset in load_all():
        for milestone in ruleset.model.milestones:
            specs = [milestone.reward] + [step.reward for step in milestone.steps or []]
            for spec in specs:
                if spec is not None:
                    logics.add(spec.logic)
                    types.update(reward.type for reward in spec.rewards)
    assert types == set(REWARD_TYPES)
    assert logics == set(RewardLogic)


def test_examples_use_every_trigger() -> None:
    triggers = {rule.on for ruleset in load_all() for rule in ruleset.model.earning}
    assert set(BUILTIN_TRIGGERS) <= triggers
    assert any(trigger.startswith("custom:") for trigger in triggers)
