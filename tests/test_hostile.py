"""Hostile rule files and snapshots: nothing runs, nothing is read, nothing crashes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ruleengine import Engine, SnapshotError, check_ruleset, load_ruleset

HEADER = "version: 1\nprogram: p\ncurrency: USD\ntimezone: UTC\n"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def rule_with(expression: str) -> str:
    return HEADER + (
        "earning:\n  - id: a\n    name: A\n    on: order\n"
        f"    when: '{expression}'\n    points: 1\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        HEADER + "name: !!python/object/apply:os.system ['touch {marker}']\n",
        HEADER + "name: !!python/object/new:subprocess.check_output [['touch', '{marker}']]\n",
        HEADER + "name: !!python/name:os.system\n",
        rule_with('__import__("os").system("touch {marker}")'),
        rule_with('open("{marker}", "w")'),
        rule_with("customer.__class__.__init__.__globals__"),
        rule_with("order.__dict__ != null"),
        rule_with('exec("import os")'),
        rule_with('eval("1")'),
    ],
)
def test_rule_files_cannot_run_code_or_touch_files(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "pwned"
    diagnostics = check_ruleset(text.replace("{marker}", str(marker)))
    assert diagnostics and all(d.is_error for d in diagnostics)
    assert {d.code for d in diagnostics} <= {
        "RE104",
        "RE201",
        "RE401",
        "RE402",
        "RE403",
        "RE301",
        "RE302",
        "RE412",
    }
    assert not marker.exists()


ENGINE = Engine(load_ruleset(Path(__file__).parent.parent / "examples/rules/acme.yaml"))
CUSTOMER = {"id": "c1", "region": "EU"}


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        ({"activity": []}, [("RE610", "$.customer")]),
        ({"customer": "c1"}, [("RE610", "$.customer")]),
        ({"customer": {**CUSTOMER, "tags": "vip"}}, [("RE610", "$.customer.tags")]),
        (
            {
                "customer": CUSTOMER,
                "activity": [{"type": "ordr", "id": "o", "at": "2026-01-01T00:00:00Z"}],
            },
            [("RE613", "$.activity[0].type")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [{"type": "order", "id": "o", "at": "yesterday", "subtotal": 1}],
            },
            [("RE610", "$.activity[0].at")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {"type": "order", "id": "o", "at": "2026-01-01T00:00:00", "subtotal": 1}
                ],
            },
            [("RE610", "$.activity[0].at")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {"type": "order", "id": "o", "at": "2026-01-01T00:00:00Z", "subtotal": 1},
                    {"type": "order", "id": "o", "at": "2026-01-02T00:00:00Z", "subtotal": 2},
                ],
            },
            [("RE612", "$.activity[1].id")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {"type": "order", "id": "o", "at": "2026-01-01T00:00:00Z", "subtotal": "-5"}
                ],
            },
            [("RE610", "$.activity[0].subtotal")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {"type": "order", "id": "o", "at": "2026-01-01T00:00:00Z", "subtotal": "NaN"}
                ],
            },
            [("RE610", "$.activity[0].subtotal")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {"type": "review", "id": "r", "at": "2026-01-01T00:00:00Z", "rating": 5},
                    {
                        "type": "order",
                        "id": "o",
                        "at": "2026-01-05T10:00:00+01:00",
                        "subtotal": "20",
                        "refunded_at": "2026-01-05T08:30:00Z",  # 09:30 at the order's offset
                    },
                ],
            },
            [("RE615", "$.activity[1].refunded_at")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {
                        "type": "order",
                        "id": "o",
                        "at": "2026-01-01T00:00:00Z",
                        "subtotal": "20.00",
                        "total": "24.99",
                        "refunded_at": "2026-01-03T00:00:00Z",
                        "refunded_amount": "25.00",
                    }
                ],
            },
            [("RE616", "$.activity[0].refunded_amount")],
        ),
        (
            {
                "customer": CUSTOMER,
                "activity": [
                    {
                        "type": "order",
                        "id": "o",
                        "at": "2026-01-03T00:00:00Z",
                        "subtotal": 20,
                        "refunded_at": "2026-01-01T00:00:00Z",
                        "refunded_amount": 20.5,
                    }
                ],
            },
            [("RE615", "$.activity[0].refunded_at"), ("RE616", "$.activity[0].refunded_amount")],
        ),
        ({"customer": CUSTOMER, "granted": "third-order/1"}, [("RE610", "$.granted")]),
        ({"customer": {"id": "c1", "region": 5}}, [("RE610", "$.customer.region")]),
        ([1, 2, 3], [("RE610", "$")]),
    ],
)
def test_bad_snapshots_name_their_json_path(
    snapshot: object, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(SnapshotError) as raised:
        ENGINE.evaluate(snapshot, now=NOW)  # type: ignore[arg-type]  # hostile on purpose
    assert [(p.code, p.path) for p in raised.value.problems] == expected


def test_future_dated_activity_is_ignored() -> None:
    snapshot = {
        "customer": CUSTOMER,
        "activity": [
            {"type": "order", "id": "o1", "at": "2030-01-01T00:00:00Z", "subtotal": "100"}
        ],
    }
    assert ENGINE.evaluate(snapshot, now=NOW).decisions == ()


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        ENGINE.evaluate({"customer": CUSTOMER}, now=datetime(2026, 6, 1))
