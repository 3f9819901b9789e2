"""The rule-file models' two readers agree: the fast one (no pydantic) accepts a file only when
pydantic accepts it, and then gives exactly pydantic's values (same types, same defaults, the
same keys set), on every example and corpus rule file and on seeded mutations of them."""

from __future__ import annotations

import copy
import random
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest

from caseio import CASES_ROOT, cli_in_a_fresh_process, example_rule_files, load_cases
from model_readers import agree as _agree
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.models import (
    Limit,
    LimitPeriod,
    Reward,
    RewardSpec,
    Tiers,
    Window,
    _packaged_timezones,
    available_timezones,
)
from ruleengine.rules.structure_model import (
    validate_model,
)
from ruleengine.rules.yaml_nodes import to_plain
from ruleengine.rules.yaml_source import read_document

ROOT = Path(__file__).resolve().parents[3]


def _texts() -> list[tuple[str, str]]:
    texts = [(path.name, path.read_text(encoding="utf-8")) for path in example_rule_files()]
    for kind in ("check", "evaluate"):
        for path in sorted((CASES_ROOT / kind).glob("*.yaml")):
            for case in load_cases(path) or ():
                if isinstance(case, dict) and isinstance(case.get("rules"), str):
                    texts.append((f"{kind}/{path.name}::{case['name']}", case["rules"]))
    return texts


def _data(text: str) -> Any:
    root, _ = read_document(SourceFile("rules.yaml", text))
    return None if root is None else to_plain(root)


TEXTS = _texts()


def test_the_corpus_has_valid_and_invalid_rule_files() -> None:
    accepted = [name for name, text in TEXTS if _agree(_data(text))]
    assert len(TEXTS) > 200
    assert 100 < len(accepted) < len(TEXTS)


@pytest.mark.parametrize("path", example_rule_files(), ids=lambda path: path.name)
def test_the_fast_reader_reads_every_example_as_pydantic_does(path: Path) -> None:
    assert _agree(_data(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[name for name, _ in TEXTS])
def test_the_readers_agree_on_every_corpus_rule_file(name: str, text: str) -> None:
    _agree(_data(text))


# Values a careless edit puts where another belongs: each type the YAML loader gives.
_REPLACEMENTS: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -3,
    10**30,
    Decimal("0"),
    Decimal("2.50"),
    Decimal("-1"),
    Decimal("1E+2"),
    "",
    "1",
    "2026-02-30",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "grant_all",
    "custom:Bad Name",
    "orders_count",
    "EUR",
    "eur",
    "Europe/Paris",
    "x\n",
    "abc",
    "a" * 70,
    [],
    [1],
    {},
    {"points": 5},
]


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _places(value, (*path, index))
    return found


def _mutated(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    path = rng.choice(_places(data)[1:])
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    action = rng.random()
    if action < 0.7:
        parent[path[-1]] = rng.choice(_REPLACEMENTS)
    elif action < 0.85 and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[rng.choice(["from_", "colour", "from", "until", "pick", "type"])] = 1
    return data


@pytest.mark.parametrize("seed", range(4))
def test_the_readers_agree_on_mutated_examples(seed: int) -> None:
    rng = random.Random(seed)
    originals = [_data(path.read_text(encoding="utf-8")) for path in example_rule_files()]
    accepted = 0
    for _ in range(150):
        accepted += _agree(_mutated(rng.choice(originals), rng))
    assert accepted > 10  # the mutations leave some files valid, and those are compared too


def test_models_compare_hash_and_refuse_changes_as_pydantic_models_do() -> None:
    once = Limit(times=1, per=LimitPeriod.LIFETIME)
    assert once == Limit.model_validate({"times": 1, "per": "lifetime"})
    assert hash(once) == hash(Limit(times=1, per="lifetime"))
    assert once != Limit(times=2, per="lifetime")
    assert once.model_fields_set == {"times", "per"}
    with pytest.raises(TypeError):
        once.times = 2  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError) as raised:
        Limit(times=0, per="lifetime")
    assert [e["type"] for e in raised.value.errors()] == ["greater_than"]


def test_a_model_instance_is_a_valid_value_as_it_is() -> None:
    # As pydantic takes an instance of a field's model class (without validating it again).
    reward = Reward(points=5)
    spec = RewardSpec(rewards=[reward])
    assert spec.rewards[0] is reward
    assert spec.model_fields_set == {"rewards"}
    # When pydantic decides, the instance is still taken as it is: only `pick` is wrong.
    with pytest.raises(pydantic.ValidationError) as raised:
        RewardSpec(rewards=[reward], pick="two")
    assert [e["loc"] for e in raised.value.errors()] == [("pick",)]


def test_a_spelling_only_pydantic_reads_still_loads() -> None:
    # `populate_by_name`: the field's name instead of its key; the fast reader declines it
    # and pydantic's valid result is converted.
    tiers = Tiers.model_validate(
        {"basis": "amount_spent", "levels": [{"id": "base", "name": "Base", "threshold": 0}]}
    )
    assert tiers.levels[0].threshold == Decimal(0)
    assert type(tiers.levels[0].threshold) is Decimal
    assert Window.model_validate({"from_": "2026-01-01"}).from_ == date(2026, 1, 1)
    assert validate_model(Window, {"from_": "2026-01-01"}) is None


def test_eval_of_a_valid_rule_file_does_not_import_what_it_does_not_need() -> None:
    """`ruleengine eval` of one customer loads none of the modules it does not use: no
    pydantic (the fast reader), no lark (the generated parse tables), no edge package."""
    loaded = set(cli_in_a_fresh_process("", "' '.join(sorted(sys.modules))").split())
    assert "ruleengine.engine.engine" in loaded  # it did evaluate
    unwanted = {
        name
        for name in loaded
        if name.split(".")[0] in {"pydantic", "pydantic_core", "lark"}
        or name.startswith(_EDGES)  # not even their parsers: only `eval`'s is built
        or name in _NOT_FOR_ACME
    }
    assert unwanted == set()


# acme has no tiers and no redeeming, and the command has nothing to report (nor a diff).
_NOT_FOR_ACME = {
    "ruleengine.engine.reuse",
    "ruleengine.engine.paired",
    "ruleengine.engine.tiers",
    "ruleengine.engine.tier_decisions",
    "ruleengine.engine.redeeming",
    "ruleengine.engine.points_history",
    "ruleengine.diagnostics.render",
    "ruleengine.diagnostics.codes",
}


_EDGES = ("ruleengine.service", "ruleengine.backtest", "ruleengine.testing")


def test_the_time_zones_read_first_are_available_ones() -> None:
    # The zone check reads tzdata's list before zoneinfo's search of every zone file: every
    # zone of that list must be one the search finds, or a file could load that did not.
    packaged = _packaged_timezones()
    assert "America/New_York" in packaged
    assert packaged <= available_timezones()
