"""Customer fields nobody declared are ignored, and cost no memory per value: JSON text (the
CLI's `--snapshot`, `Engine.read_snapshot_text`) and the service's body skip them unread,
checking on their bytes what reading them would check (nesting depth, long integers, halves
of surrogate pairs), so the outcome is what reading everything gives."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from ruleengine import Engine, SnapshotError, load_ruleset
from ruleengine.engine.snapshot_json import LongIntegerError, loads_exact
from ruleengine.service.problems import ProblemError
from ruleengine.service.requests import parse_evaluate_request

RULES = """\
version: 1
program: unread
currency: EUR
timezone: UTC
attributes:
  ltv: decimal
events:
  quiz: {score: int}
earning:
  - id: op
    name: order points
    on: order
    points: floor(order.subtotal) + floor(customer.ltv)
"""
ORDER = '{"type": "order", "id": "o1", "at": "2026-03-01T10:00:00Z", "subtotal": "40"}'
QUIZ = '{"type": "custom:quiz", "id": "q1", "at": "2026-03-01T10:00:00Z", "score": 5}'
FIELDS = frozenset({"snapshot", "now"})


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(RULES))


def _text(unread: str, activity: str = ORDER) -> str:
    return f'{{"customer": {{"id": "c1", "ltv": "5", "junk": {unread}}}, "activity": [{activity}]}}'


def _body(text: str) -> bytes:
    return f'{{"snapshot": {text}, "now": "2026-06-01T00:00:00Z"}}'.encode()


# -- memory ---------------------------------------------------------------------------------

LISTS = "[" + ",".join(["[]"] * 300_000) + "]"  # 900 KB of text, 300,001 lists if built


def _peak(read: Any) -> int:
    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("activity", [ORDER, f"{ORDER}, {QUIZ}"], ids=["decoded", "as-data"])
@pytest.mark.parametrize("form", ["str", "bytes", "service"])
def test_an_unread_field_of_many_values_costs_memory_in_proportion_to_its_text(
    engine: Engine, activity: str, form: str
) -> None:
    """Built, the lists would take ~20 times the text (a list is 56 bytes, its slot 8); read
    as text, the field is a few copies of its bytes at most. (A custom event sends the
    snapshot down the reader's path for data: the field is left out before it is built.)"""
    text = _text(LISTS, activity)
    if form == "service":
        body = _body(text)

        def read() -> Any:
            request = parse_evaluate_request(body, fields=FIELDS, reading=engine.reading)
            return engine.read_snapshot(request.snapshot)

        size = len(body)
    else:
        value = text if form == "str" else text.encode()

        def read() -> Any:
            return engine.read_snapshot_text(value)

        size = len(text)
    snapshot = read()
    assert "junk" not in snapshot.customer
    assert _peak(read) < 6 * size


# -- the outcome is what reading everything gives -------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**35), max_value=10**35)  # past 30 digits: RE614
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='[]{}"\\ab1_,:', max_size=6)  # brackets and quotes inside strings
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    """A value nested about as deep as the limit allows a customer field (62 levels)."""
    value: Any = draw(SCALARS)
    for level in range(draw(st.integers(min_value=55, max_value=68))):
        value = {"k": value} if draw(st.booleans()) else [value, level]
    return value


def _outcome(read: Any) -> Any:
    try:
        snapshot = read()
    except SnapshotError as error:
        return [(p.code, p.path) for p in error.problems]
    except ProblemError as error:
        return error.code
    return snapshot.customer_id, dict(snapshot.customer), snapshot.activity


@settings(max_examples=80, deadline=None)
@given(unread=st.lists(VALUES | deep(), min_size=1, max_size=3), custom=st.booleans())
def test_skipping_unread_fields_gives_what_reading_them_gives(
    engine: Engine, unread: list[Any], custom: bool
) -> None:
    fields = ", ".join(f'"x{i}": {json.dumps(value)}' for i, value in enumerate(unread))
    text = _text(f"null, {fields}", f"{ORDER}, {QUIZ}" if custom else ORDER)
    note(text)
    try:
        expected = _outcome(lambda: engine.read_snapshot(loads_exact(text)))
    except LongIntegerError:
        expected = None  # reading everything refuses the text itself: RE614
    got = [
        _outcome(lambda: engine.read_snapshot_text(text)),
        _outcome(lambda: engine.read_snapshot_text(text.encode())),
    ]
    served = _outcome(
        lambda: engine.read_snapshot(
            parse_evaluate_request(_body(text), fields=FIELDS, reading=engine.reading).snapshot
        )
    )
    if expected is None:
        assert got == [[("RE614", "$")]] * 2
        assert served == "RE614"
    else:
        assert got == [expected] * 2
        assert served == expected


def test_an_unread_field_with_half_a_surrogate_pair_is_still_re610(engine: Engine) -> None:
    with pytest.raises(SnapshotError) as error:
        engine.read_snapshot_text(_text('["\\ud800"]'))
    assert [(p.code, p.path) for p in error.value.problems] == [("RE610", "$.customer.junk[0]")]
