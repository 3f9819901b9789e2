"""The headline: conditions evaluated from the host's own data, conversion counted.

A host has a nested dict per customer (here about 25 fields across `customer`, `stats` and
`order`, a list of items, amounts as decimal strings in half the records and as numbers in the
other half) and calls the condition on it. Every candidate is called on exactly that, and the
baseline is a hand-written Python function that reads the same fields and converts the amounts
it reads to `Decimal`, as exact code must. Ratios are medians over interleaved rounds
(`harness.compare(..., statistic="median")`).

Peers cannot read amounts written as text, so they get the same records with every amount a
number (converted before timing, not counted); they take the whole dict, their fastest call.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from benchmarks import peers, ruleset50
from benchmarks.conditions import ORDER_SCOPE, Row, _rows
from benchmarks.harness import Candidate, compare
from ruleengine.api import compile_conditions, compile_expression
from ruleengine.expr.scope import Scope
from ruleengine.expr.types import INT

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def to_decimal(value: Any) -> Decimal:
    """What exact hand-written code does with an amount from JSON: text and whole numbers as
    they are, floats through their shortest text."""
    return Decimal(repr(value)) if type(value) is float else Decimal(value)


def host_records(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Customers as a host holds them: about 25 fields, items, amounts as text or numbers."""
    rng = random.Random(seed)
    result = []
    for number in range(count):
        as_text = number % 2 == 0

        def amount(quarters: int, as_text: bool = as_text) -> Any:
            value = quarters / 4
            return f"{value:.2f}" if as_text else value

        items = [
            {
                "product_id": f"p{rng.randint(1, 500)}",
                "sku": f"SKU-{rng.randint(1000, 9999)}",
                "title": "Item",
                "vendor": rng.choice(["Acme", "Globex", None]),
                "quantity": rng.randint(1, 4),
                "price": amount(rng.randint(4, 400)),
                "tags": ["sale"] if rng.random() < 0.3 else [],
            }
            for _ in range(rng.randint(1, 5))
        ]
        result.append(
            {
                "customer": {
                    "id": f"c{number}",
                    "email": f"c{number}@example.com",
                    "tags": sorted(rng.sample(["vip", "wholesale", "newsletter", "staff"], 2)),
                    "tier": rng.choice(["gold", "silver", "none"]),
                    "excluded": False,
                    "region": rng.choice(["EU", "US"]),
                    "birthday": "1990-05-31",
                    "created_at": "2025-01-05T10:00:00Z",
                    "first_name": "Maria",
                    "last_name": "Silva",
                    "phone": "+351 000 000 000",
                    "locale": "pt-PT",
                },
                "stats": {
                    "orders_count": rng.randint(0, 9),
                    "amount_spent": amount(rng.randint(0, 8000)),
                    "points_earned": rng.randint(0, 600),
                    "reviews_count": rng.randint(0, 3),
                    "referrals_count": 0,
                    "first_order_at": "2025-02-01T10:00:00Z",
                    "last_order_at": "2026-05-01T10:00:00Z",
                },
                "order": {
                    "id": f"o{number}",
                    "at": "2026-05-01T10:00:00Z",
                    "subtotal": amount(rng.randint(0, 1000)),
                    "total": amount(rng.randint(0, 1100)),
                    "channel": rng.choice(["online", "pos", "phone"]),
                    "currency": "EUR",
                    "items": items,
                    "discount_codes": [],
                },
            }
        )
    return result


