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


# -- the digit limit, exactly at 30 digits, for every kind of number --------------------------

AT = "2026-02-01T12:00:00Z"


def _number_snapshot(entry: dict[str, object]) -> str:
    return json.dumps({**GOOD, "activity": [{"id": "a1", "at": AT, **entry}]})


def _digits(count: int) -> str:
    return ("1234567890" * 4)[:count]


# (entry with "@N@" where the number goes, the path of the value): integers in JSON text.
INTEGER_FIELDS = [
    ({"type": "points_earned", "points": "@N@"}, "$.activity[0].points"),
    ({"type": "adjustment", "points": "@N@"}, "$.activity[0].points"),
    ({"type": "order", "subtotal": "@N@"}, "$.activity[0].subtotal"),
    (
        {"type": "order", "subtotal": 1, "items": [{"product_id": "p", "price": "@N@"}]},
        "$.activity[0].items[0].price",
    ),
    (
        {
            "type": "order",
            "subtotal": 1,
            "items": [{"product_id": "p", "price": 1, "quantity": "@N@"}],
        },
        "$.activity[0].items[0].quantity",
    ),
]


@pytest.mark.parametrize("count", [1, 29, 30, 31, 32, 40])
@pytest.mark.parametrize(("entry", "path"), INTEGER_FIELDS)
@pytest.mark.parametrize("sign", ["", "-"])
def test_an_integer_of_more_than_30_digits_is_re614_at_its_line_and_column(
    engine: Engine, entry: dict[str, object], path: str, count: int, sign: str
) -> None:
    number = sign + _digits(count)
    text = _number_snapshot(entry).replace('"@N@"', number)
    if count > 30:
        assert problems_of(engine, text, name="s.json") == (
            "s.json",
            [
                {
                    "code": "RE614",
                    "path": "$",
                    "message": "a number in the snapshot has more than 30 digits",
                    "line": 1,
                    "column": text.index(number) + 1,
                }
            ],
        )
    elif sign:  # within the digit limit: a negative amount or count breaks the contract
        if "points" in path:
            engine.read_snapshot_text(text)
        else:
            _, problems = problems_of(engine, text, name="s.json")
            assert [(p["code"], p["path"]) for p in problems] == [("RE610", path)]
    else:
        engine.read_snapshot_text(text)


@pytest.mark.parametrize("count", [29, 30, 31, 32])
@pytest.mark.parametrize("form", ["number", "text", "fraction"])
@pytest.mark.parametrize("field", ["subtotal", "price"])
def test_an_amount_of_more_than_30_digits_before_its_point_is_re610_at_its_path(
    engine: Engine, count: int, form: str, field: str
) -> None:
    digits = _digits(count) + (".5" if form == "fraction" else "")
    value = f'"{digits}"' if form == "text" else digits
    entry: dict[str, object] = {"type": "order", "subtotal": "@N@"}
    path = "$.activity[0].subtotal"
    if field == "price":
        entry = {"type": "order", "subtotal": 1, "items": [{"product_id": "p", "price": "@N@"}]}
        path = "$.activity[0].items[0].price"
    text = _number_snapshot(entry).replace('"@N@"', value)
    if count <= 30:
        engine.read_snapshot_text(text)
        return
    _, problems = problems_of(engine, text, name="s.json")
    if form == "number":  # an integer in JSON text: refused as the text is read
        assert [(p["code"], p["path"]) for p in problems] == [("RE614", "$")]
    else:
        assert [(p["code"], p["path"]) for p in problems] == [("RE610", path)]


def test_a_long_integer_is_located_at_its_number_not_at_text_that_holds_its_digits(
    engine: Engine,
) -> None:
    number = _digits(31)
    text = (
        '{"customer": {"id": "' + number + '", "region": "EU"},\n "activity": '
        '[{"type": "points_earned", "id": "p", "at": "' + AT + '", "points": ' + number + "}]}"
    )
    _, problems = problems_of(engine, text, name="s.json")
    assert [(p["code"], p["line"], p["column"]) for p in problems] == [
        ("RE614", 2, text.rindex(number) - text.index("\n"))
    ]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("field", ["subtotal", "points"])
def test_nan_and_infinity_are_not_json(engine: Engine, constant: str, field: str) -> None:
    kind = "order" if field == "subtotal" else "points_earned"
    text = _number_snapshot({"type": kind, field: "@N@"}).replace('"@N@"', f"\n  {constant}")
    assert problems_of(engine, text, name="s.json") == (
        "s.json",
        [
            {
                "code": "RE611",
                "path": "$",
                "message": f"the snapshot is not valid JSON: `{constant}` is not a JSON number "
                "(strict JSON has no NaN or Infinity)",
                "line": 2,
                "column": 3,
            }
        ],
    )


