"""The snapshot reader (msgspec) reads every snapshot as the reader before it did, or words
the same problems.

`ruleengine.engine.snapshot_reader` decodes JSON text and converts a host's mappings into the
engine's activity structs; what it refuses, the pydantic models word. The reader before it
(`main` until issue #18) was a hand-written fast path that gave, for everything it accepted,
what the models give, and left the rest to them: so its results are those of the models,
with each activity made from its validated model. `reference_parts` below is that reading,
kept here as the reference. For every snapshot, as data and as JSON text, the new reader and
the reference must give the same snapshot (to the digit of every amount and the offset of
every timestamp) or the same problems: checked on every snapshot of the corpora and examples,
on generated customers, and on generated mutations of a snapshot that uses every field and of
its JSON text (RULEENGINE_FUZZ_EXAMPLES sets how many).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pydantic
import pytest
from benchmarks import data as bench_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseio import ROOT, load_cases
from ruleengine.engine import snapshot as snapshot_module
from ruleengine.engine.activity import (
    Activity,
    Adjustment,
    Billing,
    Event,
    Item,
    Order,
    PointsEntry,
    Redemption,
    Referral,
    Review,
    TierRecalculation,
    TierSet,
    optional_utc,
    utc,
)
from ruleengine.engine.snapshot import (
    SnapshotError,
    read_snapshot,
    read_snapshot_text,
)
from ruleengine.engine.snapshot_json import loads_exact
from ruleengine.engine.snapshot_reader import RefusedError, read_data, read_text
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.vocabulary import customer_type

CASES = ROOT / "tests" / "cases" / "evaluate"
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "600"))
SNAPSHOTS = sorted((ROOT / "examples" / "snapshots").glob("*.json"))
TYPE = customer_type({"region": "string?", "lifetime_value": "money?"})
EVENTS = {"quiz": {"score": "int"}}
TIERS = ["member", "gold"]


# -- the reference: the models, each activity made from its validated model --------------------


def from_model(model: Any) -> Activity:
    """The activity of a validated pydantic activity model, as the reader before made it."""
    record: dict[str, Any] = model.model_dump()
    record.update(model.model_extra or {})
    at = record["at"] = utc(model.at)
    kind = model.type
    if kind == "order":
        items = [Item(**item) for item in record["items"]]
        return Order(
            id=model.id,
            at=at,
            subtotal=model.subtotal,
            total=model.total,
            channel=model.channel,
            items=items,
            discount_codes=list(model.discount_codes),
            refunded_at=optional_utc(model.refunded_at),
            refunded_amount=model.refunded_amount,
            subscription_id=model.subscription_id,
        )
    if kind == "review":
        return Review(
            id=model.id,
            at=at,
            rating=model.rating,
            product_id=model.product_id,
            has_photo=model.has_photo,
            verified=model.verified,
        )
    if kind == "referral":
        return Referral(id=model.id, at=at, converted_at=optional_utc(model.converted_at))
    if kind == "subscription_billing":
        return Billing(
            id=model.id, at=at, subscription_id=model.subscription_id, order_id=model.order_id
        )
    if kind == "points_earned":
        return PointsEntry(id=model.id, at=at, points=model.points)
    if kind == "adjustment":
        return Adjustment(
            id=model.id,
            at=at,
            points=model.points,
            affects_tier=model.affects_tier,
            note=model.note,
            message=model.message,
        )
    if kind == "redemption":
        return Redemption(
            id=model.id,
            at=at,
            program=model.program,
            points=model.points,
            coupon=model.coupon,
            revoked_at=optional_utc(model.revoked_at),
            used_at=optional_utc(model.used_at),
        )
    if kind == "tier_change":
        return TierSet(id=model.id, at=at, tier=model.tier, tier_points=model.tier_points)
    if kind == "tier_recalculation":
        return TierRecalculation(id=model.id, at=at)
    return Event(model.id, at, kind, record)


def reference_parts(
    data: Any, name: str, limits: Limits, text: str | None
) -> tuple[dict[str, Any], list[Activity], list[str]]:
    """The reading before msgspec: the pydantic models, the depth limit checked first."""
    from ruleengine.engine.snapshot_models import SnapshotIn

    snapshot_module._check_depth(data, name, limits)
    try:
        model = SnapshotIn.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [snapshot_module._problem(e) for e in error.errors(include_url=False)]
        raise SnapshotError(problems, name) from None
    raw_customer = model.customer.model_dump()
    raw_customer.update(model.customer.model_extra or {})
    raw_customer["birthday_set_at"] = optional_utc(model.customer.birthday_set_at)
    raw_customer["created_at"] = optional_utc(model.customer.created_at)
    return raw_customer, [from_model(entry) for entry in model.activity], list(model.granted)


def refuse(*args: Any, **kwargs: Any) -> Any:
    raise RefusedError


@contextmanager
def reference_reader() -> Iterator[None]:
    """`read_snapshot` and `read_snapshot_text` as they read before: every limit, JSON problem
    and whole-snapshot check as they are, the reading itself by the models."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(snapshot_module, "read_text", refuse)
        patched.setattr(snapshot_module, "_read_parts", reference_parts)
        yield


