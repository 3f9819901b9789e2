"""Snapshot text -> `Snapshot` (`Engine.read_snapshot_text`): every problem comes back as data,
with a JSON path or, for JSON that does not parse, a line and column; nothing is printed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from caseio import ROOT
from ruleengine import Engine, SnapshotError, load_ruleset
from ruleengine.engine.activity import Order
from ruleengine.engine.snapshot import SnapshotProblem, render_snapshot_problem
from ruleengine.limits import Limits

ACME = ROOT / "examples" / "rules" / "acme.yaml"
GOOD = {"customer": {"id": "c1", "region": "EU"}, "activity": []}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(ACME))


def problems_of(
    engine: Engine, text: str, name: str, line: int | None = None
) -> tuple[str, list[dict[str, object]]]:
    """The name of the error `text` raises, and its problems as JSON output gives them."""
    with pytest.raises(SnapshotError) as caught:
        engine.read_snapshot_text(text, name=name, line=line)
    return caught.value.name, [p.to_json() for p in caught.value.problems]


def test_well_formed_text_is_the_snapshot_the_data_gives(engine: Engine) -> None:
    order = '{"type": "order", "id": "o1", "at": "2026-02-01T12:00:00Z", "subtotal": 42.50}'
    text = '{"customer": {"id": "c1", "region": "EU"}, "activity": [' + order + "]}"
    snapshot = engine.read_snapshot_text(text, name="s.json")
    assert snapshot == engine.read_snapshot(json.loads(text, parse_float=Decimal))
    order_read = snapshot.activity[0]
    assert isinstance(order_read, Order)
    assert str(order_read.subtotal) == "42.50"  # numbers are read exactly, never as floats


def test_json_that_does_not_parse_is_located_in_the_file(engine: Engine) -> None:
    text = '{\n  "customer": {"id": "c1",}\n}'
    assert problems_of(engine, text, name="s.json") == (
        "s.json",
        [
            {
                "code": "RE611",
                "path": "$",
                "message": "the snapshot is not valid JSON: Expecting property name enclosed "
                "in double quotes",
                "line": 2,
                "column": 27,
            }
        ],
    )
    # A JSON Lines line: its line in the file, and the error named after it.
    assert problems_of(engine, '{"customer": ', name="in.jsonl", line=7) == (
        "in.jsonl:7",
        [
            {
                "code": "RE611",
                "path": "$",
                "message": "the snapshot is not valid JSON: Expecting value",
                "line": 7,
                "column": 14,
            }
        ],
    )


def test_text_over_the_size_limit_is_refused_before_parsing() -> None:
    limits = Limits(max_snapshot_bytes=100)
    engine = Engine(load_ruleset(ACME, limits=limits), limits=limits)
    assert problems_of(engine, "[" * 101, name="big.json") == (
        "big.json",
        [{"code": "RE614", "path": "$", "message": "the snapshot is larger than 100 bytes"}],
    )


def test_nesting_too_deep_for_the_parser_is_a_problem_not_a_crash(engine: Engine) -> None:
    assert problems_of(engine, "[" * 100_000 + "]" * 100_000, name="deep.json") == (
        "deep.json",
        [{"code": "RE614", "path": "$", "message": "the snapshot is nested too deeply"}],
    )


def test_contract_problems_keep_their_json_paths_and_hints(engine: Engine) -> None:
    activity = [{"type": "reveiw", "id": "r1", "at": "2026-02-01T12:00:00Z"}]
    text = json.dumps({**GOOD, "activity": activity})
    assert problems_of(engine, text, name="s.json") == (
        "s.json",
        [
            {
                "code": "RE613",
                "path": "$.activity[0].type",
                "message": "unknown activity type `reveiw`",
                "hint": "did you mean `review`?",
            }
        ],
    )


def test_problems_print_as_one_line_each() -> None:
    syntax = SnapshotProblem("RE611", "$", "the snapshot is not valid JSON: x", line=3, column=9)
    value = SnapshotProblem(
        "RE613", "$.activity[0].type", "unknown activity type `ordr`", "did you mean `order`?"
    )
    assert render_snapshot_problem(syntax, "in.jsonl", 3) == (
        "in.jsonl:3:9: error[RE611] the snapshot is not valid JSON: x"
    )
    assert render_snapshot_problem(value, "in.jsonl", 3) == (
        "in.jsonl:3: $.activity[0].type: error[RE613] unknown activity type `ordr` "
        "(hint: did you mean `order`?)"
    )
    assert render_snapshot_problem(value, "s.json").startswith("s.json: $.activity[0].type: ")
