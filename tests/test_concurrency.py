"""One Engine shared by many threads gives exactly the results of one thread."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruleengine import Engine, load_ruleset

ROOT = Path(__file__).parent.parent


def customers(count: int) -> list[dict[str, Any]]:
    """Varied customers for the acme program: different order counts, refunds, reviews."""
    base = json.loads(
        (ROOT / "examples/snapshots/acme-maria.json").read_text(), parse_float=Decimal
    )
    result = []
    for number in range(count):
        activity = []
        for index in range(number % 7):
            at = datetime(2026, 1, 3, tzinfo=UTC) + timedelta(days=11 * index + number % 5)
            order: dict[str, Any] = {
                "type": "order",
                "id": f"o{index}",
                "at": at.isoformat(),
                "subtotal": str(Decimal(20 + 7 * index + number % 13)),
                "channel": "online" if index % 3 else "pos",
            }
            if (number + index) % 6 == 0:
                order["refunded_at"] = (at + timedelta(days=3)).isoformat()
            activity.append(order)
        for index in range(number % 4):
            at = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=5 * index + number % 3)
            activity.append(
                {"type": "review", "id": f"r{index}", "at": at.isoformat(), "rating": 5}
            )
        customer = dict(base["customer"], id=f"c{number}")
        result.append(
            {
                "customer": customer,
                "activity": activity,
                "granted": [] if number % 2 else ["order-points/o0"],
            }
        )
    return result


def test_shared_engine_is_thread_safe() -> None:
    engine = Engine(load_ruleset(ROOT / "examples/rules/acme.yaml"))
    snapshots = customers(200)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    expected = [engine.evaluate(s, now=now, explain=True).dumps() for s in snapshots]
    work = snapshots * 15  # 3,000 evaluations
    with ThreadPoolExecutor(max_workers=8) as pool:
        actual = list(pool.map(lambda s: engine.evaluate(s, now=now, explain=True).dumps(), work))
    assert actual == expected * 15
    assert len({e for e in expected}) > 50  # the customers really differ