# -- comparing -----------------------------------------------------------------------------------


def exact(value: Any) -> Any:
    """A value with the details equality ignores made visible: a Decimal's digits
    (`12.50` is not `12.5` in a result), a datetime's offset and tzinfo object, types."""
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    if isinstance(value, datetime):
        return ("datetime", value, value.utcoffset(), value.tzinfo is UTC)
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | frozenset):
        items = sorted(value) if isinstance(value, frozenset) else value
        return (type(value).__name__, [exact(item) for item in items])
    if isinstance(value, Activity | Item):
        fields = {name: exact(getattr(value, name)) for name in value.__struct_fields__}
        record = getattr(value, "record", None)
        return (type(value).__name__, getattr(value, "type", None), fields, exact(record))
    if isinstance(value, snapshot_module.Snapshot):
        return {
            name: exact(getattr(value, name))
            for name in ("customer_id", "customer", "activity", "granted", "birthday_set_at")
        }
    return (type(value).__name__, value)


def outcome(read: Callable[[], Any]) -> Any:
    try:
        return ("read", exact(read()))
    except SnapshotError as error:
        return ("problems", error.name, [problem.to_json() for problem in error.problems])


def parts(read: Callable[[], Any]) -> Any:
    try:
        return ("read", exact(read()))
    except SnapshotError as error:
        return ("problems", [problem.to_json() for problem in error.problems])


def read_both(snapshot: Any, limits: Limits = DEFAULT_LIMITS, tiers: Any = TIERS) -> Any:
    """The snapshot as data: (the reader's outcome, the reference's outcome), each the
    customer, activity and granted keys read and then the whole `read_snapshot`, whose own
    problems (a tier the ruleset computes...) would otherwise hide how a value was read."""

    def read() -> Any:
        return read_snapshot(
            snapshot, customer_type=TYPE, events=EVENTS, limits=limits, tiers=tiers
        )

    new = parts(lambda: snapshot_module._read_parts(snapshot, "s", limits, None)), outcome(read)
    with reference_reader():
        old = parts(lambda: reference_parts(snapshot, "s", limits, None)), outcome(read)
    return new, old


class _Every:
    """Every name: `read_text` reads every customer field."""

    def __contains__(self, name: object) -> bool:
        return True


EVERY_FIELD: Any = _Every()


def read_text_both(text: str, limits: Limits = DEFAULT_LIMITS, tiers: Any = TIERS) -> Any:
    """The snapshot as JSON text: (the reader's outcome, the reference's outcome)."""

    def read() -> Any:
        return read_snapshot_text(
            text,
            customer_type=TYPE,
            events=EVENTS,
            name="s.jsonl",
            line=3,
            limits=limits,
            tiers=tiers,
        )

    def new_parts() -> Any:
        try:  # every customer field read, to compare the parts whole; skipping the fields
            # nobody declared is compared by the outcome (`read`) and in test_unread_fields
            return read_text(text, limits.max_json_depth, limits.max_activity, EVERY_FIELD)
        except RefusedError:
            return snapshot_module._read_parts(loads_exact(text), "s", limits, text)

    def old_parts() -> Any:
        return reference_parts(loads_exact(text), "s", limits, text)

    new = outcome(read)
    with reference_reader():
        old = outcome(read)
    try:
        loads_exact(text)
    except (ValueError, RecursionError):  # JSON that does not parse: the whole outcome says it
        return new, old
    return (parts(new_parts), new), (parts(old_parts), old)


def assert_agree(snapshot: Any, limits: Limits = DEFAULT_LIMITS) -> bool:
    """The reader agrees with the reference, on the data and (when it is JSON) on its text;
    returns whether the reader accepted the data itself, without the models."""
    new, old = read_both(snapshot, limits)
    assert new == old
    try:
        text = json.dumps(snapshot, default=_json_default)
    except (TypeError, ValueError):
        text = None
    if text is not None:
        new_text, old_text = read_text_both(text, limits)
        assert new_text == old_text
    try:
        read_data(snapshot, limits.max_json_depth)
    except (RefusedError, msgspec.ValidationError):
        return False
    return not snapshot_module._suspect(snapshot)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError


def takes_the_text_reader(text: str) -> bool:
    try:
        read_text(text, DEFAULT_LIMITS.max_json_depth, DEFAULT_LIMITS.max_activity)
    except RefusedError:
        return False
    return True


# -- snapshots as hosts send them ---------------------------------------------------------------


def corpus_snapshots() -> list[Any]:
    found = []
    for name in ("milestones.yaml", "earning.yaml", "time.yaml", "tiers.yaml", "tier_changes.yaml"):
        found.extend(case["snapshot"] for case in load_cases(CASES / name))
    return found


def test_every_corpus_snapshot_reads_the_same_as_before() -> None:
    accepted = [assert_agree(snapshot) for snapshot in corpus_snapshots()]
    assert sum(accepted) > 50  # the corpora are read by msgspec, not by the models


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.name)
def test_example_snapshots_are_read_without_the_models(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    snapshot = json.loads(text, parse_float=Decimal)
    assert assert_agree(snapshot), "a well-formed example should not need the models"
    new, old = read_text_both(text)
    assert new == old


def test_generated_benchmark_customers_are_read_without_the_models() -> None:
    # The performance figures assume this: realistic JSON never falls back.
    for snapshot in bench_data.customers(40):
        data = bench_data.as_json(snapshot)
        assert assert_agree(data)
        assert assert_agree(json.loads(json.dumps(snapshot)))  # floats as floats
        assert takes_the_text_reader(json.dumps(data))


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
def test_a_deep_field_the_contract_passes_is_refused_and_reported(snapshot: Any) -> None:
    with pytest.raises(RefusedError):
        read_data(snapshot, DEFAULT_LIMITS.max_json_depth)
    with pytest.raises(SnapshotError) as raised:
        read_snapshot(snapshot, customer_type=customer_type({}), events={})
    assert [p.code for p in raised.value.problems] == ["RE614"]
    assert read_both(snapshot)[0] == read_both(snapshot)[1]


def test_fields_the_contract_ignores_are_read_as_before() -> None:
    snapshot = _order_with(notes={"gift": True}, items=[{"product_id": "p", "price": "1"}])
    assert not assert_agree(snapshot)  # refused by the structs, read from the models' data


def test_custom_events_and_event_fields_are_read_without_the_models() -> None:
    snapshot = {
        "customer": {"id": "c1"},
        "activity": [
            {"type": "custom:quiz", "id": "q1", "at": "2026-01-01T00:00:00Z", "score": 7},
            {"type": "social_follow", "id": "f1", "at": "2026-01-01T00:00:00Z", "extra": [1]},
            {"type": "signup", "id": "s1", "at": "2026-01-01T00:00:00Z", "platform": "web"},
        ],
    }
    assert assert_agree(snapshot)
    _, activity, _ = read_data(snapshot, 64)
    assert [type(entry) for entry in activity] == [Event, Event, Event]
    assert activity[0].record == {
        "id": "q1",
        "at": activity[0].at,
        "type": "custom:quiz",
        "score": 7,
    }
    # As text, the signup alone is decoded in one call; the custom event is read as data.
    signup = json.dumps({**snapshot, "activity": snapshot["activity"][2:]})
    assert takes_the_text_reader(signup)
    assert not takes_the_text_reader(json.dumps(snapshot))


def test_a_python_hosts_objects_are_read_without_the_models() -> None:
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
    customer, activity, _ = read_data(snapshot, 64)
    assert customer["created_at"] == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert activity[0].at == datetime(2026, 2, 1, 11, tzinfo=UTC) and activity[0].at.tzinfo is UTC
    naive = {**snapshot, "activity": [{**snapshot["activity"][0], "at": datetime(2026, 2, 1)}]}
    with pytest.raises(RefusedError):  # no offset: the models say why
        read_data(naive, 64)
    assert not assert_agree(naive)


def test_a_small_depth_limit_leaves_every_snapshot_to_the_models() -> None:
    snapshot = {"customer": {"id": "c1"}}
    with pytest.raises(RefusedError):
        read_data(snapshot, 3)
    with pytest.raises(RefusedError):
        read_text(json.dumps(snapshot), 3, 10)
    assert read_data(snapshot, 7)[0]["id"] == "c1"
    assert read_both(snapshot, Limits(max_json_depth=3)) == read_both(
        snapshot, Limits(max_json_depth=3)
    )


def test_timestamps_are_read_in_utc() -> None:
    snapshot = {
        "customer": {"id": "c1", "created_at": "2026-01-01T09:00:00+09:00"},
        "activity": [
            {"type": "review", "id": "r1", "at": "2026-01-01T01:00:00+01:00", "rating": 5}
        ],
    }
    for customer, activity, _ in (
        read_data(snapshot, 64),
        read_text(json.dumps(snapshot), 64, 10),
    ):
        assert customer["created_at"] == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
        assert customer["created_at"].tzinfo is UTC
        review = activity[0]
        assert isinstance(review, Review)
        assert review.at.tzinfo is UTC and review.record["at"].tzinfo is UTC


TEXTS = {
    # msgspec rounds a seventh fractional digit of a second; the models cut it.
    "seven fractional digits": '{"customer": {"id": "c1"}, "activity": [{"type": "signup", '
    '"id": "s1", "at": "2026-01-01T00:00:00.9999995Z"}]}',
    "an escaped half of a surrogate pair": '{"customer": {"id": "c\\ud800"}}',
    "a long integer in an item": '{"customer": {"id": "c1"}, "activity": [{"type": "order", '
    '"id": "o", "at": "2026-01-01T00:00:00Z", "subtotal": 1, "items": [{"product_id": "p", '
    '"price": 1, "quantity": 1234567890123456789012345678901}]}]}',
    "a long integer in an attribute": '{"customer": {"id": "c1", "region": '
    "-1234567890123456789012345678901}}",
    "a repeated field": '{"customer": {"id": "c1", "id": "c2"}, "activity": [{"type": "review", '
    '"id": "r", "id": "r2", "at": "2026-01-01T00:00:00Z", "rating": 1, "rating": 5}]}',
    "a repeated type": '{"customer": {"id": "c1"}, "activity": [{"type": "review", "id": "r", '
    '"at": "2026-01-01T00:00:00Z", "rating": 5, "type": "signup"}]}',
    "not JSON": '{"customer": {"id": "c1"},}',
    # RE614 with its line and column, where `Decimal` itself used to raise.
    "an exponent no Decimal holds": '{"customer": {"id": "c1", "x": 1e4006789012345678901}}',
    "a number where an amount goes as text": '{"customer": {"id": "c1"}, "activity": [{"type": '
    '"order", "id": "o", "at": "2026-01-01T00:00:00Z", "subtotal": "1e400"}]}',
    "too much activity": '{"customer": {"id": "c1"}, "activity": ['
    + ", ".join(['{"type": "tier_recalculation", "id": "t", "at": "2026-01-01T00:00:00Z"}'] * 3)
    + "]}",
}


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_texts_msgspec_reads_differently_are_read_as_before(text: str) -> None:
    new, old = read_text_both(text, Limits(max_activity=2))
    assert new == old


def test_an_exponent_no_decimal_holds_is_located() -> None:
    new, _ = read_text_both(TEXTS["an exponent no Decimal holds"])
    assert new == (
        "problems",
        "s.jsonl:3",
        [
            {
                "code": "RE614",
                "path": "$",
                "message": "a number in the snapshot has more than 30 digits",
                "line": 3,
                "column": 32,
            }
        ],
    )


def _problems(snapshot: Any, reference: bool) -> list[Any]:
    """The problems `read_snapshot` reports (none when it reads the snapshot)."""

    def read() -> Any:
        return read_snapshot(snapshot, customer_type=customer_type({}), events={})

    if reference:
        with reference_reader():
            found = outcome(read)
    else:
        found = outcome(read)
    return found[-1] if found[0] == "problems" else []  # type: ignore[no-any-return]


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
def test_impossible_refunds_are_reported_as_before(snapshot: Any) -> None:
    assert assert_agree(snapshot)  # well formed: the reader reads it
    new = _problems(snapshot, reference=False)
    assert new and {p["code"] for p in new} <= {"RE615", "RE616"}
    assert _problems(snapshot, reference=True) == new


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


def test_possible_refunds_are_accepted() -> None:
    edges = [
        _order_with(refunded_at="2026-01-01T00:00:00Z"),  # at the moment of the order
        _order_with(refunded_at="2026-01-01T01:00:00+01:00"),  # the same moment
        _order_with(subtotal="10.00", refunded_at="2026-01-02T00:00:00Z", refunded_amount="10"),
        _order_with(subtotal=10, total=12, refunded_at="2026-01-02T00:00:00Z", refunded_amount=12),
        _order_with(subtotal=10, total=8, refunded_at="2026-01-02T00:00:00Z", refunded_amount=10),
    ]
    for snapshot in edges:
        assert _problems(snapshot, reference=False) == []
        assert _problems(snapshot, reference=True) == []


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


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(PATHS),
        st.sampled_from(["set", "set", "set", "delete", "add"]),
        st.sampled_from(EDGE_VALUES),
    ),
    min_size=1,
    max_size=3,
)