def _numbers(value: Any) -> Any:
    """The same record with every amount a number (what the peers can read)."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and value[:1].isdigit() and value.count(".") == 1:
        try:
            return float(value)
        except ValueError:
            return value
    return value


@dataclass
class HostWorkload:
    name: str
    text: str
    scope: Scope
    plain: Callable[[dict[str, Any]], Any]  # hand-written, amounts through float()
    exact: Callable[[dict[str, Any]], Any]  # hand-written, amounts read to Decimal
    records: list[dict[str, Any]]
    spelled: dict[str, str]
    # hand-written, and checking each value it reads as ruleengine does (for reference)
    checked: Callable[[dict[str, Any]], Any] | None = None


class MalformedError(ValueError):
    """What the checking hand-written functions raise for a value of the wrong type."""


def _int(value: Any) -> int:
    if type(value) is not int:
        raise MalformedError(value)
    return value


def _text(value: Any) -> Any:
    if value is not None and type(value) is not str:
        raise MalformedError(value)
    return value


def _record(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedError(value)
    return value


def _texts(value: Any) -> list[str]:
    if type(value) is not list or not all(type(v) is str for v in value):
        raise MalformedError(value)
    return value


def workloads(count: int) -> list[HostWorkload]:
    data = host_records(count)
    rng = random.Random(5)
    filler = {f"field_{i}": i for i in range(23)}
    simple = [{"a": rng.randint(0, 6), "b": rng.randint(0, 1000), **filler} for _ in range(count)]
    medium = (
        'not ("wholesale" in customer.tags) and (order.channel in ["online", "pos"] '
        'or customer.tier == "gold") and stats.orders_count >= 2'
    )

    def medium_hand(v: dict[str, Any]) -> Any:
        return (
            "wholesale" not in v["customer"]["tags"]
            and (v["order"]["channel"] in ("online", "pos") or v["customer"]["tier"] == "gold")
            and v["stats"]["orders_count"] >= 2
        )

    def medium_checked(v: dict[str, Any]) -> Any:
        customer = _record(v["customer"])
        return (
            "wholesale" not in _texts(customer.get("tags", []))
            and (
                _text(_record(v["order"]).get("channel")) in ("online", "pos")
                or _text(customer.get("tier")) == "gold"
            )
            and _int(_record(v["stats"])["orders_count"]) >= 2
        )

    return [
        HostWorkload(
            "simple: `a >= 3 and b > 500`",
            "a >= 3 and b > 500",
            Scope({"a": INT, "b": INT}),
            lambda v: v["a"] >= 3 and v["b"] > 500,
            lambda v: v["a"] >= 3 and v["b"] > 500,
            simple,
            {},
            lambda v: _int(v["a"]) >= 3 and _int(v["b"]) > 500,
        ),
        HostWorkload(
            "medium: not / in / or / fields",
            medium,
            ORDER_SCOPE,
            medium_hand,
            medium_hand,
            data,
            {},
            medium_checked,
        ),
        HostWorkload(
            "arithmetic: money, floor, ints",
            "floor(order.subtotal * 5) + stats.points_earned * 2 >= 1000",
            ORDER_SCOPE,
            lambda v: (
                math.floor(float(v["order"]["subtotal"]) * 5) + v["stats"]["points_earned"] * 2
                >= 1000
            ),
            lambda v: (
                math.floor(to_decimal(v["order"]["subtotal"]) * 5) + v["stats"]["points_earned"] * 2
                >= 1000
            ),
            data,
            {
                "cel": "int(order.subtotal * 5.0) + stats.points_earned * 2 >= 1000",
                "rule-engine": "(order.subtotal * 5).floor + stats.points_earned * 2 >= 1000",
            },
        ),
    ]


EXACT = "hand-written, converting what it reads to Decimal"
CHECKED = (
    "for reference: hand-written, also checking the type of each value it reads, as ruleengine does"
)


def run_host_workload(workload: HostWorkload, *, rounds: int, checked: int = 300) -> list[Row]:
    expression = compile_expression(workload.text, workload.scope)
    from_host = expression.bind(now=NOW, convert=True)
    bound = expression.bind(now=NOW)
    converted = [expression.convert(r) for r in workload.records]
    expected = [from_host(r) for r in workload.records]
    assert [workload.exact(r) for r in workload.records] == expected, "hand-written differs"
    assert [workload.plain(r) for r in workload.records] == expected, "float version differs"
    if workload.checked is not None:
        assert [workload.checked(r) for r in workload.records] == expected, "checked differs"
    assert [bound(v) for v in converted] == expected

    def evaluate(record: dict[str, Any]) -> Any:
        return expression.evaluate(record, now=NOW)

    candidates: list[Candidate] = [
        (EXACT, workload.exact, workload.records),
        (
            "hand-written, amounts through float() (inexact; for reference)",
            workload.plain,
            workload.records,
        ),
        ("ruleengine `bind(now=..., convert=True)`, the host's dict", from_host, workload.records),
        (
            "ruleengine `Expression.evaluate(dict, now=...)` (the README's form)",
            evaluate,
            workload.records,
        ),
        *([(CHECKED, workload.checked, workload.records)] if workload.checked is not None else []),
        (
            "secondary: ruleengine `bind()` on records converted beforehand (not counted)",
            bound,
            converted,
        ),
    ]
    numeric = [_numbers(r) for r in workload.records]
    for peer in peers.PEERS:
        if not peer.available:
            continue
        text = workload.spelled.get(peer.syntax, peers.spell(workload.text, peer.syntax))
        function, convert = peer.compile(text)
        inputs = [convert(r) for r in numeric]
        answers = [peers.truthy(function(r)) for r in inputs[:checked]]
        assert answers == expected[:checked], f"{peer.name} differs on {workload.name}"
        candidates.append((f"{peer.name}, the whole dict (amounts as numbers)", function, inputs))
    return _rows(compare(candidates, rounds=rounds, statistic="median"))


def run_host_rule_set(count: int, *, rounds: int, checked: int = 100) -> list[Row]:
    """The fifty conditions from the host's dict, against fifty hand-written functions that
    read the two amounts they use to `Decimal` once per record."""
    texts = ruleset50.CONDITIONS
    data = host_records(count, seed=9)
    conditions = compile_conditions(texts, ORDER_SCOPE)
    together = conditions.bind(now=NOW, convert=True)
    singles = [compile_expression(t, ORDER_SCOPE).bind(now=NOW, convert=True) for t in texts]
    hand = ruleset50.HANDWRITTEN

    def exact(v: dict[str, Any]) -> list[Any]:
        stats, order = v["stats"], v["order"]
        read = {
            "customer": v["customer"],
            "stats": {**stats, "amount_spent": to_decimal(stats["amount_spent"])},
            "order": {**order, "subtotal": to_decimal(order["subtotal"])},
        }
        return [f(read) for f in hand]

    expected = [together(r) for r in data]
    assert [exact(r) for r in data] == expected, "hand-written rules differ"
    assert [[f(r) for f in singles] for r in data] == expected
    converted = [conditions.convert(r) for r in data]
    bound = conditions.bind(now=NOW)
    candidates: list[Candidate] = [
        (f"{EXACT} (50 functions)", exact, data),
        ("ruleengine, together: `compile_conditions(...).bind(convert=True)`", together, data),
        (
            "ruleengine, one by one (50 x `bind(convert=True)`)",
            lambda v: [f(v) for f in singles],
            data,
        ),
        ("secondary: together on records converted beforehand (not counted)", bound, converted),
    ]
    numeric = [_numbers(r) for r in data]
    for peer in peers.PEERS:
        if not peer.available:
            continue
        compiled = [peer.compile(peers.spell(t, peer.syntax)) for t in texts]
        functions = [function for function, _ in compiled]
        inputs = [compiled[0][1](r) for r in numeric]

        def every(record: Any, functions: list[Callable[[Any], Any]] = functions) -> list[Any]:
            return [f(record) for f in functions]

        answers = [peers.truthy(every(r)) for r in inputs[:checked]]
        assert answers == expected[:checked], f"{peer.name} differs on the 50-rule set"
        candidates.append((f"{peer.name} (50 programs, amounts as numbers)", every, inputs))
    return _rows(compare(candidates, rounds=rounds, statistic="median"))
