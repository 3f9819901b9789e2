"""The customer view's VIP tier in words, from a real evaluation of a tiered program."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ruleengine import Engine, load_ruleset
from ruleengine.service.wording import tier_progress

RULES = """\
version: 1
program: corner-cafe
name: Corner Cafe
currency: USD
timezone: America/Chicago
earning:
  - {id: visit, name: A point per visit, on: order, points: 10}
tiers:
  basis: {basis}
  period: lifetime
  downgrade: never
  levels:
    - {id: regular, name: Regular, threshold: 0}
    - {id: friend, name: Friend, threshold: 3}
    - {id: family, name: Family, threshold: 50}
"""


FIRST = datetime(2026, 2, 1, 15, tzinfo=UTC)


def tier_of(basis: str, orders: int) -> dict[str, object]:
    engine = Engine(load_ruleset(RULES.replace("{basis}", basis)))
    snapshot = {
        "customer": {"id": "c1", "created_at": "2026-01-01T00:00:00Z"},
        "activity": [
            {"type": "order", "id": f"o{i}", "at": (FIRST + timedelta(days=i)).isoformat()}
            | {"subtotal": "4.50"}
            for i in range(orders)
        ],
    }
    result = engine.evaluate(snapshot, now=datetime(2026, 6, 1, tzinfo=UTC)).to_json()
    tier: dict[str, object] = result["tier"]
    return tier


@pytest.mark.parametrize(
    ("basis", "orders", "amount", "next_words", "bar"),
    [
        ("orders_count", 2, "2 of 3 orders", "place 1 more order to reach Friend", ("2", "3")),
        ("orders_count", 4, "4 of 50 orders", "place 46 more orders to reach Family", ("4", "50")),
        (
            "amount_spent",
            2,
            "$9.00 of $50.00 spent",
            "spend $41.00 more to reach Family",
            ("9.00", "50.00"),
        ),
        (
            "points_earned",
            1,
            "10 of 50 points earned",
            "earn 40 more points to reach Family",
            ("10", "50"),
        ),
    ],
)
def test_the_way_to_the_next_level_in_the_basis_unit(
    basis: str, orders: int, amount: str, next_words: str, bar: tuple[str, str]
) -> None:
    engine_tiers = load_ruleset(RULES.replace("{basis}", basis)).model.tiers
    assert engine_tiers is not None
    shown = tier_progress(engine_tiers, tier_of(basis, orders), "USD")
    assert (shown.amount, shown.next) == (amount, next_words)
    assert (str(shown.value), str(shown.maximum)) == bar


def test_the_top_level_has_no_next_step() -> None:
    tiers = load_ruleset(RULES.replace("{basis}", "orders_count")).model.tiers
    assert tiers is not None
    shown = tier_progress(tiers, tier_of("orders_count", 51), "USD")
    assert (shown.name, shown.next, shown.amount) == ("Family", None, "51 orders: the top level")
    assert shown.since == "2026-03-22" and shown.qualifying == "o49"
