"""The fast snapshot reader gives exactly what the pydantic models give, or declines.

`ruleengine.engine.snapshot_reader.read_fast` only exists for speed: for every input it accepts, its
customer, activity and granted keys must equal those of the models' path (to the digit of
every amount and the offset of every timestamp), and it must decline everything the models
reject. Checked on every snapshot of the corpora and examples, and on generated mutations of
a snapshot that uses every field, with values chosen to sit on each parser's edges
(RULEENGINE_FUZZ_EXAMPLES sets how many; 20,000 agreed when this was written, about a
quarter of them accepted by the fast path).
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from benchmarks import data as bench_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseio import ROOT, load_cases
from ruleengine.engine.activity import Activity
from ruleengine.engine.snapshot import SnapshotError, _read_with_models, read_snapshot
from ruleengine.engine.snapshot_reader import DeclinedError, read_fast
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.vocabulary import customer_type

CASES = ROOT / "tests" / "cases" / "evaluate"
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "600"))
SNAPSHOTS = sorted((ROOT / "examples" / "snapshots").glob("*.json"))


def exact(value: Any) -> Any:
    """A value with the details equality ignores made visible: a Decimal's digits
    (`12.50` is not `12.5` in a result), a datetime's offset and tzinfo object, types."""
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    if isinstance(value, datetime):
        return ("datetime", value, value.utcoffset(), value.tzinfo is UTC)
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [exact(item) for item in value])
    if isinstance(value, Activity):
        fields = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ())]
        return (type(value).__name__, {name: exact(getattr(value, name)) for name in fields})
    return (type(value).__name__, value)


def both_paths(snapshot: Any, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, Any]:
    """(fast result or None when it declines, models result or None when they reject)."""
    try:
        fast = read_fast(snapshot, limits.max_json_depth)
    except DeclinedError:
        fast = None
    try:
        slow = _read_with_models(snapshot, "<snapshot>", limits)
    except SnapshotError:
        slow = None
    return fast, slow


def assert_agree(snapshot: Any, limits: Limits = DEFAULT_LIMITS) -> bool:
    """The fast path agrees with the models; returns whether it accepted the snapshot."""
    fast, slow = both_paths(snapshot, limits)
    if fast is not None:
        assert slow is not None, "the fast path accepted what the models reject"
        assert exact(fast) == exact(slow)
    return fast is not None


def corpus_snapshots() -> list[Any]:
    found = []
    for name in ("milestones.yaml", "earning.yaml", "time.yaml", "tiers.yaml", "tier_changes.yaml"):
        found.extend(case["snapshot"] for case in load_cases(CASES / name))
    return found


def test_every_corpus_snapshot_reads_the_same_on_both_paths() -> None:
    accepted = [assert_agree(snapshot) for snapshot in corpus_snapshots()]
    assert sum(accepted) > 50  # the corpora exercise the fast path, not only the fallback


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.name)
def test_example_snapshots_take_the_fast_path(path: Path) -> None:
    snapshot = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert assert_agree(snapshot), "a well-formed example should not need the models"


def test_generated_benchmark_customers_take_the_fast_path() -> None:
    # The performance figures assume this: realistic JSON never falls back.
    for snapshot in bench_data.customers(40):
        assert assert_agree(bench_data.as_json(snapshot))
        assert assert_agree(json.loads(json.dumps(snapshot)))  # floats as floats


def _nested(levels: int) -> Any:
    deep: Any = "x"
    for _ in range(levels):
        deep = [deep]
    return deep


def _order_with(**fields: Any) -> dict[str, Any]:
    order = {"type": "order", "id": "o1", "at": "2026-01-01T00:00:00Z", "subtotal": "1"}
    return {"customer": {"id": "c1"}, "activity": [{**order, **fields}]}


