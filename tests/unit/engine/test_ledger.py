"""The ledger's small pure parts: fixed-date expiry moments and what a program can spend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ruleengine import Engine, load_ruleset
from ruleengine.engine.decisions import Decision, RewardGrant
from ruleengine.engine.ledger import replay_ledger
from ruleengine.engine.ledger_expiry import fixed_date_after
from ruleengine.engine.ledger_types import Award
from ruleengine.engine.redeeming import most_points
from ruleengine.engine.timeline import Timeline
from ruleengine.expr.runtime import EvalContext
from ruleengine.rules.models import RedeemingProgram

NEW_YORK = EvalContext(datetime(2026, 6, 1, tzinfo=UTC), ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("moment", "month_day", "expected"),
    [
        # The end of 31 December in New York is 05:00 UTC on 1 January.
        (datetime(2026, 3, 15, tzinfo=UTC), "12-31", datetime(2027, 1, 1, 5, tzinfo=UTC)),
        # Midnight UTC is still 30 June in New York: that day's end.
        (datetime(2026, 7, 1, tzinfo=UTC), "06-30", datetime(2026, 7, 1, 4, tzinfo=UTC)),
        # A moment after this year's day: next year's.
        (datetime(2026, 7, 1, 5, tzinfo=UTC), "06-30", datetime(2027, 7, 1, 4, tzinfo=UTC)),
        # Exactly at the end of the day: that expiry is over, the next one follows.
        (datetime(2027, 1, 1, 5, tzinfo=UTC), "12-31", datetime(2028, 1, 1, 5, tzinfo=UTC)),
        # 29 February is 28 February in common years, itself in leap years.
        (datetime(2026, 1, 10, tzinfo=UTC), "02-29", datetime(2026, 3, 1, 5, tzinfo=UTC)),
        (datetime(2027, 3, 10, tzinfo=UTC), "02-29", datetime(2028, 3, 1, 5, tzinfo=UTC)),
    ],
)
def test_fixed_date_after(moment: datetime, month_day: str, expected: datetime) -> None:
    assert fixed_date_after(moment, month_day, NEW_YORK) == expected


def program(**fields: object) -> RedeemingProgram:
    return RedeemingProgram.model_validate(
        {"id": "p", "name": "P", "reward": {"discount_amount": 1}, **fields}
    )


@pytest.mark.parametrize(
    ("fields", "active", "expected"),
    [
        ({"cost": 500}, 499, 0),
        ({"cost": 500}, 1200, 500),
        ({"points_per": 100}, 99, 0),
        ({"points_per": 100}, 450, 400),
        ({"points_per": 100, "min_points": 200}, 150, 0),
        ({"points_per": 100, "min_points": 200}, 250, 200),
        ({"points_per": 100, "max_points": 300}, 1000, 300),
        ({"points_per": 100, "max_points": 250}, 1000, 200),
    ],
)
def test_most_points(fields: dict[str, object], active: int, expected: int) -> None:
    assert most_points(program(**fields), active) == expected


MAPLE = Path(__file__).parents[3] / "examples" / "rules" / "maple-loyalty.yaml"
EXPIRY_BLOCK = """points:
  expiry:
    policy: rolling                # every new award restarts the clock
    after: 12mo
    warn_before: [30d, 7d]         # the host emails each warning once (its decision key)
