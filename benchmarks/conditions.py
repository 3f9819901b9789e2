"""Secondary figures: conditions on records converted beforehand, which no host has (the
headline, from the host's own dict with conversion counted, is `benchmarks/host.py`).

Conditions alone: ruleengine, a hand-written Python function, and the peers, per workload.

Every engine evaluates the same condition on the same records (converted once, beforehand,
into what it takes) and must return the same answers; the report gives evaluations per second
and the ratio to the hand-written function, measured in this process, interleaved.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks import peers, ruleset50
from benchmarks.harness import Candidate, Timing, compare
from ruleengine.api import compile_conditions, compile_expression
from ruleengine.expr.scope import Scope
from ruleengine.expr.types import INT
from ruleengine.rules.vocabulary import earning_scope

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ORDER_SCOPE = earning_scope("order", {"region": "string"}, {})


@dataclass
class Workload:
    name: str
    text: str  # in the rule language; peers get `peers.spell(text)` unless given below
    scope: Scope
    hand: Callable[[dict[str, Any]], Any]
    records: list[dict[str, Any]]
    spelled: dict[str, str] = field(default_factory=dict)  # per syntax, when spelling is not enough
    zen_batch: str | None = None  # the condition over a list of records, for one zen call


@dataclass
class Row:
    engine: str
    rate: float | None  # evaluations per second; None when skipped
    ratio: float | None  # to the hand-written function
    note: str = ""


def records(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Customer, stats and order records as JSON would give them. Amounts are quarters
    (exact in binary), so peers that only know floats compute exactly the same answers."""
    rng = random.Random(seed)
    result = []
    for number in range(count):
        result.append(
            {
                "customer": {
                    "id": f"c{number}",
                    "tags": sorted(rng.sample(["vip", "wholesale", "newsletter", "staff"], 2)),
                    "tier": rng.choice(["gold", "silver", "none"]),
                    "excluded": False,
                    "region": rng.choice(["EU", "US"]),
                },
                "stats": {
                    "orders_count": rng.randint(0, 9),
                    "amount_spent": rng.randint(0, 8000) / 4,
                    "points_earned": rng.randint(0, 600),
                    "reviews_count": rng.randint(0, 3),
                    "referrals_count": 0,
                },
                "order": {
                    "id": f"o{number}",
                    "at": "2026-05-01T10:00:00Z",
                    "subtotal": rng.randint(0, 1000) / 4,
                    "channel": rng.choice(["online", "pos", "phone"]),
                },
            }
        )
    return result


def workloads(count: int) -> list[Workload]:
    data = records(count)
    rng = random.Random(5)
    simple = [{"a": rng.randint(0, 6), "b": rng.randint(0, 1000)} for _ in range(count)]
    return [
        Workload(
            "simple: `a >= 3 and b > 500`",
            "a >= 3 and b > 500",
            Scope({"a": INT, "b": INT}),
            lambda v: v["a"] >= 3 and v["b"] > 500,
            simple,
            zen_batch="map(rows, #.a >= 3 and #.b > 500)",
        ),
        Workload(
            "medium: not / in / or / fields",
            'not ("wholesale" in customer.tags) and (order.channel in ["online", "pos"] '
            'or customer.tier == "gold") and stats.orders_count >= 2',
            ORDER_SCOPE,
            lambda v: (
                "wholesale" not in v["customer"]["tags"]
                and (v["order"]["channel"] in ("online", "pos") or v["customer"]["tier"] == "gold")
                and v["stats"]["orders_count"] >= 2
            ),
            data,
        ),
        Workload(
            "arithmetic: money, floor, ints",
            "floor(order.subtotal * 5) + stats.points_earned * 2 >= 1000",
            ORDER_SCOPE,
            lambda v: (
                math.floor(v["order"]["subtotal"] * 5) + v["stats"]["points_earned"] * 2 >= 1000
            ),
            data,
            spelled={
                "cel": "int(order.subtotal * 5.0) + stats.points_earned * 2 >= 1000",
                "rule-engine": "(order.subtotal * 5).floor + stats.points_earned * 2 >= 1000",
            },
        ),
    ]