@pytest.mark.parametrize(
    "snapshot",
    [
        _order_with(notes=_nested(70)),
        _order_with(items=[{"product_id": "p", "price": "1", "notes": _nested(70)}]),
        {"customer": {"id": "c1", "profile": _nested(70)}},
        {
            "customer": {"id": "c1"},
            "activity": [
                {"type": "custom:quiz", "id": "q1", "at": "2026-01-01T00:00:00Z", "x": _nested(70)}
            ],
        },
    ],
    ids=["order field", "item field", "customer field", "custom event field"],
)
def test_a_deep_field_the_models_ignore_falls_back_and_is_reported(snapshot: Any) -> None:
    with pytest.raises(DeclinedError):
        read_fast(snapshot, DEFAULT_LIMITS.max_json_depth)
    with pytest.raises(SnapshotError) as raised:
        read_snapshot(snapshot, customer_type=customer_type({}), events={})
    assert [p.code for p in raised.value.problems] == ["RE614"]


def test_shallow_unknown_fields_stay_on_the_fast_path() -> None:
    snapshot = _order_with(notes={"gift": True}, items=[{"product_id": "p", "price": "1"}])
    assert assert_agree(snapshot)


def test_a_python_hosts_objects_take_the_fast_path() -> None:
    # Built in code rather than parsed: aware datetimes, dates and Decimals as they are.
    paris = timezone(timedelta(hours=1))
    snapshot = {
        "customer": {
            "id": "c1",
            "birthday": date(1990, 5, 1),
            "created_at": datetime(2026, 1, 1).replace(tzinfo=paris),
        },
        "activity": [
            {
                "type": "order",
                "id": "o1",
                "at": datetime(2026, 2, 1, 12, tzinfo=paris),
                "subtotal": Decimal("42.50"),
            }
        ],
    }
    assert assert_agree(snapshot)
    customer, activity, _ = read_fast(snapshot, 64)
    assert customer["created_at"] == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert activity[0].at == datetime(2026, 2, 1, 11, tzinfo=UTC) and activity[0].at.tzinfo is UTC
    naive = {**snapshot, "activity": [{**snapshot["activity"][0], "at": datetime(2026, 2, 1)}]}
    with pytest.raises(DeclinedError):  # no offset: the models say why
        read_fast(naive, 64)


def test_a_small_depth_limit_leaves_every_snapshot_to_the_models() -> None:
    snapshot = {"customer": {"id": "c1"}}
    with pytest.raises(DeclinedError):
        read_fast(snapshot, 3)
    assert read_fast(snapshot, 7)[0]["id"] == "c1"


def test_timestamps_are_read_in_utc_on_both_paths() -> None:
    snapshot = {
        "customer": {"id": "c1", "created_at": "2026-01-01T09:00:00+09:00"},
        "activity": [
            {"type": "review", "id": "r1", "at": "2026-01-01T01:00:00+01:00", "rating": 5}
        ],
    }
    for reader in (lambda s: read_fast(s, 64), lambda s: _read_with_models(s, "s", DEFAULT_LIMITS)):
        customer, activity, _ = reader(snapshot)
        assert customer["created_at"] == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
        assert customer["created_at"].tzinfo is UTC
        assert activity[0].at.tzinfo is UTC and activity[0].record["at"].tzinfo is UTC


