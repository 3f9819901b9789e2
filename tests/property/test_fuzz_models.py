"""Fuzzer: the rule-file models' two readers agree on mutated rule files.

A valid rule file is read without pydantic (`rules/structure_model`'s fast reader); anything
that reader is not sure of goes to the pydantic models, which word every error. The promise
(`model_readers.agree`): the fast reader never accepts a file pydantic refuses, and what it
accepts it reads exactly as pydantic does. Here hypothesis edits the bundled example programs
one to four times each: a value replaced by another of its kind (another of the examples'
scalars of its type, a nearby number), of another place or of another kind, a key
removed, a key added (a real field name of another model, or a misspelling), an item of a
list repeated or removed. `tests.fuzz` runs this with fresh seeds in the long run.
"""

from __future__ import annotations

import copy
import json
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseio import example_rule_files
from model_readers import agree
from ruleengine import check_ruleset
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.yaml_nodes import to_plain
from ruleengine.rules.yaml_source import read_document

EXAMPLES = max(20, int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300")) // 3)
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _document(text: str) -> Any:
    root, _ = read_document(SourceFile("rules.yaml", text))
    assert root is not None
    return to_plain(root)


PROGRAMS = [_document(path.read_text(encoding="utf-8")) for path in example_rule_files()]


def _walk(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = [(path, data)]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _walk(value, (*path, index))
    return found


# What the examples hold, to move around: every key and every scalar of every program.
_PLACES = [item for program in PROGRAMS for item in _walk(program)]
KEYS = sorted({path[-1] for path, _ in _PLACES if path and isinstance(path[-1], str)})
SCALARS = [value for _, value in _PLACES if not isinstance(value, (dict, list))]

yaml_scalars = st.one_of(
    st.sampled_from(SCALARS),
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.sampled_from([Decimal("1E+2"), Decimal("-0"), Decimal("0.000"), Decimal("1e-30")]),
    st.text(max_size=12),
    st.sampled_from(
        ["", "2026-02-30", "2026-01-01T00:00:00", "30d", "0d", "-1d", "1y", "P1D", "gold "]
    ),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def mutated_programs(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(PROGRAMS)))
    for _ in range(draw(st.integers(1, 4))):
        places = [path for path, _ in _walk(data)][1:]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["alike", "alike", "replace", "remove", "add", "repeat"]))
        value = parent[path[-1]]
        if action == "alike" and not isinstance(value, (dict, list)):
            # Another value of the same kind (most edits keep a file valid): a scalar of the
            # examples with the same type, or a nearby number.
            same = [other for other in SCALARS if type(other) is type(value)]
            nearby = (
                [value + draw(st.integers(-3, 3))]
                if isinstance(value, (int, Decimal)) and not isinstance(value, bool)
                else []
            )
            parent[path[-1]] = draw(st.sampled_from([value, *same, *nearby]))
        elif action in ("replace", "alike"):
            parent[path[-1]] = draw(yaml_values)
        elif action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "remove":
            parent.pop(path[-1])
        elif action == "add" and isinstance(parent, dict):
            key = draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(["from_", "colour"])))
            parent[key] = draw(yaml_values)
        else:
            if isinstance(parent, list):
                parent.append(copy.deepcopy(value))
            else:
                parent[path[-1]] = [copy.deepcopy(value)]
    return data


@fuzz_settings
@given(data=mutated_programs())
def test_the_fast_model_reader_accepts_only_what_pydantic_accepts_and_reads_it_alike(
    data: Any,
) -> None:
    agree(data)


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(value)


# Every place of the examples that holds a number (a count, an amount, `version`, a target).
NUMBER_PLACES = [
    (index, path)
    for index, program in enumerate(PROGRAMS)
    for path, value in _walk(program)
    if path and type(value) in (int, Decimal)
]


@pytest.mark.parametrize("flag", [True, False])
def test_true_or_false_is_refused_wherever_a_number_is_written(flag: bool) -> None:
    """YAML's `true` is no number: pydantic's lax checks read it as 1 (`version: true`,
    `target: true` passed), so each number of the examples, replaced by a flag, is an error."""
    accepted = []
    for index, path in NUMBER_PLACES:
        data = copy.deepcopy(PROGRAMS[index])
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = flag
        text = json.dumps(data, default=_json_number, indent=1)  # JSON is YAML (and not a path)
        if not any(d.is_error for d in check_ruleset(text)):
            accepted.append((index, path))
    assert NUMBER_PLACES
    assert accepted == []
