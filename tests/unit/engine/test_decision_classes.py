"""The result classes with a hand-written `__init__` (decisions.py stores each field through its
slot's descriptor, for speed) behave exactly like the frozen dataclasses they are."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ruleengine.engine.decisions import Decision, Explanation, Progress, RewardGrant, format_time

AT = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
GRANT = RewardGrant("store_credit", Decimal("10.00"))

# One distinct value per field, so a field stored under another field's name shows.
VALUES: dict[type, dict[str, Any]] = {
    RewardGrant: {"type": "free_gift", "value": 7, "product": "gid://shopify/Product/42"},
    Decision: {
        "key": "rule/o1",
        "rule": "rule",
        "step": 2,
        "logic": "customer_picks",
        "pick": 1,
        "rewards": (GRANT,),
        "achieved_at": AT,
        "qualifying": "o1",
        "status": "pending",
        "available_at": datetime(2026, 7, 1, tzinfo=UTC),
        "kind": "tier_change",
        "tier": ("member", "gold"),
    },
    Progress: {
        "rule": "journey",
        "step": 2,
        "steps": 3,
        "metric": "amount_spent",
        "current": Decimal("12.50"),
        "pending": Decimal("3.00"),
        "target": 100,
        "completed": False,
        "description": "Spend $100",
        "remaining": "spend $87.50 more",
    },
    Explanation: {
        "rule": "rule",
        "step": 1,
        "status": "not_eligible",
        "reasons": ("a reason",),
        "activity": "o1",
    },
}
CLASSES = sorted(VALUES, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_each_field_is_stored_under_its_own_name(cls: type) -> None:
    values = VALUES[cls]
    assert [f.name for f in dataclasses.fields(cls)] == list(values)
    by_keyword = cls(**values)
    by_position = cls(*values.values())
    for name, value in values.items():
        assert getattr(by_keyword, name) is value
        assert getattr(by_position, name) is value
    assert by_keyword == by_position
    assert hash(by_keyword) == hash(by_position)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_constructor_takes_the_fields_with_their_defaults(cls: type) -> None:
    parameters = list(inspect.signature(cls).parameters.values())
    fields = dataclasses.fields(cls)
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        expected = (
            inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        )
        assert parameter.default == expected, field.name


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_instances_stay_frozen_slotted_dataclasses(cls: type) -> None:
    instance = cls(**VALUES[cls])
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, first, "changed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(instance, first)
    assert not hasattr(instance, "__dict__")
    assert pickle.loads(pickle.dumps(instance)) == instance
    assert copy.deepcopy(instance) == instance
    replaced = dataclasses.replace(instance, **{first: "other"})
    assert getattr(replaced, first) == "other"
    assert replaced != instance
    assert repr(instance).startswith(f"{cls.__name__}({first}=")


def test_defaults_and_json_of_a_points_decision() -> None:
    points = (RewardGrant("points", 212),)
    decision = Decision(
        "order-points/o1", "order-points", None, "grant_all", None, points, AT, "o1"
    )
    assert decision.status == "granted"
    assert decision.available_at is None
    assert RewardGrant("points").value is None
    assert decision.kind == "reward"
    assert decision.to_json() == {
        "key": "order-points/o1",
        "kind": "reward",
        "rule": "order-points",
        "step": None,
        "logic": "grant_all",
        "pick": None,
        "rewards": [{"type": "points", "value": 212}],
        "achieved_at": "2026-06-01T12:30:00Z",
        "qualifying": "o1",
        "status": "granted",
    }


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 6, 1, 12, 30, tzinfo=UTC), "2026-06-01T12:30:00Z"),
        (datetime(2026, 6, 1, 12, 30, 0, 5, tzinfo=UTC), "2026-06-01T12:30:00.000005Z"),
        (datetime.fromisoformat("2026-06-01T08:30:00-04:00"), "2026-06-01T12:30:00Z"),
        (datetime.fromisoformat("2026-06-01T14:30:00.25+02:00"), "2026-06-01T12:30:00.250000Z"),
    ],
)
def test_format_time(moment: datetime, text: str) -> None:
    # UTC with a `Z`; microseconds only when there are some (the fast path skips the
    # conversion for moments already in UTC, as the readers give them).
    assert format_time(moment) == text
