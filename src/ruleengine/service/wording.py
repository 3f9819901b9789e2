"""Rules in a customer's words, for the preview pages: triggers, rewards and journey steps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ruleengine.engine.wording import count, money, percent
from ruleengine.rules.models import (
    EarningRule,
    ExpiryPolicy,
    Milestone,
    RedeemingProgram,
    Reward,
    RewardSpec,
    RuleSetFile,
    TierBasis,
    Tiers,
)
from ruleengine.rules.structure_hints import MONTHS

TRIGGERS = {
    "order": "Place an order",
    "subscription_order": "Receive a subscription order",
    "signup": "Create an account",
    "newsletter_signup": "Sign up for the newsletter",
    "birthday": "Celebrate your birthday",
    "review": "Write a review",
    "social_follow": "Follow us on social media",
    "website_visit": "Visit our website",
    "survey": "Answer a survey",
}

METRICS = {
    "orders_count": ("order", "orders"),
    "amount_spent": ("spent", "spent"),
    "points_earned": ("point earned", "points earned"),
    "reviews_count": ("review", "reviews"),
    "referrals_count": ("referral", "referrals"),
    "subscription_cycles": ("subscription cycle", "subscription cycles"),
    "inactivity": ("inactive", "inactive"),
}


def trigger_words(trigger: str) -> str:
    if trigger.startswith("custom:"):
        return trigger.removeprefix("custom:").replace("_", " ").capitalize()
    return TRIGGERS.get(trigger, trigger)


def amount_words(metric: str, amount: int | Decimal | str, currency: str) -> str:
    """`3 orders`, `$150.00 spent`, `inactive 90d`."""
    if metric == "amount_spent":
        return f"{money(Decimal(str(amount)), currency)} spent"
    if metric == "inactivity":
        return f"inactive {amount}"
    singular, plural = METRICS.get(metric, (metric, metric))
    return f"{amount} {singular if amount == 1 else plural}"


def reward_words(reward: Reward, currency: str) -> str:
    if reward.points is not None:
        return f"{reward.points:,} points"
    if reward.store_credit is not None:
        return f"{money(reward.store_credit, currency)} store credit"
    if reward.discount_amount is not None:
        return f"{money(reward.discount_amount, currency)} off"
    if reward.discount_percentage is not None:
        return f"{percent(reward.discount_percentage)} off"
    if reward.free_shipping is not None:
        return "free shipping"
    assert reward.free_gift is not None
    return f"a free gift ({reward.free_gift.product})"


def offer_words(spec: RewardSpec, currency: str) -> str:
    """`100 points` or `choose 1 of: 15% off, free shipping`."""
    parts = [reward_words(reward, currency) for reward in spec.rewards]
    if spec.logic.value == "customer_picks":
        return f"choose {spec.pick} of: " + ", ".join(parts)
    return " + ".join(parts)


@dataclass(frozen=True, slots=True)
class EarningView:
    id: str
    name: str
    action: str
    fixed_points: str | None  # "200 points" when the formula is a plain number
    when: str | None
    points: str
    limit: str | None
    window: str | None
    enabled: bool
    pending: str | None = None  # "pending for 28 days before they can be spent"


@dataclass(frozen=True, slots=True)
class StepView:
    number: int
    metric: str
    target: str  # "3 orders"
    description: str
    offer: str  # "choose 1 of: ..."
    logic: str


@dataclass(frozen=True, slots=True)
class MilestoneView:
    id: str
    name: str
    description: str | None
    window: str | None
    when: str | None
    steps: tuple[StepView, ...]
    enabled: bool


def _text(expression: object) -> str | None:
    return None if expression is None else str(expression)


def _window(rule: EarningRule | Milestone) -> str | None:
    if rule.active is None:
        return None
    start = rule.active.from_.isoformat() if rule.active.from_ else None
    end = rule.active.until.isoformat() if rule.active.until else None
    if start and end:
        return f"from {start} until {end}"
    return f"from {start}" if start else f"until {end}"


def earning_view(rule: EarningRule) -> EarningView:
    text = str(rule.points).strip()
    fixed = f"{int(text):,} points" if text.isdigit() else None
    limit = f"up to {rule.limit.times} times per {rule.limit.per.value}" if rule.limit else None
    return EarningView(
        rule.id,
        rule.name,
        trigger_words(rule.on),
        fixed,
        _text(rule.when),
        text,
        limit,
        _window(rule),
        rule.enabled,
        f"pending for {count(rule.pending_days, 'day')} before they can be spent"
        if rule.pending_days
        else None,
    )


def milestone_view(milestone: Milestone, currency: str) -> MilestoneView:
    steps: list[StepView] = []
    if milestone.steps:
        for number, step in enumerate(milestone.steps, 1):
            metric = (step.type or milestone.type).value
            target = amount_words(metric, step.target, currency)
            steps.append(
                StepView(
                    number,
                    metric,
                    target,
                    step.description or step.name or target.capitalize(),
                    offer_words(step.reward, currency),
                    step.reward.logic.value,
                )
            )
    elif milestone.target is not None and milestone.reward is not None:
        metric = milestone.type.value
        target = amount_words(metric, milestone.target, currency)
        steps.append(
            StepView(
                1,
                metric,
                target,
                milestone.description or target.capitalize(),
                offer_words(milestone.reward, currency),
                milestone.reward.logic.value,
            )
        )
    return MilestoneView(
        milestone.id,
        milestone.name,
        milestone.description,
        _window(milestone),
        _text(milestone.when),
        tuple(steps),
        milestone.enabled,
    )


def program_view(model: RuleSetFile) -> tuple[list[EarningView], list[MilestoneView]]:
    return (
        [earning_view(rule) for rule in model.earning],
        [milestone_view(m, model.currency) for m in model.milestones],
    )


# -- spending points and VIP tiers ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedeemView:
    id: str
    name: str
    cost: str  # "500 points" or "100 points per $1.00 off, 200 to 5,000 points"
    when: str | None
    limit: str | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class TierView:
    id: str
    name: str
    threshold: str  # "$250.00 spent", "1,000 points earned", "from the start"
    reward: str | None


@dataclass(frozen=True, slots=True)
class TiersView:
    basis: str  # "money spent, in the calendar year"
    levels: tuple[TierView, ...]


def redeem_view(option: RedeemingProgram, currency: str) -> RedeemView:
    reward = reward_words(option.reward, currency)
    if option.cost is not None:
        cost = f"{option.cost:,} points for {reward}"
    else:
        cost = f"{option.points_per or 0:,} points for each {reward}"
        bounds = [
            f"at least {option.min_points:,}" if option.min_points else "",
            f"at most {option.max_points:,}" if option.max_points else "",
        ]
        if any(bounds):
            cost += f" ({', '.join(b for b in bounds if b)} points)"
    limit = (
        f"up to {option.limit.times} times per {option.limit.per.value}" if option.limit else None
    )
    return RedeemView(option.id, option.name, cost, _text(option.when), limit, option.enabled)


_BASIS = {
    TierBasis.POINTS_EARNED: "points earned",
    TierBasis.AMOUNT_SPENT: "money spent",
    TierBasis.ORDERS_COUNT: "orders placed",
}
_PERIOD = {
    "lifetime": "since joining",
    "calendar_year": "in the calendar year",
    "rolling_12mo": "in the last twelve months",
}


def tiers_view(tiers: Tiers, currency: str) -> TiersView:
    levels = tuple(
        TierView(
            level.id,
            level.name,
            "from the start"
            if level.threshold == 0
            else amount_words(tiers.basis.value, level.threshold, currency),
            offer_words(level.reward, currency) if level.reward is not None else None,
        )
        for level in tiers.levels
    )
    return TiersView(f"{_BASIS[tiers.basis]}, {_PERIOD[tiers.period.value]}", levels)


_UNITS = {"mo": "month", "y": "year", "w": "week", "d": "day", "h": "hour", "min": "minute"}


def duration_words(text: str) -> str:
    """`12mo` -> `12 months`, `1y` -> `1 year`; as written when it is no single duration."""
    found = re.fullmatch(r"([0-9]+)(mo|min|y|w|d|h)", text.strip())
    if found is None:
        return text
    return count(int(found.group(1)), _UNITS[found.group(2)])


def expiry_words(model: RuleSetFile) -> str | None:
    """When points expire, as a customer reads it; None when they never do."""
    expiry = model.points.expiry if model.points is not None else None
    if expiry is None:
        return None
    if expiry.policy is ExpiryPolicy.ROLLING:
        words = (
            f"Points expire {duration_words(expiry.after or '')} after your last earned "
            "points: earning any points keeps them all."
        )
    elif expiry.policy is ExpiryPolicy.PER_AWARD:
        words = (
            f"Points expire {duration_words(expiry.after or '')} after they are earned; "
            "spending uses the oldest first."
        )
    else:
        month, day = (int(part) for part in (expiry.on or "12-31").split("-"))
        leap = " (28 February in other years)" if (month, day) == (2, 29) else ""
        words = f"Points expire at the end of {day} {MONTHS[month - 1]}{leap} each year."
    ahead = [duration_words(str(w)) for w in expiry.warn_before]
    if len(ahead) == 1:
        words += f" A reminder comes {ahead[0]} before."
    elif ahead:
        words += f" Reminders come {', '.join(ahead[:-1])} and {ahead[-1]} before."
    return words


def spending_view(model: RuleSetFile) -> tuple[list[RedeemView], TiersView | None]:
    """Ways to spend points and the tier ladder, for the program preview."""
    tiers = tiers_view(model.tiers, model.currency) if model.tiers is not None else None
    return [redeem_view(option, model.currency) for option in model.redeeming], tiers


@dataclass(frozen=True, slots=True)
class TierProgress:
    """A customer's VIP tier as the customer view shows it: the level, since when and why,
    and a bar from the tier points counted so far to the next level's threshold."""

    current: str
    name: str
    since: str | None  # the local day the level was reached; None for the first level
    qualifying: str | None
    value: Decimal  # the bar: tier points so far, capped at `maximum`
    maximum: Decimal
    amount: str  # "€330.00 of €1,000.00 spent", or "3 orders: the top level"
    next: str | None  # "€670.00 more to reach Platinum"
    period_end: str | None


