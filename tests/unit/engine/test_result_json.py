"""Result JSON keeps its bytes: `EvaluationResult.dumps` writes the text straight from the
result's objects (`engine.result_json`), and it must be exactly what `json.dumps` writes of
`to_json()`, key order, separators, indentation and non-ASCII text included: for every
bundled example customer (`indent=None`, every `--snapshots` line; `indent=2`, `eval` and
the service), and for any result hypothesis makes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.engine.decisions import (
    Decision,
    EvaluationResult,
    Explanation,
    Progress,
    RewardGrant,
    RuntimeProblem,
    format_time,
)
from ruleengine.engine.ledger_types import Balance, LedgerEntry
from ruleengine.engine.points_history import PointsHistory

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SNAPSHOTS = sorted((EXAMPLES / "snapshots").glob("*.json"))


@pytest.mark.parametrize("path", SNAPSHOTS, ids=[p.stem for p in SNAPSHOTS])
def test_batch_line_bytes_are_json_dumps_bytes(path: Path) -> None:
    prefix = path.stem.split("-")[0]  # acme-maria.json -> acme.yaml, maple-* -> maple-loyalty
    (rules,) = [
        p for p in (EXAMPLES / "rules").glob(f"{prefix}*.yaml") if not p.name.endswith(".test.yaml")
    ]
    engine = Engine(load_ruleset(rules))
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    snapshot["customer"]["email"] = "zoë@例え.jp"  # non-ASCII text stays as it is
    for explain in (False, True):  # the service's `explain` adds the explanations
        result = engine.evaluate(snapshot, now=NOW, explain=explain)
        assert result.decisions or result.progress or result.to_json()["tier"]  # something
        assert bool(result.explanations) == explain
        line = result.dumps(indent=None)
        assert line == json.dumps(result.to_json(), ensure_ascii=False)
        assert result.dumps() == json.dumps(result.to_json(), indent=2, ensure_ascii=False)
        assert json.loads(line) == result.to_json()


# The batch line is written straight from the result's objects (no dictionaries, no encoder
# walk); whatever the objects hold, its text must be `json.dumps(result.to_json())`'s.
# Field values beyond the declared types (bools, floats, text where a number goes) take the
# writer's fallback, which must give the same text too.
text = st.text()  # any code point: quotes, controls, emoji, lone surrogates
whole = st.integers() | st.integers(min_value=-(10**30), max_value=10**30)
decimals = st.decimals(allow_nan=False, allow_infinity=False) | st.decimals(places=2)
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [
            UTC,
            timezone(timedelta(hours=-5)),
            timezone(timedelta(hours=5, minutes=30)),
            ZoneInfo("America/New_York"),
            ZoneInfo("Europe/Berlin"),
        ]
    ),
)
odd = (  # not what the types declare
    st.booleans() | st.floats() | st.text(max_size=3) | st.lists(st.integers(), max_size=2)
)


def rarely_odd(declared: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """A declared value, or one time in eight an odd one (the writer's fallback)."""
    return st.integers(0, 7).flatmap(lambda n: odd if n == 0 else declared)


json_like = st.recursive(
    st.none() | st.booleans() | whole | st.floats() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)
grants = st.builds(
    RewardGrant,
    type=st.sampled_from(
        ["points", "store_credit", "discount_amount", "discount_percentage", "free_gift"]
    )
    | text,
    value=rarely_odd(st.none() | whole | decimals),
    product=st.none() | text,
)
decisions = st.builds(
    Decision,
    key=text,
    rule=text,
    step=rarely_odd(st.none() | whole),
    logic=st.sampled_from(["grant_all", "customer_picks"]) | text,
    pick=rarely_odd(st.none() | whole),
    rewards=st.lists(grants, max_size=3).map(tuple),
    achieved_at=moments,
    qualifying=st.none() | text,
    status=st.sampled_from(["granted", "pending", "reversed"]),
    available_at=st.none() | moments,
    kind=st.sampled_from(["reward", "points_expired", "expiry_warning", "tier_change"]),
    tier=st.none() | st.tuples(text, text),
)


def _progress(
    metric: st.SearchStrategy[str], number: st.SearchStrategy[object]
) -> st.SearchStrategy[Progress]:
    return st.builds(
        Progress,
        rule=text,
        step=rarely_odd(whole),
        steps=whole,
        metric=metric,
        current=number,
        pending=rarely_odd(number),
        target=number,
        completed=st.booleans(),
        description=st.none() | text,
        remaining=st.none() | text,
    )


progress = (
    _progress(st.just("amount_spent"), whole | decimals)  # money: amounts as text
    | _progress(st.sampled_from(["orders_count", "days"]) | text, whole)  # counts
    | _progress(st.text(), rarely_odd(decimals))  # a count that is not whole: `to_json` refuses
)
problems = st.builds(
    RuntimeProblem,
    code=text,
    rule=text,
    message=text,
    file=text,
    line=whole,
    column=rarely_odd(whole),
    path=st.none() | text,
    amount=st.none() | whole,
)
explanations = st.builds(
    Explanation,
    rule=text,
    step=st.none() | whole,
    status=text,
    reasons=st.lists(text, max_size=3).map(tuple),
    activity=st.none() | text,
)
ledgers = st.fixed_dictionaries(
    {},
    optional={
        "balance": st.dictionaries(text, whole, max_size=6),
        "expiring": st.lists(json_like, max_size=2),
        "redeemable": st.lists(json_like, max_size=2),
        "coupons": st.lists(json_like, max_size=2),
        "tier": json_like,
    },
)
results = st.builds(
    EvaluationResult,
    program=text,
    ruleset_hash=text,
    customer=text,
    evaluated_at=moments,
    decisions=st.lists(decisions, max_size=4).map(tuple),
    progress=st.lists(progress, max_size=3).map(tuple),
    problems=st.lists(problems, max_size=2).map(tuple),
    explanations=st.lists(explanations, max_size=2).map(tuple),
    ledger=ledgers,
)


def _expected(result: EvaluationResult, indent: int | None) -> str | type[Exception]:
    try:
        return json.dumps(result.to_json(), indent=indent, ensure_ascii=False)
    except (AssertionError, ArithmeticError, ValueError) as error:  # `to_json` refuses some
        return type(error)


@settings(max_examples=400, deadline=None)
@given(results)
def test_result_text_is_json_dumps_of_to_json_for_any_result(result: EvaluationResult) -> None:
    for indent in (None, 2):  # a batch line; what `eval` and the service write
        expected = _expected(result, indent)
        if isinstance(expected, str):
            assert result.dumps(indent=indent) == expected
        else:  # the text fails as `to_json` does
            with pytest.raises(expected):
                result.dumps(indent=indent)


@settings(max_examples=300)
@given(moments)
def test_format_time_is_utc_isoformat_with_z(moment: datetime) -> None:
    assert format_time(moment) == moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


histories = st.builds(
    PointsHistory,
    program=text,
    customer=text,
    now=moments,
    zone=st.just(UTC),
    entries=st.lists(
        st.builds(
            LedgerEntry,
            at=moments,
            kind=st.sampled_from(["earned", "redeemed", "expired"]) | text,
            points=rarely_odd(whole),
            balance=whole,
            text=text,
            key=text,
            rule=st.none() | text,
            activity=st.none() | text,
        ),
        max_size=4,
    ).map(tuple),
    balance=st.builds(Balance, active=whole, pending=whole, earned=rarely_odd(whole)),
)


@settings(max_examples=200, deadline=None)
@given(histories)
def test_points_history_text_is_json_dumps_of_to_json(history: PointsHistory) -> None:
    assert history.dumps() == json.dumps(history.to_json(), indent=2, ensure_ascii=False)
    assert history.dumps(indent=None) == json.dumps(history.to_json(), ensure_ascii=False)


@pytest.mark.parametrize("path", SNAPSHOTS, ids=[p.stem for p in SNAPSHOTS])
def test_points_history_bytes_are_json_dumps_bytes(path: Path) -> None:
    prefix = path.stem.split("-")[0]
    (rules,) = [
        p for p in (EXAMPLES / "rules").glob(f"{prefix}*.yaml") if not p.name.endswith(".test.yaml")
    ]
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    snapshot["customer"]["email"] = "zoë@例え.jp"
    history = Engine(load_ruleset(rules)).timeline(snapshot, now=NOW)
    expected = json.dumps(history.to_json(), indent=2, ensure_ascii=False)
    assert history.dumps() == expected
    assert history.dumps(indent=None) == json.dumps(history.to_json(), ensure_ascii=False)