def _problems(snapshot: Any, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The problems `read_snapshot` reports, on the fast path or (`fast=False`) on the
    models' path, forced by making the fast reader decline."""
    with monkeypatch.context() as patched:
        if not fast:

            def decline(data: Any, max_depth: int) -> Any:
                raise DeclinedError

            patched.setattr("ruleengine.engine.snapshot.read_fast", decline)
        try:
            read_snapshot(snapshot, customer_type=customer_type({}), events={})
        except SnapshotError as error:
            return [problem.to_dict() for problem in error.problems]
    return []


IMPOSSIBLE_REFUNDS = {
    "refund before its order": _order_with(refunded_at="2025-12-31T23:59:59Z"),
    "refund before its order across offsets": _order_with(
        at="2026-01-01T00:30:00-01:00", refunded_at="2026-01-01T01:00:00+00:00"
    ),
    "refund larger than the subtotal": _order_with(
        subtotal="10.00", refunded_at="2026-01-02T00:00:00Z", refunded_amount="10.01"
    ),
    "refund larger than the total": _order_with(
        subtotal=10, total="12.50", refunded_at="2026-01-02T00:00:00Z", refunded_amount=13
    ),
    "refund amount without a refund time": _order_with(refunded_amount=2.5),
    "both, second order": {
        "customer": {"id": "c1"},
        "activity": [
            {"type": "signup", "id": "s1", "at": "2026-01-01T00:00:00Z"},
            *_order_with(subtotal="5")["activity"],
            {
                "type": "order",
                "id": "o2",
                "at": "2026-02-01T00:00:00Z",
                "subtotal": "5",
                "refunded_at": "2026-01-31T00:00:00Z",
                "refunded_amount": "5.5",
            },
        ],
    },
}


@pytest.mark.parametrize("snapshot", IMPOSSIBLE_REFUNDS.values(), ids=IMPOSSIBLE_REFUNDS.keys())
def test_impossible_refunds_are_reported_the_same_on_both_paths(
    snapshot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert assert_agree(snapshot)  # well formed: the fast path reads it
    fast = _problems(snapshot, True, monkeypatch)
    assert fast and {p["code"] for p in fast} <= {"RE615", "RE616"}
    assert _problems(snapshot, False, monkeypatch) == fast


def test_impossible_refunds_name_the_field_and_the_order() -> None:
    snapshot = IMPOSSIBLE_REFUNDS["both, second order"]
    with pytest.raises(SnapshotError) as raised:
        read_snapshot(snapshot, customer_type=customer_type({}), events={})
    assert [p.to_dict() for p in raised.value.problems] == [
        {
            "code": "RE615",
            "path": "$.activity[2].refunded_at",
            "message": "order `o2` is refunded at 2026-01-31T00:00:00+00:00, before it was "
            "placed at 2026-02-01T00:00:00+00:00",
            "hint": "a refund comes after its order: check both timestamps and their offsets",
        },
        {
            "code": "RE616",
            "path": "$.activity[2].refunded_amount",
            "message": "order `o2` has 5.5 refunded, more than its amount of 5",
            "hint": "`refunded_amount` is the total refunded so far, at most the order's "
            "`subtotal` (or its `total`, when that is larger)",
        },
    ]


def test_possible_refunds_are_accepted_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    edges = [
        _order_with(refunded_at="2026-01-01T00:00:00Z"),  # at the moment of the order
        _order_with(refunded_at="2026-01-01T01:00:00+01:00"),  # the same moment
        _order_with(subtotal="10.00", refunded_at="2026-01-02T00:00:00Z", refunded_amount="10"),
        _order_with(subtotal=10, total=12, refunded_at="2026-01-02T00:00:00Z", refunded_amount=12),
        _order_with(subtotal=10, total=8, refunded_at="2026-01-02T00:00:00Z", refunded_amount=10),
    ]
    for snapshot in edges:
        assert _problems(snapshot, True, monkeypatch) == []
        assert _problems(snapshot, False, monkeypatch) == []


# -- generated mutations ---------------------------------------------------------------------

BASE: dict[str, Any] = {
    "customer": {
        "id": "c1",
        "email": "c1@example.com",
        "tags": ["vip"],
        "tier": "gold",
        "excluded": False,
        "birthday": "1990-02-28",
        "birthday_set_at": "2025-01-01T00:00:00Z",
        "created_at": "2024-05-01T10:00:00+02:00",
        "region": "EU",
    },
    "activity": [
        {
            "type": "order",
            "id": "o1",
            "at": "2026-01-05T10:00:00Z",
            "subtotal": "42.50",
            "total": 45,
            "channel": "online",
            "items": [
                {
                    "product_id": "p1",
                    "variant_id": "v1",
                    "sku": "S",
                    "title": "T",
                    "vendor": "V",
                    "product_type": "shoe",
                    "quantity": 2,
                    "price": "21.25",
                    "tags": ["a"],
                }
            ],
            "discount_codes": ["WELCOME"],
            "refunded_at": "2026-01-09T10:00:00.5+01:00",
            "refunded_amount": "10",
            "subscription_id": "s1",
        },
        {
            "type": "review",
            "id": "r1",
            "at": "2026-01-06T10:00:00Z",
            "rating": 4,
            "product_id": "p1",
            "has_photo": True,
            "verified": None,
        },
        {
            "type": "referral",
            "id": "f1",
            "at": "2026-01-07T10:00:00Z",
            "converted_at": "2026-01-08T10:00:00Z",
        },
        {
            "type": "subscription_billing",
            "id": "b1",
            "at": "2026-01-07T10:00:00Z",
            "subscription_id": "s1",
        },
        {"type": "points_earned", "id": "p1", "at": "2026-01-07T10:00:00Z", "points": -20},
        {
            "type": "subscription_billing",
            "id": "b2",
            "at": "2026-01-05T10:00:00Z",
            "subscription_id": "s1",
            "order_id": "o1",
        },
        {
            "type": "adjustment",
            "id": "a1",
            "at": "2026-01-07T11:00:00Z",
            "points": -15,
            "affects_tier": True,
            "note": "duplicate order",
            "message": "We corrected your points",
        },
        {"type": "adjustment", "id": "a2", "at": "2026-01-07T12:00:00Z", "points": 40},
        {"type": "tier_change", "id": "t1", "at": "2026-01-07T13:00:00Z", "tier": "gold"},
        {
            "type": "tier_change",
            "id": "t2",
            "at": "2026-01-07T14:00:00Z",
            "tier": "member",
            "tier_points": "800.50",
        },
        {"type": "tier_recalculation", "id": "rc1", "at": "2026-01-07T15:00:00Z"},
        {
            "type": "redemption",
            "id": "rd1",
            "at": "2026-01-08T10:00:00Z",
            "program": "five-off",
            "points": 500,
            "coupon": "ABC-123",
            "revoked_at": "2026-01-09T10:00:00+01:00",
            "used_at": None,
        },
        {
            "type": "social_follow",
            "id": "e1",
            "at": "2026-01-07T10:00:00Z",
            "platform": "instagram",
            "extra": {"a": [1]},
        },
        {"type": "custom:quiz", "id": "q1", "at": "2026-01-07T10:00:00Z", "score": "7"},
    ],
    "granted": ["order-points/o0"],
}

EDGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    5,
    6,
    2**70,
    0.0,
    -0.0,
    0.1,
    12.5,
    1e22,
    float("nan"),
    float("inf"),
    "",
    "x",
    "12.50",
    "0012.5",
    "1e2",
    " 5",
    "5 ",
    "-0",
    "-1",
    "+5",
    "NaN",
    "Infinity",
    "1_000",
    "\u0661\u0662",
    "12.",
    ".5",
    "1" * 40,
    Decimal("12.50"),
    Decimal("-1"),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("1E+2"),
    Decimal("-0"),
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00+01:00",
    "2026-01-01 00:00:00Z",
    "2026-01-01T00:00:00",
    "2026-01-01",
    "2026-13-01T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01T00:00:00.1234567Z",
    "2026-01-01T00:00:00.5Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:30:00+01:00",
    "2026-01-01T00:00:00-00:00",
    "2026-01-01T00:00:00+23:59",
    "2026-01-01T00:00:00z",
    "2026-W01-1T00:00:00Z",
    "2026-01-01T00:00Z",
    "1990-02-29",
    "1990-01-31",
    "custom:quiz",
    "custom:Quiz",
    "order",
    "signup",
    [],
    ["a"],
    [1],
    ("a",),
    {},
    {"a": 1},
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 1, 1),
    datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5))),
    date(2026, 1, 1),
]


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths_of(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths_of(item, (*prefix, index)))
    return found


PATHS = paths_of(BASE)[1:]


def mutated(base: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    snapshot = copy.deepcopy(base)
    parent = snapshot
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[f"unknown_{len(parent)}"] = value
    else:
        parent[last] = value
    return snapshot


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.sampled_from(["set", "set", "set", "delete", "add"]),
            st.sampled_from(EDGE_VALUES),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_snapshots_read_the_same_or_fall_back(
    mutations: list[tuple[tuple[Any, ...], str, Any]],
) -> None:
    snapshot: Any = BASE
    for path, action, value in mutations:
        try:
            snapshot = mutated(snapshot, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the path
    assert_agree(snapshot)


def test_the_unmutated_base_takes_the_fast_path() -> None:
    assert assert_agree(BASE)