def tier_progress(tiers: Tiers, tier: dict[str, Any], currency: str) -> TierProgress:
    """The result's `tier` field in a customer's words (money in the ruleset currency)."""
    metric = tiers.basis.value
    names = {level.id: level.name for level in tiers.levels}
    points = Decimal(str(tier["tier_points"]))
    since = tier["since"][:10] if tier["since"] else None
    period_end = tier["period_end"]
    if tier["next"] is None:
        amount = f"{amount_words(metric, _shown(points), currency)}: the top level"
        return TierProgress(
            tier["current"], tier["name"], since, tier["qualifying"], Decimal(1), Decimal(1),
            amount, None, period_end,
        )  # fmt: skip
    remaining = Decimal(str(tier["remaining"]))
    target = points + remaining
    done = amount_words(metric, _shown(points), currency)
    amount = f"{done.split(' ', 1)[0]} of {amount_words(metric, _shown(target), currency)}"
    more = {
        TierBasis.AMOUNT_SPENT: f"spend {money(remaining, currency)} more",
        TierBasis.POINTS_EARNED: f"earn {_shown(remaining):,} more points",
        TierBasis.ORDERS_COUNT: f"place {_shown(remaining):,} more "
        + ("order" if remaining == 1 else "orders"),
    }[tiers.basis]
    return TierProgress(
        tier["current"], tier["name"], since, tier["qualifying"],
        max(min(points, target), Decimal(0)), target, amount,
        f"{more} to reach {names.get(tier['next'], tier['next'])}", period_end,
    )  # fmt: skip


def _shown(amount: Decimal) -> Decimal | int:
    """Whole counts as integers (`3 orders`), money as it is."""
    return int(amount) if amount == amount.to_integral_value() else amount
