"""The rule test file format: the strict models a `*.test.yaml` file is validated against, and
the test file's own reading of their errors as located diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from ruleengine.diagnostics.diagnostic import PathPart
from ruleengine.expr.runtime import EARLIEST_YEAR, FIRST_YEAR, LAST_YEAR, LATEST_YEAR
from ruleengine.rules.models import MilestoneType, require_one_reward_type
from ruleengine.rules.structure import FileFormat, Finding, describe


def _text_only(value: object) -> object:
    """Timestamps are written as text; a number would otherwise be read as a Unix time."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "RE203",
            "a timestamp must be text such as `2026-06-01T00:00:00Z`, not {value}",
            {"value": describe(value)},
        )
    return value


def _number(value: object) -> object:
    """Amounts and counts: a YAML number, or decimal text as `ruleengine eval` prints money
    (`"61.20"`), so expectations can be copied from its output. Never a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PydanticCustomError(
            "RE203", "expected a number, not {value}", {"value": describe(value)}
        )
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise PydanticCustomError(
                "RE203", "expected a number, not {value}", {"value": describe(value)}
            ) from None
        if not number.is_finite():
            raise PydanticCustomError(
                "RE205", "expected a finite number, not `{value}`", {"value": value}
            )
        return number
    return Decimal(value)


def _snapshot_reference(value: object) -> object:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        return value
    raise PydanticCustomError(
        "RE203",
        "`snapshot` must be a path to a JSON file or an inline mapping, not {value}",
        {"value": describe(value)},
    )


def _key_shorthand(field_name: str, what: str) -> Callable[[object], object]:
    """`- third-order/1` is short for `- {key: third-order/1}` (and `- RE601` for
    `- {code: RE601}`): the common case stays one word."""

    def convert(value: object) -> object:
        if isinstance(value, str):
            return {field_name: value}
        if isinstance(value, dict):
            return value
        raise PydanticCustomError(
            "RE203",
            "{what} must be text or a mapping, not {value}",
            {"what": what, "value": describe(value)},
        )

    return convert


def _in_years(first: int, last: int, what: str) -> WrapValidator:
    """A timestamp whose moment in UTC lies in the years `first` to `last`; outside, RE205
    where it is written (`now` at year 1899 would be refused by the engine, an expected
    `0001-01-01T00:00:00+01:00` has no moment in UTC to compare)."""

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> datetime:
        moment: datetime = handler(value)
        try:
            year = moment.astimezone(UTC).year
        except OverflowError:  # within hours of the calendar's ends
            year = 0 if moment.year < 5000 else 10000
        if not first <= year <= last:
            raise PydanticCustomError(
                "RE205",
                "`{value}` is outside {what}: the years {first} to {last} (in UTC)",
                {"value": value, "first": first, "last": last, "what": what},
            )
        return moment

    return WrapValidator(check)


Timestamp = Annotated[AwareDatetime, BeforeValidator(_text_only)]
# `now` as the engine takes it (`check_now`), and an expected moment as a result can hold one
# (a date step outside the years 2-9998 is a runtime problem, RE604).
Now = Annotated[Timestamp, _in_years(FIRST_YEAR, LAST_YEAR, "the moments `now` can be")]
Moment = Annotated[
    Timestamp, _in_years(EARLIEST_YEAR, LATEST_YEAR, "the moments a result can hold")
]
Number = Annotated[Decimal, BeforeValidator(_number)]


def _whole_valued(value: object) -> object:
    """Numbers compare by value: `212.0` is the whole number 212 (a number with a fraction,
    `212.5`, stays a decimal for the strict check to refuse). At most 30 digits, as amounts."""
    if not isinstance(value, Decimal) or not value.is_finite() or value.adjusted() >= 30:
        return value
    return int(value) if value == value.to_integral_value() else value


WholeNumber = Annotated[int, Strict(), BeforeValidator(_whole_valued)]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedGift(_Strict):
    product: Text


class ExpectedReward(_Strict):
    """A reward in the rule file's own syntax (`{points: 100}`, `{free_shipping: true}`).
    Points may be negative: a reversal takes points back."""

    points: WholeNumber | None = None
    store_credit: Number | None = None
    discount_amount: Number | None = None
    discount_percentage: Number | None = None
    free_shipping: Annotated[bool, Strict()] | None = None
    free_gift: ExpectedGift | None = None

    @pydantic.model_validator(mode="after")
    def _exactly_one(self) -> ExpectedReward:
        if self.free_shipping is False:
            raise PydanticCustomError(
                "RE205", "`free_shipping` is `true` or left out; a decision never grants `false`"
            )
        require_one_reward_type(self)
        return self


class DecisionExpectation(_Strict):
    """Some fields of one decision; the fields left out are not compared."""

    key: Text | None = None
    kind: Literal["reward", "points_expired", "expiry_warning", "tier_change"] | None = None
    rule: Text | None = None
    step: WholeNumber | None = None
    status: Literal["granted", "pending", "reversed"] | None = None
    points: WholeNumber | None = None
    rewards: list[ExpectedReward] | None = None
    logic: Literal["grant_all", "customer_picks"] | None = None
    pick: WholeNumber | None = None
    qualifying: Text | None = None
    achieved_at: Moment | None = None
    available_at: Moment | None = None


class ProgressExpectation(_Strict):
    """Some fields of one milestone's progress, found by `rule`."""

    rule: Text
    step: WholeNumber | None = None
    steps: WholeNumber | None = None
    metric: MilestoneType | None = None
    current: Number | None = None
    pending: Number | None = None
    target: Number | None = None
    completed: Annotated[bool, Strict()] | None = None
    description: str | None = None
    remaining: str | None = None


