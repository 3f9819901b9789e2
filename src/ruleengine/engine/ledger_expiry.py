"""The expiry policies of the points ledger: when active points expire, and the warnings before.

Expiry (`points.expiry`): `per_award` expires what is left of each batch `after` it became
active; `rolling` expires every active point `after` the last award (each award restarts the
clock); `fixed_date` expires every active point at the end of the day `on` each year (in the
ruleset's zone): the first such day after the balance last rose from zero, or after the
previous fixed-date expiry (a fixed day passed with nothing active is done). Each expiry with
points is a `points_expired` decision (key `_expiry/<award key>` for per_award,
`_expiry/<local date>` otherwise, `_expiry/<local date>/<n>` for the n-th that day), and
each `warn_before` threshold gives one `expiry_warning` decision per expiry (key
`<expiry key>/warning/<threshold>`) at the moment the warning falls due, while that expiry
still stands and before it happens. The ledger's keys start with `_`, as no rule id can.

`engine.ledger` calls `advance_expiry` before each event of its replay and at `now`, and
`upcoming_expiries` for what the points active at `now` face; these functions move the
replay's `LedgerState` (its batches, totals and expiry bookkeeping) and nothing else.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ruleengine.engine.decisions import Decision, DecisionKind, RewardGrant
from ruleengine.engine.ledger_state import Batch, LedgerState
from ruleengine.engine.ledger_types import Expiring
from ruleengine.engine.wording import count
from ruleengine.expr.runtime import EvalContext, shift
from ruleengine.expr.values import Duration
from ruleengine.rules.models import ExpiryPolicy

EXPIRY_RULE = "points.expiry"  # the `rule` of expiry decisions
# The ledger's own keys start with `_`, which no rule id can (`RULE_ID_PATTERN`): its decisions
# (`_expiry/...`) and the batches of store activity (`_adjustment/<id>`) never take a key a
# rule makes, whatever the rule ids. Activity ids in them are encoded (`key_part`).
EXPIRY_KEY = "_expiry"


def _next_expiry(state: LedgerState) -> tuple[datetime, str, Batch | None] | None:
    """The next expiry of active points: its moment, decision key and the batch it takes
    (`per_award`: the oldest, which expires first; None: every active point)."""
    expiry = state.expiry
    if expiry is None or not state.active:
        return None
    if expiry.policy is ExpiryPolicy.PER_AWARD:
        # Batches are made in time order, so the oldest expires first: the head.
        batch = state.batches[0]
        assert state.after is not None
        at = _moved(state, batch.at, state.after)
        return at, f"{EXPIRY_KEY}/{batch.key}", batch
    if expiry.policy is ExpiryPolicy.ROLLING:
        assert state.last_award is not None and state.after is not None
        at = _moved(state, state.last_award, state.after)
    else:
        assert state.fixed_since is not None and expiry.on is not None
        at = fixed_date_after(state.fixed_since, expiry.on, state.ctx)
    local_day = str(state.ctx.local_date(at - timedelta(microseconds=1)))
    made = state.days.get(local_day, 0)  # earlier expiries that day (`rolling` only)
    key = f"{EXPIRY_KEY}/{local_day}" + (f"/{made + 1}" if made else "")
    return at, key, None


def _moved(state: LedgerState, moment: datetime, duration: Duration) -> datetime:
    moved = shift(moment, duration, 1, state.ctx)
    assert isinstance(moved, datetime)
    return moved


def _scheduled_since(state: LedgerState, batch: Batch | None) -> datetime:
    """Since when an expiry has stood: its batch's award (per_award), the last award
    (rolling), or the previous fixed date or the award that found nothing active
    (fixed_date)."""
    if batch is not None:
        return batch.at
    assert state.expiry is not None
    if state.expiry.policy is ExpiryPolicy.ROLLING:
        assert state.last_award is not None
        return state.last_award
    assert state.fixed_since is not None
    return state.fixed_since


def advance_expiry(state: LedgerState, until: datetime) -> None:
    """Expire and warn up to `until` (an activity's moment, or `now`), inclusive."""
    while True:
        upcoming = _next_expiry(state)
        if upcoming is None:
            return
        at, key, batch = upcoming
        if at <= until:
            _warn(state, at, key, batch, at, strict=True)
            _expire(state, at, key, batch)
        else:
            _warn(state, at, key, batch, until, strict=False)
            return


def _warn(
    state: LedgerState,
    at: datetime,
    key: str,
    batch: Batch | None,
    until: datetime,
    *,
    strict: bool,
) -> None:
    """Decide the warnings of the expiry `key` (at `at`) due by `until` (before it, when
    `strict`: the expiry itself comes at `until`)."""
    if not state.warnings:
        return
    points = state.active if batch is None else batch.left
    if not points:
        return
    since = _scheduled_since(state, batch)
    for text, duration in state.warnings:
        warning_key = f"{key}/warning/{text}"
        if warning_key in state.warned:
            continue
        due = max(shift(at, duration, -1, state.ctx), since)
        assert isinstance(due, datetime)
        if due >= at or due > until or (strict and due >= until):
            continue
        state.warned.add(warning_key)
        if warning_key not in state.granted:
            state.decisions.append(_expiry_decision(warning_key, "expiry_warning", points, due, at))


def _expire(state: LedgerState, at: datetime, key: str, batch: Batch | None) -> None:
    if batch is None:
        points = state.active
        state.batches.clear()
    else:
        points = batch.left
        state.batches.popleft()
    state.active -= points
    state.expired += points
    if state.expiry is not None and state.expiry.policy is ExpiryPolicy.FIXED_DATE:
        state.fixed_since = at
    if batch is None and points:
        local_day = str(state.ctx.local_date(at - timedelta(microseconds=1)))
        state.days[local_day] = state.days.get(local_day, 0) + 1
    if not points:
        return
    if state.record:
        state.entry(at, "expired", -points, f"{count(points, 'point')} expired", key)
    if key not in state.granted:
        state.decisions.append(_expiry_decision(key, "points_expired", points, at, None))


def _expiry_decision(
    key: str, kind: DecisionKind, points: int, at: datetime, expires_at: datetime | None
) -> Decision:
    """A `points_expired` (at the expiry) or `expiry_warning` decision (due at `at`; its
    `available_at` is when the points expire)."""
    return Decision(
        key,
        EXPIRY_RULE,
        None,
        "grant_all",
        None,
        (RewardGrant("points", points),),
        at,
        None,
        "granted",
        expires_at,
        kind,
    )


def fixed_date_after(moment: datetime, month_day: str, ctx: EvalContext) -> datetime:
    """The end of the first day `MM-DD` (in the ruleset's zone) that ends after `moment`:
    the next day's midnight. 29 February is 28 February in common years."""
    month, day_of_month = int(month_day[:2]), int(month_day[3:])
    year = ctx.local_date(moment).year
    while True:
        try:
            day_end = date(year, month, day_of_month)
        except ValueError:  # 29 February in a common year
            day_end = date(year, month, 28)
        end = datetime.combine(day_end + timedelta(days=1), time(0), ctx.tz)
        if end > moment:
            return end
        year += 1


def upcoming_expiries(state: LedgerState) -> list[Expiring]:
    """Every upcoming expiry of the points active at `now`, earliest first."""
    expiry = state.expiry
    if expiry is None or not state.active:
        return []
    if expiry.policy is ExpiryPolicy.PER_AWARD:
        assert state.after is not None
        found = sorted((_moved(state, b.at, state.after), b.left) for b in state.batches)
        merged: list[Expiring] = []
        for at, points in found:
            if merged and merged[-1].at == at:
                merged[-1] = Expiring(merged[-1].points + points, at)
            else:
                merged.append(Expiring(points, at))
        return merged
    upcoming = _next_expiry(state)
    assert upcoming is not None
    return [Expiring(state.active, upcoming[0])]
