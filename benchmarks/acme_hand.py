"""examples/rules/acme.yaml written by hand in plain Python: the baseline of the full-ruleset
benchmark.

It is what a developer would write for this one program: no rule language, no validation beyond
parsing the values it reads, no explanations. It follows the engine's documented rules
(docs/engine.md) for this program, and the benchmark checks that it decides exactly what the
engine decides and reports the same progress for every generated customer.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/New_York")
JOURNEY_START = datetime.combine(date(2026, 1, 1), time(0), ZONE)
JOURNEY_END = datetime.combine(date(2027, 1, 1), time(0), ZONE)  # `until` is inclusive
HOLD = timedelta(days=14)
MIN_SUBTOTAL = Decimal(30)
PICKS = (
    ("discount_percentage", 15),
    ("free_shipping", None),
    ("free_gift", "gid://shopify/Product/42"),
)

# (key, points or reward types, achieved_at, status) and (rule, step, current, pending, target,
# completed): the parts of the result the benchmark compares with the engine's.
Decision = tuple[str, tuple[Any, ...], datetime, str]
Progress = tuple[str, int, Any, Any, Any, bool]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def evaluate(snapshot: dict[str, Any], now: datetime) -> tuple[list[Decision], list[Progress]]:
    customer = snapshot["customer"]
    granted = set(snapshot.get("granted", ()))
    excluded = bool(customer.get("excluded"))
    orders, reviews, referrals, signups = _read(snapshot["activity"], now)
    decisions: list[Decision] = []

    def decide(key: str, rewards: tuple[Any, ...], at: datetime, status: str = "granted") -> None:
        if not excluded and key not in granted:
            decisions.append((key, rewards, at, status))

    _earning(orders, signups, decide)
    progress: list[Progress] = []
    _third_order(orders, decide, progress)
    _journey(orders, reviews, referrals, customer, now, decide, progress)
    decisions.sort(key=lambda d: (d[2], d[0]))
    return decisions, progress


def _read(activities: list[dict[str, Any]], now: datetime) -> tuple[list[Any], ...]:
    """Orders, reviews, converted referrals and signups known at `now`, in time order."""
    orders, reviews, referrals, signups = [], [], [], []
    for activity in activities:
        at = _time(activity["at"])
        if at > now:
            continue
        kind = activity["type"]
        if kind == "order":
            refunded_at = activity.get("refunded_at")
            refund = _time(refunded_at) if refunded_at else None
            if refund is not None and refund > now:
                refund = None
            amount = activity.get("refunded_amount")
            orders.append(
                (
                    at,
                    activity["id"],
                    Decimal(activity["subtotal"]),
                    activity.get("channel"),
                    refund,
                    Decimal(amount) if amount is not None else None,
                )
            )
        elif kind == "review":
            reviews.append((at, activity["id"]))
        elif kind == "referral":
            converted = activity.get("converted_at")
            if converted and _time(converted) <= now:
                referrals.append((_time(converted), activity["id"]))
        elif kind == "signup":
            signups.append((at, activity["id"]))
    orders.sort(key=lambda o: (o[0], o[1]))
    reviews.sort()
    referrals.sort()
    return orders, reviews, referrals, signups


def _earning(orders: list[Any], signups: list[Any], decide: Any) -> None:
    """200 points per signup; 5 points per dollar on online and pos orders of $20 or more,
    taken back (in proportion, rounded down) when the order is refunded."""
    for at, ident in signups:
        decide(f"signup-bonus/{ident}", (("points", 200),), at)
    for at, ident, subtotal, channel, refund, refunded in orders:
        if subtotal >= 20 and channel in ("online", "pos"):
            points = int((subtotal * 5).to_integral_value(rounding=ROUND_FLOOR))
            if points <= 0:
                continue
            decide(f"order-points/{ident}", (("points", points),), at)
            if refund is not None:
                full = refunded is None or refunded >= subtotal
                back = points if full else int(points * min(refunded, subtotal) / subtotal)
                if back > 0:
                    key = f"order-points/{ident}/reversal"
                    if back < points:  # a partial reversal names the refund: `/reversal/60.00`
                        amount = refunded.normalize()
                        exact = amount.as_tuple().exponent
                        assert isinstance(exact, int)
                        key += "/" + (f"{amount:.2f}" if exact > -2 else format(amount, "f"))
                    decide(key, (("points", -back),), refund, "reversed")


def _third_order(orders: list[Any], decide: Any, progress: list[Progress]) -> None:
    """500 points when the running count of orders (a full refund takes one back) first
    reaches 3."""
    changes = []
    for at, ident, subtotal, _channel, refund, refunded in orders:
        changes.append(((at, "order", ident), 1))
        if refund is not None and (refunded is None or refunded >= subtotal):
            changes.append(((refund, "refund", ident), -1))
    changes.sort()
    total, reached = 0, None
    for key, delta in changes:
        total += delta
        if total >= 3:
            reached = key
            break
    if reached is not None:
        decide("third-order/1", (("points", 500),), reached[0])
        progress.append(("third-order", 1, 3, 0, 3, True))
    else:
        progress.append(("third-order", 1, max(total, 0), 0, 3, False))


def _journey(
    orders: list[Any],
    reviews: list[Any],
    referrals: list[Any],
    customer: dict[str, Any],
    now: datetime,
    decide: Any,
    progress: list[Progress],
) -> None:
    """The loyalty journey: 3 qualifying orders (at least $30, kept through a 14-day refund
    hold), then 2 reviews, then a referral that buys; each step counts activity after the
    previous one, inside 2026, and is decided when the orders it counted passed their hold."""
    eligible = "wholesale" not in customer.get("tags", ())
    counted = []
    for at, ident, subtotal, _channel, refund, refunded in orders:
        if not JOURNEY_START <= at < JOURNEY_END or subtotal < MIN_SUBTOTAL:
            continue
        full = refund is not None and (refunded is None or refunded >= subtotal)
        if full and refund <= at + HOLD:
            continue
        counted.append(((at, "order", ident), 1, at + HOLD))
        if full:
            counted.append(((refund, "refund", ident), -1, refund))
    counted.sort()
    steps = (
        ("orders_count", counted, 3, (("points", 100),)),
        ("reviews_count", _in_window(reviews, "review"), 2, PICKS),
        ("referrals_count", _in_window(referrals, "referral"), 1, (("store_credit", "10"),)),
    )
    after = None
    decided_until: datetime | None = None
    for number, (_metric, ledger, target, rewards) in enumerate(steps, start=1):
        total = confirmed = pending = 0
        latest = None
        achieved = None
        for key, delta, confirm in ledger:
            if after is not None and key <= after:
                continue
            total += delta
            if confirm <= now or delta < 0:
                confirmed += delta
            else:
                pending += delta
            if delta > 0 and (latest is None or confirm > latest):
                latest = confirm
            if total >= target:
                achieved = key
                break
        confirm_at = latest if achieved else None
        if number == 1 or decided_until is None or confirm_at is None:
            done = confirm_at if number == 1 else None
        else:
            done = max(decided_until, confirm_at)
        if achieved is not None and done is not None and done <= now:
            if eligible:
                decide(f"loyalty-journey/{number}", rewards, achieved[0])
            decided_until, after = done, achieved
            continue
        progress.append(
            ("loyalty-journey", number, max(confirmed, 0), max(pending, 0), target, False)
        )
        return
    progress.append(("loyalty-journey", 3, 1, 0, 1, True))


def _in_window(items: list[tuple[datetime, str]], kind: str) -> list[Any]:
    return [((at, kind, i), 1, at) for at, i in items if JOURNEY_START <= at < JOURNEY_END]