def apply(mutations: list[tuple[tuple[Any, ...], str, Any]]) -> Any:
    snapshot: Any = BASE
    for path, action, value in mutations:
        try:
            snapshot = mutated(snapshot, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the path
    return snapshot


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS)
def test_mutated_snapshots_read_as_before(
    mutations: list[tuple[tuple[Any, ...], str, Any]],
) -> None:
    snapshot = apply(mutations)
    new, old = read_both(snapshot)
    assert new == old


def test_every_single_mutation_reads_as_before() -> None:
    """Each edge value at each place, and each place left out, as data and as JSON text:
    every one, not a sample."""
    differences = []
    for path in PATHS:
        changes = [("set", value) for value in EDGE_VALUES] + [("delete", None)]
        for action, value in changes:
            snapshot = mutated(BASE, path, action, value)
            new, old = read_both(snapshot)
            if new != old:
                differences.append((path, action, value))
            if isinstance(value, Decimal | datetime | date | tuple) or value != value:
                continue  # no JSON text gives it
            new, old = read_text_both(json.dumps(snapshot))
            if new != old:
                differences.append(("text", path, action, value))
    assert differences == []


# Edits of JSON text the data cannot make: numbers as the text writes them, repeated keys,
# escapes, timestamps with more digits, text cut short.
TEXT_EDITS: list[tuple[str, str]] = [
    ('"42.50"', "42.50"),
    ('"42.50"', "4.25E+1"),
    ('"42.50"', "1234567890123456789012345678901"),
    ('"42.50"', "123456789012345678901234567890.5"),
    ('"42.50"', "-0"),
    ("45", "45.000"),
    ("45", "1e400"),
    ('"rating": 4', '"rating": 4.0'),
    ('"rating": 4', '"rating": 4, "rating": 5'),
    ('"points": 500', '"points": 500000000000000000000000000000'),
    ('"points": 500', '"points": 999999999999999999999999999999'),
    ('"quantity": 2', '"quantity": 20000000000000000000000000000000'),
    ('"id": "c1"', '"id": "c\\ud83d"'),
    ('"id": "c1"', '"id": "c\\ud83d\\ude00"'),
    ('"id": "c1"', '"id": "c1", "id": "c2"'),
    ('"type": "review"', '"type": "review", "type": "order"'),
    ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00.1234567Z"),
    ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00.9999999Z"),
    ("2026-01-05T10:00:00Z", "2026-01-05 10:00:00z"),
    ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+0100"),
    ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00,5Z"),
    ("2026-01-05T10:00:00Z", "2026-01-05T10:00Z"),
    ("2026-01-05T10:00:00Z", "1899-12-31T23:00:00-01:00"),
    ("2026-01-05T10:00:00Z", "9000-12-31T23:30:00-01:00"),
    ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+23:59"),
    ('"region": "EU"', '"region": 1.5'),
    ('"region": "EU"', '"region": {"a": [1e2, -0.0]}'),
    ('"granted": [', '"granted": [1, '),
    ('"verified": null', '"verified": "yes"'),
    ('"has_photo": true', '"has_photo": 1'),
    ('"score": "7"', '"score": 7'),
    ('"custom:quiz"', '"custom:Quiz"'),
    ('"extra": {"a": [1]}', '"extra": 1'),
    ('"extra": {"a": [1]}', '"platform": "x"'),
    ("]}", "]"),
    ("{", "{ "),
]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS, st.lists(st.sampled_from(TEXT_EDITS), max_size=3), st.booleans())
def test_mutated_texts_read_as_before(
    mutations: list[tuple[tuple[Any, ...], str, Any]],
    edits: list[tuple[str, str]],
    tiers: bool,
) -> None:
    try:
        text = json.dumps(apply(mutations), default=_json_default)
    except (TypeError, ValueError):
        return  # data no JSON text holds (a tuple key, NaN...)
    for old, new in edits:
        text = text.replace(old, new, 1)
    new_outcome, old_outcome = read_text_both(text, tiers=TIERS if tiers else None)
    assert new_outcome == old_outcome


def test_the_unmutated_base_is_read_without_the_models() -> None:
    assert assert_agree(BASE)  # every field, custom events and an event's own fields
    # As text, its custom event and event fields are read as data, after `loads_exact`.
    assert not takes_the_text_reader(json.dumps(BASE))
    fixed = copy.deepcopy(BASE)
    del fixed["activity"][-2:]
    assert takes_the_text_reader(json.dumps(fixed))