def run_workload(workload: Workload, *, rounds: int, checked: int = 300) -> list[Row]:
    """One workload through every engine: answers checked, then timed together."""
    expression = compile_expression(workload.text, workload.scope)
    converted = [expression.convert(r) for r in workload.records]
    ours = expression.bind(now=NOW)
    expected = [ours(v) for v in converted]
    assert [workload.hand(v) for v in converted] == expected, "the hand-written function differs"
    candidates: list[Candidate] = [
        ("hand-written Python", workload.hand, converted),
        ("ruleengine (compile_expression().bind)", ours, converted),
    ]
    skipped: list[Row] = []
    for peer in peers.PEERS:
        if not peer.available:
            skipped.append(
                Row(peer.name, None, None, f"not installed (pip install {peer.package})")
            )
            continue
        text = workload.spelled.get(peer.syntax, peers.spell(workload.text, peer.syntax))
        function, convert = peer.compile(text)
        inputs = [convert(r) for r in workload.records]
        answers = [peers.truthy(function(r)) for r in inputs[:checked]]
        assert answers == expected[:checked], f"{peer.name} differs on {workload.name}"
        candidates.append((peer.name, function, inputs))
    sizes = [1] * len(candidates)
    if workload.zen_batch is not None and any(p.package == "zen-engine" for p in _installed()):
        candidate, size = _zen_batch(workload, expected)
        candidates.append(candidate)
        sizes.append(size)
    return _rows(compare(candidates, rounds=rounds), sizes) + skipped


_ZEN_BATCH = 1000


def _installed() -> list[peers.Peer]:
    return [peer for peer in peers.PEERS if peer.available]


def _zen_batch(workload: Workload, expected: list[Any]) -> tuple[Candidate, int]:
    """zen-engine over up to 1,000 records in one call (its own batch path)."""
    import zen

    batch = zen.compile_expression(workload.zen_batch or "")
    rows = {"rows": workload.records[:_ZEN_BATCH]}
    size = len(rows["rows"])
    assert batch.evaluate(rows) == expected[:size], "zen-engine's batch differs"
    return (f"zen-engine (Rust), one call per {size:,} records", batch.evaluate, [rows]), size


def _rows(timings: Sequence[Timing], sizes: Sequence[int] | None = None) -> list[Row]:
    """Rates per evaluation (a batch call of `size` records counts `size`), and ratios to the
    first timing, the hand-written baseline."""
    sizes = sizes or [1] * len(timings)
    hand = timings[0].seconds / sizes[0]
    rows = []
    for timing, size in zip(timings, sizes, strict=True):
        seconds = timing.seconds / size
        rows.append(Row(timing.name, 1 / seconds, hand / seconds))
    return rows


def run_rule_set(count: int, *, rounds: int, checked: int = 100) -> list[Row]:
    """Fifty conditions on one record, evaluated together (`compile_conditions`) and one by
    one, against fifty hand-written functions; peers evaluate their fifty compiled programs."""
    texts = ruleset50.CONDITIONS
    data = records(count, seed=9)
    conditions = compile_conditions(texts, ORDER_SCOPE)
    converted = [conditions.convert(r) for r in data]
    together = conditions.bind(now=NOW)
    singles = [compile_expression(t, ORDER_SCOPE).bind(now=NOW) for t in texts]
    hand = ruleset50.HANDWRITTEN
    expected = [together(v) for v in converted]
    assert [[f(v) for f in singles] for v in converted] == expected
    assert [[f(v) for f in hand] for v in converted] == expected, "hand-written rules differ"
    candidates: list[Candidate] = [
        ("hand-written Python (50 functions)", lambda v: [f(v) for f in hand], converted),
        ("ruleengine, together (compile_conditions)", together, converted),
        ("ruleengine, one by one (50 x bind)", lambda v: [f(v) for f in singles], converted),
    ]
    skipped: list[Row] = []
    for peer in peers.PEERS:
        if not peer.available:
            skipped.append(
                Row(peer.name, None, None, f"not installed (pip install {peer.package})")
            )
            continue
        compiled = [peer.compile(peers.spell(t, peer.syntax)) for t in texts]
        functions = [function for function, _ in compiled]
        convert = compiled[0][1]
        inputs = [convert(r) for r in data]

        def every(record: Any, functions: list[Callable[[Any], Any]] = functions) -> list[Any]:
            return [f(record) for f in functions]

        answers = [peers.truthy(every(r)) for r in inputs[:checked]]
        assert answers == expected[:checked], f"{peer.name} differs on the 50-rule set"
        candidates.append((f"{peer.name} (50 programs)", every, inputs))
    return _rows(compare(candidates, rounds=rounds)) + skipped
