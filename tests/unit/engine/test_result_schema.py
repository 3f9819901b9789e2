"""The result schema pins the form of every number: counts are integers, money is text."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from ruleengine.schema_export import schema_text

VALIDATOR = jsonschema.Draft202012Validator(json.loads(schema_text("result")))


def result_with(progress: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "rule": "m",
        "step": 1,
        "steps": 1,
        "completed": False,
        "description": None,
        "remaining": None,
        **progress,
    }
    return {
        "program": "p",
        "ruleset_hash": "sha256:" + "0" * 64,
        "customer": "c1",
        "evaluated_at": "2026-06-01T00:00:00Z",
        "decisions": [],
        "progress": [entry],
        "problems": [],
        "balance": dict.fromkeys(
            ("active", "pending", "earned", "redeemed", "adjusted", "expired"), 0
        ),
        "expiring": [],
        "redeemable": [],
        "coupons": [],
        "tier": None,
    }


@pytest.mark.parametrize(
    "progress",
    [
        {"metric": "amount_spent", "current": "0", "pending": "0", "target": "100"},
        {"metric": "amount_spent", "current": "12.50", "pending": "0.01", "target": "99.95"},
        {"metric": "orders_count", "current": 0, "pending": 1, "target": 3},
        {"metric": "inactivity", "current": 12, "pending": 0, "target": 30},
    ],
    ids=["money_zero", "money", "count", "inactivity_days"],
)
def test_valid_progress(progress: dict[str, Any]) -> None:
    VALIDATOR.validate(result_with(progress))


@pytest.mark.parametrize(
    "progress",
    [
        {"metric": "amount_spent", "current": 0, "pending": "0", "target": "100"},
        {"metric": "amount_spent", "current": "0", "pending": 0, "target": "100"},
        {"metric": "amount_spent", "current": "1", "pending": "0", "target": 100},
        {"metric": "amount_spent", "current": 12.5, "pending": "0", "target": "100"},
        {"metric": "amount_spent", "current": "1e2", "pending": "0", "target": "100"},
        {"metric": "orders_count", "current": "1", "pending": 0, "target": 3},
        {"metric": "total_spent", "current": 1, "pending": 0, "target": 3},
    ],
    ids=[
        "money_current_integer",
        "money_pending_integer",
        "money_target_integer",
        "money_float",
        "money_exponent",
        "count_as_text",
        "unknown_metric",
    ],
)
def test_invalid_progress(progress: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(result_with(progress))