"""
PER_AWARD = "points:\n  expiry: {policy: per_award, after: 3mo, warn_before: [30d]}\n"
FIXED = "points:\n  expiry: {policy: fixed_date, on: 12-31, warn_before: [30d]}\n"


@pytest.mark.parametrize("points", ["", EXPIRY_BLOCK, PER_AWARD, FIXED])
def test_a_replay_without_entries_moves_the_same_points(points: str) -> None:
    # An evaluation replays the ledger without writing its entries (only `Engine.timeline`
    # reads them), and without expiry keeps no batches: the balance, decisions, problems,
    # expiring points and coupons must be exactly those of the replay that writes them, on
    # a history whose refund reversal and redemption ask for more than is active (RE618).
    text = MAPLE.read_text(encoding="utf-8")
    assert EXPIRY_BLOCK in text
    engine = Engine(load_ruleset(text.replace(EXPIRY_BLOCK, points)))
    model = engine.ruleset.model
    snapshot = engine.read_snapshot(
        {
            "customer": {"id": "theo", "created_at": "2025-02-01T14:00:00Z"},
            "activity": [
                {"type": "order", "id": "t1", "at": "2025-03-03T18:00:00Z", "subtotal": "30"},
                {"type": "redemption", "id": "rd1", "at": "2025-04-01T12:00:00Z"}
                | {"program": "dollars-off", "points": 400, "coupon": "M-1"},
                {"type": "adjustment", "id": "adj1", "at": "2025-05-01T12:00:00Z", "points": 90},
                {"type": "redemption", "id": "rd2", "at": "2025-06-01T12:00:00Z"}
                | {"program": "five-off", "points": 500, "coupon": "M-2"}
                | {"revoked_at": "2025-06-03T12:00:00Z"},
            ],
            "granted": [],
        }
    )
    day = datetime(2025, 3, 3, 18, tzinfo=UTC)
    refund = day + timedelta(days=40)
    awards = [
        Award("order-points/t1", "order-points", "t1", 300, day, day, "earning"),
        Award("welcome/su", "welcome", None, 100, day, day + timedelta(days=14), "earning"),
        Award("order-points/t1/reversal", "order-points", "t1", -350, refund, refund, "earning"),
    ]
    # The same awards as the earning decisions they come from (an evaluation passes those,
    # and without entries reads only their points): `earning_award` of each is its award.
    decisions = [
        Decision(
            a.key,
            a.rule or "",
            None,
            "grant_all",
            None,
            (RewardGrant("points", a.points),),
            a.at,
            a.activity,
            available_at=a.active_at if a.active_at > a.at else None,
        )
        for a in awards
    ]
    for now in (datetime(2025, 5, 15, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)):
        ctx = EvalContext(now, engine.zone)
        timeline = Timeline.build(snapshot, now, engine.zone)
        written = replay_ledger(model, awards, timeline, ctx, frozenset())
        quiet = replay_ledger(model, awards, timeline, ctx, frozenset(), entries=False)
        by_decision = replay_ledger(
            model, [], timeline, ctx, frozenset(), entries=False, earning=decisions
        )
        for found in (quiet, by_decision):
            assert (found.balance, found.decisions, found.problems) == (
                written.balance,
                written.decisions,
                written.problems,
            )
            assert (found.expiring, found.coupons) == (written.expiring, written.coupons)
            assert found.last_award_at == written.last_award_at
        assert written.entries and not quiet.entries
        assert quiet.balance == written.balance
        assert quiet.decisions == written.decisions
        assert quiet.problems == written.problems
        assert any(p.code == "RE618" for p in quiet.problems)
        assert quiet.expiring == written.expiring
        assert quiet.coupons == written.coupons
        assert quiet.last_award_at == written.last_award_at
        assert written.entries[-1].balance == written.balance.active


def test_a_fixed_date_passed_with_nothing_active_never_expires_later_points() -> None:
    # Nadia spends her 100 welcome points the day after signing up; nothing is active on
    # 31 December 2026. The 400 points the store adds in February 2027 expire at the end of
    # 31 December 2027, not at a fixed day that passed before they existed (and no warning
    # is dated before them either).
    text = MAPLE.read_text(encoding="utf-8")
    fixed = "points:\n  expiry: {policy: fixed_date, on: 12-31, warn_before: [30d, 7d]}\n"
    engine = Engine(load_ruleset(text.replace(EXPIRY_BLOCK, fixed)))
    snapshot = {
        "customer": {"id": "nadia", "created_at": "2026-06-01T12:00:00Z"},
        "activity": [
            {"type": "signup", "id": "s1", "at": "2026-06-01T12:00:00Z"},
            {"type": "redemption", "id": "rd1", "at": "2026-06-02T12:00:00Z"}
            | {"program": "dollars-off", "points": 100, "coupon": "M-1"},
            {"type": "adjustment", "id": "a1", "at": "2027-02-01T12:00:00Z", "points": 400},
        ],
    }
    for now in ("2027-01-15T00:00:00Z", "2027-02-02T00:00:00Z", "2027-12-10T00:00:00Z"):
        result = engine.evaluate(snapshot, now=datetime.fromisoformat(now))
        ledger = [d for d in result.decisions if d.rule == "points.expiry"]
        assert all(d.achieved_at >= datetime(2027, 2, 1, 12, tzinfo=UTC) for d in ledger), now
    found = engine.evaluate(snapshot, now=datetime(2027, 2, 2, tzinfo=UTC)).to_json()
    assert (found["balance"]["active"], found["balance"]["expired"]) == (400, 0)
    # The end of 31 December 2027 in Toronto.
    assert found["expiring"] == [{"points": 400, "at": "2028-01-01T05:00:00Z"}]
    later = engine.evaluate(snapshot, now=datetime(2028, 1, 2, tzinfo=UTC)).to_json()
    assert later["balance"]["expired"] == 400


def test_the_timeline_says_what_a_removal_asked_and_could_not_take() -> None:
    # The store removes 300 points (and sends -50 as `points_earned`) from a customer with
    # none active, then 300 from one with 120: the timeline says what was asked and how much
    # was short (RE618), as it does for a redemption, never "0 points removed".
    engine = Engine(load_ruleset(MAPLE))
    activity = [
        {"type": "adjustment", "id": "a1", "at": "2026-03-02T12:00:00Z", "points": -300}
        | {"message": "sorry"},
        {"type": "points_earned", "id": "p1", "at": "2026-03-03T12:00:00Z", "points": -50},
        {"type": "adjustment", "id": "a2", "at": "2026-03-04T12:00:00Z", "points": 120},
        {"type": "adjustment", "id": "a3", "at": "2026-03-05T12:00:00Z", "points": -300},
        {"type": "adjustment", "id": "a4", "at": "2026-03-06T12:00:00Z", "points": 70},
        {"type": "points_earned", "id": "p2", "at": "2026-03-07T12:00:00Z", "points": -100},
        {"type": "points_earned", "id": "p3", "at": "2026-03-08T12:00:00Z", "points": 10},
        {"type": "points_earned", "id": "p4", "at": "2026-03-09T12:00:00Z", "points": -10},
    ]
    history = engine.timeline(
        {"customer": {"id": "c1"}, "activity": activity}, now=datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert [(e.points, e.text) for e in history.entries] == [
        (
            0,
            '300 points to remove by the store (message: "sorry"): no points were active, '
            "so none were removed (300 short)",
        ),
        (
            0,
            "50 points to take back (p1, sent by the store): no points were active, so none "
            "were taken (50 short)",
        ),
        (120, "120 points added by the store"),
        (
            -120,
            "300 points to remove by the store: only 120 were active, so 120 were removed "
            "(180 short)",
        ),
        (70, "70 points added by the store"),
        (
            -70,
            "100 points to take back (p2, sent by the store): only 70 were active, so 70 "
            "were taken (30 short)",
        ),
        (10, "10 points earned (p3, sent by the store)"),
        (-10, "10 points taken back (p4, sent by the store)"),
    ]


def ledger_keys(points: str, rules: str, activity: list[dict[str, object]]) -> list[str]:
    """The decision keys of Maple's rules with `points` and `rules` added, at 1 March 2026."""
    text = MAPLE.read_text(encoding="utf-8").replace(EXPIRY_BLOCK, points)
    engine = Engine(load_ruleset(text.replace("milestones:\n", f"milestones:\n{rules}", 1)))
    snapshot = {"customer": {"id": "c1"}, "activity": activity}
    result = engine.evaluate(snapshot, now=datetime(2026, 3, 1, tzinfo=UTC))
    return [decision.key for decision in result.decisions]