# -- problems name what the contract calls a value, never an internal class -------------------


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("[]", "$", "a snapshot must be a JSON object"),
        ("5", "$", "a snapshot must be a JSON object"),
        ("null", "$", "a snapshot must be a JSON object"),
        ('"x"', "$", "a snapshot must be a JSON object"),
        ('{"customer": 5}', "$.customer", "the customer must be a JSON object"),
        ('{"customer": []}', "$.customer", "the customer must be a JSON object"),
        (
            '{"customer": {"id": "c1", "region": "EU"}, "activity": [5]}',
            "$.activity[0]",
            "an activity must be a JSON object",
        ),
        (
            '{"customer": {"id": "c1", "region": "EU"}, "activity": [{"type": "order", '
            '"id": "o1", "at": "2026-02-01T12:00:00Z", "subtotal": 1, "items": [null]}]}',
            "$.activity[0].items[0]",
            "an item must be a JSON object",
        ),
    ],
)
def test_a_value_that_is_not_an_object_is_named_as_the_contract_names_it(
    engine: Engine, text: str, path: str, message: str
) -> None:
    assert problems_of(engine, text, name="s.json") == (
        "s.json",
        [{"code": "RE610", "path": path, "message": message}],
    )
    with pytest.raises(SnapshotError) as caught:  # a host's data: the same words
        engine.read_snapshot(json.loads(text))
    assert [p.to_json() for p in caught.value.problems] == [
        {"code": "RE610", "path": path, "message": message}
    ]


# -- an id has something visible in it ---------------------------------------------------------


@pytest.mark.parametrize("blank", [" ", "   ", "\t", "\n", "\u00a0", "\u2003"])
@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"type": "points_earned", "points": 5}, "$.activity[0].id"),
        ({"type": "order", "subtotal": "10"}, "$.activity[0].id"),
        ({"type": "signup"}, "$.activity[0].id"),
        ({"type": "custom:quiz", "score": 3}, "$.activity[0].id"),
        (None, "$.customer.id"),
    ],
)
def test_a_blank_id_is_a_located_problem(
    engine: Engine, blank: str, entry: dict[str, object] | None, path: str
) -> None:
    if entry is None:
        data: dict[str, object] = {"customer": {"id": blank, "region": "EU"}, "activity": []}
    else:
        data = {**GOOD, "activity": [{**entry, "id": blank, "at": AT}]}
    expected = [
        {"code": "RE610", "path": path, "message": "an id must not be blank (only whitespace)"}
    ]
    _, problems = problems_of(engine, json.dumps(data, ensure_ascii=False), name="s.json")
    assert problems == expected
    with pytest.raises(SnapshotError) as caught:  # a host's mapping: the same problem
        engine.read_snapshot(data)
    assert [p.to_json() for p in caught.value.problems] == expected


def test_an_id_with_text_around_spaces_is_still_an_id(engine: Engine) -> None:
    data = {**GOOD, "activity": [{"type": "points_earned", "id": " p 1 ", "points": 5, "at": AT}]}
    assert engine.read_snapshot_text(json.dumps(data)).activity[0].id == " p 1 "


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"activity": [{"id": "o1", "at": AT}]}, "$.activity[0]", "an activity must have a `type`"),
        (
            {"activity": [{"type": "order", "id": "o1", "at": AT, "subtotal": [10]}]},
            "$.activity[0].subtotal",
            "an amount must be a number or a decimal string",
        ),
        (
            {"activity": [{"type": "order", "id": "o1", "at": AT, "subtotal": True}]},
            "$.activity[0].subtotal",
            "an amount must be a number or a decimal string",
        ),
        (
            {"customer": {"id": "c1", "region": "EU", "birthday": 5}},
            "$.customer.birthday",
            "a date must be text like `1990-04-12`",
        ),
    ],
)
def test_problems_are_not_worded_in_python_terms(
    engine: Engine, change: dict[str, object], path: str, message: str
) -> None:
    # Not "unknown activity type `None`", "... or Decimal object", "datetimes provided to dates".
    text = json.dumps({**GOOD, **change})
    assert problems_of(engine, text, name="s.json") == (
        "s.json",
        [{"code": "RE610", "path": path, "message": message}],
    )
