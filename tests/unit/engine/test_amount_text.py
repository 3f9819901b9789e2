"""Number text that Python reads but JSON does not write is refused where the JSON Schema
refuses it: `Decimal` (and pydantic's `int`) take `1_000` for 1000 and Arabic-Indic or
fullwidth digits for 0-9, while the schema's pattern allows only the ASCII digits. Each is
RE610 at its path, whichever way the snapshot comes (a host's mapping, JSON text with the
digits written or escaped, UTF-8 bytes), and a `CoercionError` for a host's decimal value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import CoercionError, Engine, SnapshotError, load_ruleset
from ruleengine.expr.coerce import coerce
from ruleengine.expr.types import DecimalType, MoneyType

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RULES = """\
version: 1
program: amounts
currency: EUR
timezone: UTC
attributes:
  ltv: decimal
events:
  quiz: {bonus: decimal}
earning:
  - id: op
    name: order points
    on: order
    points: floor(order.subtotal) + floor(customer.ltv)
  - id: qz
    name: quiz points
    on: custom:quiz
    points: floor(event.bonus)
"""
# The decimal digit sets of Unicode besides ASCII that `Decimal` reads: Arabic-Indic,
# Devanagari, Thai, fullwidth, Mathematical bold (outside the BMP).
ZEROS = [0x0660, 0x0966, 0x0E50, 0xFF10, 0x1D7CE]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(RULES))


def _snapshot(path: str, text: str) -> dict[str, Any]:
    """A valid snapshot whose value at `path` is `text`."""
    order = {
        "type": "order",
        "id": "o1",
        "at": "2026-03-01T10:00:00Z",
        "subtotal": "40",
        "total": "45",
        "items": [{"product_id": "a", "price": "40", "quantity": 1}],
    }
    quiz = {"type": "custom:quiz", "id": "q1", "at": "2026-03-01T10:00:00Z", "bonus": "2"}
    data: dict[str, Any] = {"customer": {"id": "c1", "ltv": "100"}, "activity": [order, quiz]}
    *parents, last = path.removeprefix("$.").replace("[", ".").replace("]", "").split(".")
    place: Any = data
    for part in parents:
        place = place[int(part)] if part.isdigit() else place[part]
    place[last] = text
    return data


PATHS = [
    "$.activity[0].subtotal",
    "$.activity[0].total",
    "$.activity[0].items[0].price",
    "$.activity[0].items[0].quantity",
    "$.customer.ltv",
    "$.activity[1].bonus",
]


def _forms(engine: Engine, data: dict[str, Any]) -> list[Any]:
    return [
        lambda: engine.read_snapshot(data),
        lambda: engine.read_snapshot_text(json.dumps(data)),  # escaped: `\u0661`
        lambda: engine.read_snapshot_text(json.dumps(data, ensure_ascii=False)),
        lambda: engine.read_snapshot_text(json.dumps(data, ensure_ascii=False).encode()),
    ]


def _foreign(number: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in number)


numbers = st.decimals(min_value=0, max_value=10**6, places=2).map(str)


@st.composite
def underscored(draw: st.DrawFn) -> str:
    whole = str(draw(st.integers(min_value=10, max_value=10**9)))
    cut = draw(st.integers(min_value=1, max_value=len(whole) - 1))
    return whole[:cut] + "_" + whole[cut:]


@st.composite
def foreign(draw: st.DrawFn) -> str:
    return _foreign(
        str(draw(st.integers(min_value=0, max_value=10**6))), draw(st.sampled_from(ZEROS))
    )


@settings(max_examples=40, deadline=None)
@given(text=st.one_of(underscored(), foreign()), path=st.sampled_from(PATHS))
def test_number_text_beyond_ascii_digits_is_re610_at_its_path(
    engine: Engine, text: str, path: str
) -> None:
    data = _snapshot(path, text)
    for read in _forms(engine, data):
        with pytest.raises(SnapshotError) as error:
            read()
        assert [(p.code, p.path) for p in error.value.problems] == [("RE610", path)], text
        assert error.value.problems[0].message == (
            f"`{text}` is not a number as JSON writes one: use the digits 0-9, without `_`"
        )


@settings(max_examples=20, deadline=None)
@given(text=numbers, path=st.sampled_from(PATHS[:3] + PATHS[4:]))
def test_ascii_number_text_is_read_the_same_every_way(engine: Engine, text: str, path: str) -> None:
    data = _snapshot(path, f" {text} ")  # white space around it, as the schema allows
    results = {read().activity[0].subtotal for read in _forms(engine, data)}
    assert len(results) == 1


def test_an_id_with_digits_and_underscores_is_still_read(engine: Engine) -> None:
    """The reader's quick search for `1_0` also finds ids: they take the thorough path."""
    data = _snapshot("$.activity[0].id", "2026_03_01")
    data["customer"]["id"] = _foreign("123", 0x0660)  # any text is an id
    for read in _forms(engine, data):
        snapshot = read()
        assert snapshot.customer_id == _foreign("123", 0x0660)
        assert snapshot.activity[0].id == "2026_03_01"


@pytest.mark.parametrize(
    "text", ["1_000", _foreign("123", 0x0660), _foreign("123", 0xFF10), " 4_2.5 "]
)
@pytest.mark.parametrize("kind", [DecimalType(), MoneyType()])
def test_a_hosts_decimal_text_is_a_coercion_error(text: str, kind: Any) -> None:
    with pytest.raises(CoercionError) as error:
        coerce(text, kind, ("order", "subtotal"))
    assert error.value.path == ("order", "subtotal")
    assert error.value.message.startswith(f"`{text}` is not a number as JSON writes one")


@pytest.mark.parametrize("text", ["42", " 42.50 ", "+4.2e1", "\u00a042"])
def test_a_hosts_ascii_decimal_text_is_read(text: str) -> None:
    assert coerce(text, MoneyType(), ("m",)) == Decimal(text.strip())


@pytest.mark.parametrize("text", ["1_000", _foreign("123", 0x0660)])
def test_a_hosts_amount_text_is_refused_on_the_generated_path(text: str) -> None:
    from ruleengine import compile_expression, declare_scope

    expression = compile_expression(
        "order.subtotal > 5", declare_scope({"order": {"subtotal": "money"}})
    )
    with pytest.raises(CoercionError):
        expression.evaluate({"order": {"subtotal": text}}, now=NOW)