def test_store_activity_keys_never_take_a_rule_key() -> None:
    # A milestone `points_earned` (its step key `points_earned/1`) and points the store sent
    # as `points_earned` activity `1`: their expiries were both `expiry/points_earned/1`.
    per_day = "points:\n  expiry: {policy: per_award, after: 1d, warn_before: [1h]}\n"
    rule = (
        "  - {id: points_earned, name: First order, type: orders_count, target: 1, "
        "reward: {rewards: [{points: 10}]}}\n"
    )
    activity: list[dict[str, object]] = [
        {"type": "order", "id": "o1", "at": "2026-01-05T12:00:00Z", "subtotal": "1"},
        {"type": "points_earned", "id": "1", "at": "2026-01-05T12:00:00Z", "points": 40},
        {"type": "adjustment", "id": "a/1", "at": "2026-01-06T12:00:00Z", "points": 5},
    ]
    keys = ledger_keys(per_day, rule, activity)
    assert len(keys) == len(set(keys)), keys
    assert "_expiry/points_earned/1" in keys
    assert "_expiry/_points_earned/1" in keys
    # Ids are encoded as in every key: `a/1` is `a%2F1`.
    assert "_expiry/_adjustment/a%2F1/warning/1h" in keys


def test_two_rolling_expiries_on_one_day_have_their_own_keys_and_warnings() -> None:
    # `after: 1h`: 10:00's points expire at 11:00, 11:30's at 12:30 (same day in Toronto).
    hourly = "points:\n  expiry: {policy: rolling, after: 1h, warn_before: [30min]}\n"
    activity: list[dict[str, object]] = [
        {"type": "adjustment", "id": "a1", "at": "2026-01-01T15:00:00Z", "points": 100},
        {"type": "adjustment", "id": "a2", "at": "2026-01-01T16:30:00Z", "points": 50},
    ]
    assert ledger_keys(hourly, "", activity) == [
        "_expiry/2026-01-01/warning/30min",
        "_expiry/2026-01-01",
        "_expiry/2026-01-01/2/warning/30min",
        "_expiry/2026-01-01/2",
    ]