class BalanceExpectation(_Strict):
    """Some fields of the customer's points balance at `now` (the points ledger)."""

    active: WholeNumber | None = None
    pending: WholeNumber | None = None
    earned: WholeNumber | None = None
    redeemed: WholeNumber | None = None
    adjusted: WholeNumber | None = None
    expired: WholeNumber | None = None


class TierExpectation(_Strict):
    """Some fields of the customer's VIP tier at `now` (the result's `tier`)."""

    current: Text | None = None
    since: Moment | None = None
    qualifying: Text | None = None
    tier_points: Number | None = None
    next: Text | None = None
    remaining: Number | None = None
    period_end: Moment | None = None


class ProblemExpectation(_Strict):
    code: Annotated[str, Field(pattern=r"^RE[0-9]{3}$")]
    rule: Text | None = None


class Expectation(_Strict):
    decisions: (
        list[
            Annotated[
                DecisionExpectation,
                BeforeValidator(_key_shorthand("key", "a decision expectation")),
            ]
        ]
        | None
    ) = None
    progress: list[ProgressExpectation] | None = None
    balance: BalanceExpectation | None = None
    tier: TierExpectation | None = None
    problems: (
        list[
            Annotated[
                ProblemExpectation,
                BeforeValidator(_key_shorthand("code", "a problem expectation")),
            ]
        ]
        | None
    ) = None


class CaseModel(_Strict):
    name: Text
    now: Now | None = None
    snapshot: Annotated[Any, BeforeValidator(_snapshot_reference)]
    expect: Expectation


class FileModel(_Strict):
    """A rule test file: the rule file under test and its cases."""

    model_config = ConfigDict(title="ruleengine rule test file")

    rules: Text
    now: Now | None = None
    cases: Annotated[list[CaseModel], Field(min_length=1)]


_DECISION_FIELDS = (
    "key",
    "kind",
    "rule",
    "step",
    "status",
    "points",
    "rewards",
    "logic",
    "pick",
    "qualifying",
    "achieved_at",
    "available_at",
)
_BALANCE_FIELDS = ("active", "pending", "earned", "redeemed", "adjusted", "expired")
_TIER_FIELDS = (
    "current",
    "since",
    "qualifying",
    "tier_points",
    "next",
    "remaining",
    "period_end",
)
_PROGRESS_FIELDS = (
    "rule",
    "step",
    "steps",
    "metric",
    "current",
    "pending",
    "target",
    "completed",
    "description",
    "remaining",
)
_PROBLEM_FIELDS = ("code", "rule")


# == structure errors as located diagnostics =====================================================


_TIMESTAMP_HINT = "write a timestamp with its zone offset, such as `2026-06-01T00:00:00Z`"


def _test_file_special(
    error: ErrorDetails, path: tuple[PathPart, ...], where: str
) -> Finding | None:
    """The test file's own reading of a pydantic error, before the mapping it shares with rule
    files: the errors of its timestamps and problem codes, which rule files do not have, an
    empty `cases` said in the words of the format, and its own validators' messages, which say
    what is wrong but not where (the place is added here, as for every other error)."""
    kind = error["type"]
    value = error.get("input")
    if kind.startswith("RE"):
        return kind, f"{error['msg']}{where}", None
    if kind == "timezone_aware":
        return "RE205", f"`{value}` has no time zone offset{where}", _TIMESTAMP_HINT
    if kind.startswith(("datetime_", "date_")):
        return "RE205", f"{describe(value)} is not a timestamp{where}", _TIMESTAMP_HINT
    if kind == "too_short" and path == ("cases",):
        hint = "add a case: `- name: ...`, `now`, `snapshot` and `expect`"
        return "RE205", "`cases` must list at least one case", hint
    if kind == "string_pattern_mismatch":  # the only pattern is a problem's `code`
        return (
            "RE205",
            f"{describe(value)} is not a diagnostic code{where}",
            "codes look like `RE601`",
        )
    return None


_TEST_FILE = FileFormat(
    model=FileModel,
    places={
        "cases": "case",
        "decisions": "decision",
        "progress": "progress entry",
        "problems": "problem",
        "rewards": "reward",
    },
    special=_test_file_special,
    sort_allowed_keys=False,
    serial_choices=False,
    quoted_number_hint=False,
)
