"""The fast result writers give `json.dumps(..., ensure_ascii=False)`'s text exactly, indented
(`dumps_indented`) or on one line (`dumps_line`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.engine.json_text import dumps_indented, dumps_line

ROOT = Path(__file__).resolve().parents[3]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # any code point: quotes, controls, emoji, lone surrogates
)
json_like = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(), inner, max_size=5)
        | st.dictionaries(st.integers() | st.booleans() | st.none(), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=600)
@given(json_like)
def test_same_text_as_the_standard_library_for_any_json_like_value(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=600)
@given(json_like)
def test_one_line_is_the_standard_library_text_for_any_json_like_value(value: Any) -> None:
    assert dumps_line(value) == json.dumps(value, ensure_ascii=False)


def test_one_line_refuses_what_the_standard_library_refuses() -> None:
    for value in ({"at": object()}, {(1, 2): 3}):
        with pytest.raises(TypeError):
            json.dumps(value, ensure_ascii=False)
        with pytest.raises(TypeError):
            dumps_line(value)


def test_same_text_on_every_example_customer() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    checked = 0
    for rules in sorted((ROOT / "examples/rules").glob("*.yaml")):
        if rules.name.endswith(".test.yaml"):
            continue
        engine = Engine(load_ruleset(rules))
        stem = rules.stem.split("-")[0]
        for snapshot in sorted((ROOT / "examples/snapshots").glob(f"{stem}-*.json")):
            data = json.loads(snapshot.read_text(encoding="utf-8"))
            result = engine.evaluate(data, now=now, explain=True).to_json()
            assert dumps_indented(result) == json.dumps(result, indent=2, ensure_ascii=False)
            assert dumps_line(result) == json.dumps(result, ensure_ascii=False)
            timeline = engine.timeline(data, now=now).to_json()
            assert dumps_indented(timeline) == json.dumps(timeline, indent=2, ensure_ascii=False)
            checked += 1
    assert checked >= 10
