"""The result JSON contract as pydantic models: the source of `schemas/result.schema.json`.

The engine builds results as dataclasses (`decisions.py`) and writes them with `to_json`;
these models only describe that JSON, and a test validates real results against the
generated schema, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ruleengine.engine.ledger_types import EntryKind

MoneyText = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", description="An exact amount.")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RewardOut(_Out):
    type: Literal[
        "points",
        "store_credit",
        "discount_amount",
        "discount_percentage",
        "free_shipping",
        "free_gift",
    ]
    value: int | float | MoneyText | None = Field(
        None, description="Points (integer), money (decimal string) or a percentage (number)."
    )
    product: str | None = None


class TierMoveOut(_Out):
    from_: str = Field(alias="from")
    to: str


class DecisionOut(_Out):
    key: str = Field(description="Unique and stable; pass it back in the snapshot's `granted`.")
    kind: Literal["reward", "points_expired", "expiry_warning", "tier_change"] = Field(
        description="`reward`: a rule's reward (or its reversal); `points_expired` and "
        "`expiry_warning`: from the points ledger (rule `points.expiry`). Points are positive "
        "magnitudes; the kind says which way they go. `tier_change`: the customer entered a "
        "VIP level (rule `tiers`), with its entry reward if it has one (none on a downgrade)."
    )
    rule: str
    step: int | None = Field(description="The milestone step (1-based); null for earning.")
    logic: Literal["grant_all", "customer_picks"]
    pick: int | None
    rewards: list[RewardOut]
    achieved_at: str
    qualifying: str | None = Field(description="The activity that completed the step.")
    status: Literal["granted", "pending", "reversed"]
    available_at: str | None = None
    tier: TierMoveOut | None = Field(None, description="`tier_change` only: the level ids.")


class _ProgressOut(_Out):
    rule: str
    step: int
    steps: int
    completed: bool
    description: str | None
    remaining: str | None


class CountProgressOut(_ProgressOut):
    """Progress on a metric that counts (orders, reviews, points, ...): whole numbers; for
    `inactivity`, days."""

    metric: Literal[
        "orders_count",
        "points_earned",
        "reviews_count",
        "referrals_count",
        "subscription_cycles",
        "inactivity",
    ]
    current: int
    pending: int
    target: int


class MoneyProgressOut(_ProgressOut):
    """Progress on `amount_spent`: every amount a decimal string, zero included (`"0"`)."""

    metric: Literal["amount_spent"]
    current: MoneyText
    pending: MoneyText
    target: MoneyText


ProgressOut = Annotated[CountProgressOut | MoneyProgressOut, Field(discriminator="metric")]


class ProblemOut(_Out):
    code: str
    rule: str
    message: str
    file: str
    line: int
    column: int
    path: str | None = Field(
        None, description="Points-ledger problems: the activity's JSON path in the snapshot."
    )
    amount: int | None = Field(None, description="Points-ledger problems: the points at stake.")


class BalanceOut(_Out):
    """The customer's points at `now`: `active = earned + adjusted - redeemed - expired`."""

    active: Annotated[int, Field(ge=0)]
    pending: Annotated[int, Field(ge=0)]
    earned: Annotated[int, Field(ge=0)]
    redeemed: Annotated[int, Field(ge=0)]
    adjusted: int
    expired: Annotated[int, Field(ge=0)]


class ExpiringOut(_Out):
    points: Annotated[int, Field(gt=0)]
    at: str


class RedeemableOut(_Out):
    program: str
    name: str
    points: Annotated[int, Field(gt=0, description="The most points it could spend now.")]


class CouponOut(_Out):
    coupon: str
    program: str
    redemption: str
    points: Annotated[int, Field(gt=0, description="The coupon's price: the points it cost.")]
    taken: Annotated[
        int,
        Field(
            ge=0,
            description="The points its redemption took from the balance: `points`, or fewer "
            "when fewer were active (a problem, RE618, says how many). A revoke returns these.",
        ),
    ]
    at: str
    status: Literal["active", "used", "revoked"]
    used_at: str | None
    revoked_at: str | None


class ExplanationOut(_Out):
    rule: str
    step: int | None
    activity: str | None
    status: str
    reasons: list[str]


class TierOut(_Out):
    """Where the customer stands in the VIP tiers at `now` (docs/engine.md, "VIP tiers")."""

    current: str = Field(description="The level's id.")
    name: str
    since: str | None = Field(description="When the level was entered; null for the first.")
    qualifying: str | None = Field(description="The activity that crossed the threshold.")
    tier_points: int | MoneyText = Field(
        description="The progress that counts now: points or orders (integers), or money "
        "spent (a decimal string)."
    )
    next: str | None = Field(description="The next level's id; null at the top.")
    remaining: int | MoneyText | None = Field(description="Progress still needed for `next`.")
    period_end: str | None = Field(
        description="When the level is next re-assessed; null for `lifetime` tiers."
    )


class ResultOut(_Out):
    """The result of evaluating one customer."""

    model_config = ConfigDict(
        extra="forbid",
        title="ruleengine evaluation result",
        json_schema_extra={"$id": "https://ruleengine.dev/schemas/result.schema.json"},
    )

    program: str
    ruleset_hash: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
    customer: str
    evaluated_at: str
    decisions: list[DecisionOut]
    progress: list[ProgressOut]
    problems: list[ProblemOut]
    balance: BalanceOut
    expiring: list[ExpiringOut]
    redeemable: list[RedeemableOut]
    coupons: list[CouponOut]
    tier: TierOut | None = Field(description="VIP tiers; null when the ruleset has none.")
    explanations: list[ExplanationOut] | None = None


class TimelineEntryOut(_Out):
    at: str
    kind: EntryKind = Field(description="What happened; the `tier_*` kinds: the VIP level changed.")
    points: int = Field(
        description="The signed change to the active balance (0: pending, or a tier change)."
    )
    balance: Annotated[int, Field(ge=0, description="The active balance after the entry.")]
    key: str
    rule: str | None
    activity: str | None
    text: str = Field(description="The entry in words a support agent can paste.")


class TimelineOut(_Out):
    """A customer's points history (`ruleengine timeline --format json`)."""

    model_config = ConfigDict(
        extra="forbid",
        title="ruleengine points timeline",
        json_schema_extra={"$id": "https://ruleengine.dev/schemas/timeline.schema.json"},
    )

    program: str
    customer: str
    evaluated_at: str
    entries: list[TimelineEntryOut]
    balance: BalanceOut
