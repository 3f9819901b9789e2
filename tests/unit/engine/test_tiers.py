"""The tier replay alone: levels reached by contributions, per period and downgrade policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ruleengine import Engine, load_ruleset
from ruleengine.engine.result_text import tier_lines
from ruleengine.engine.tiers import Contribution, TierAction, TierChange, replay_tiers
from ruleengine.rules.models import Tiers

PARIS = ZoneInfo("Europe/Paris")


def _tiers(period: str, downgrade: str = "never") -> Tiers:
    return Tiers.model_validate(
        {
            "basis": "amount_spent",
            "period": period,
            "downgrade": downgrade,
            "levels": [
                {"id": "member", "name": "Member", "threshold": 0},
                {"id": "gold", "name": "Gold", "threshold": 500},
                {"id": "platinum", "name": "Platinum", "threshold": 2000},
            ],
        }
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _c(at: str, amount: str, activity: str | None) -> Contribution:
    return Contribution(_at(at), Decimal(amount), activity)


def test_lifetime_upgrade_names_the_order_that_crossed_the_threshold() -> None:
    items = [_c("2026-01-05T10:00Z", "300", "o1"), _c("2026-02-05T10:00Z", "250", "o2")]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2030-01-01T00:00Z"), PARIS)
    assert replay.changes == (TierChange(1, 0, _at("2026-02-05T10:00Z"), "o2", "lifetime"),)
    state = replay.state
    assert (state.level, state.qualifying, state.progress, state.period_end) == (
        1,
        "o2",
        Decimal(550),
        None,
    )


def test_several_levels_at_once_enter_the_highest() -> None:
    items = [_c("2026-01-05T10:00Z", "2500", "o1")]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-06-01T00:00Z"), PARIS)
    assert [(c.level, c.previous) for c in replay.changes] == [(2, 0)]


def test_a_refund_lowers_progress_but_not_the_level_within_the_period() -> None:
    items = [_c("2026-01-05T10:00Z", "600", "o1"), _c("2026-01-10T10:00Z", "-400", "o1")]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-06-01T00:00Z"), PARIS)
    assert replay.state.level == 1
    assert replay.state.progress == Decimal(200)


def test_activity_after_now_is_not_known_yet() -> None:
    items = [_c("2026-01-05T10:00Z", "600", "o1")]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-01-01T00:00Z"), PARIS)
    assert replay.changes == ()
    assert replay.state.level == 0


def test_calendar_year_keeps_the_level_through_the_next_year_then_falls() -> None:
    items = [_c("2026-03-01T10:00Z", "600", "o1"), _c("2027-03-01T10:00Z", "100", "o2")]
    tiers = _tiers("calendar_year", "end_of_period")
    during_2027 = replay_tiers(tiers, items, _at("2027-06-01T00:00Z"), PARIS)
    assert during_2027.state.level == 1
    assert during_2027.state.progress == Decimal(100)
    assert during_2027.state.period_end == _at("2028-01-01T00:00+01:00")
    after = replay_tiers(tiers, items, _at("2028-06-01T00:00Z"), PARIS)
    ended = _at("2028-01-01T00:00+01:00")
    assert after.changes[-1] == TierChange(0, 1, ended, None, "2028", "downgrade", 0)
    assert after.state.level == 0


def test_calendar_year_never_downgrade_keeps_the_level() -> None:
    items = [_c("2026-03-01T10:00Z", "600", "o1")]
    replay = replay_tiers(_tiers("calendar_year"), items, _at("2029-06-01T00:00Z"), PARIS)
    assert replay.state.level == 1
    assert replay.state.progress == Decimal(0)


def test_the_year_boundary_is_in_the_ruleset_zone() -> None:
    """23:30 UTC on 31 December is already next year in Paris: the two orders are in
    different years there, so neither year reaches gold."""
    items = [_c("2026-12-31T12:00Z", "300", "o1"), _c("2026-12-31T23:30Z", "300", "o2")]
    paris = replay_tiers(_tiers("calendar_year"), items, _at("2027-02-01T00:00Z"), PARIS)
    assert paris.state.level == 0
    utc = replay_tiers(_tiers("calendar_year"), items, _at("2027-02-01T00:00Z"), UTC)
    assert utc.state.level == 1
    assert utc.changes[0].period == "2026"


def test_rolling_window_counts_twelve_months_and_reassesses_at_the_level_anniversary() -> None:
    items = [
        _c("2026-01-10T10:00Z", "300", "o1"),
        _c("2026-06-10T10:00Z", "300", "o2"),
        _c("2027-03-10T10:00Z", "100", "o3"),
    ]
    tiers = _tiers("rolling_12mo", "end_of_period")
    replay = replay_tiers(tiers, items, _at("2027-08-01T00:00Z"), PARIS)
    # Gold on 2026-06-10; at its anniversary the trailing year holds o3 only (o2 leaves
    # exactly then): 100, so the customer falls to member.
    assert [(c.level, c.previous, c.qualifying) for c in replay.changes] == [
        (1, 0, "o2"),
        (0, 1, None),
    ]
    assert replay.changes[1].at == _at("2027-06-10T10:00Z")
    assert replay.state.progress == Decimal(100)


def test_rolling_window_renews_a_level_the_trailing_year_still_reaches() -> None:
    items = [_c("2026-01-10T10:00Z", "600", "o1"), _c("2026-12-10T10:00Z", "600", "o2")]
    tiers = _tiers("rolling_12mo", "end_of_period")
    replay = replay_tiers(tiers, items, _at("2027-06-01T00:00Z"), PARIS)
    assert replay.state.level == 1
    assert replay.state.period_end == _at("2028-01-10T10:00Z")


@pytest.mark.parametrize("period", ["lifetime", "calendar_year", "rolling_12mo"])
def test_growing_history_changes_only_by_what_is_new(period: str) -> None:
    """As it happened: the changes up to an earlier `now` are a prefix of the later ones."""
    items = [
        _c(f"20{26 + i // 4}-{1 + 3 * (i % 4):02d}-05T10:00Z", str(150 * (1 + i % 3)), f"o{i}")
        for i in range(12)
    ]
    tiers = _tiers(period, "end_of_period")
    final = replay_tiers(tiers, items, _at("2030-01-01T00:00Z"), PARIS).changes
    for item in items:
        earlier = replay_tiers(tiers, items, item.at, PARIS).changes
        assert final[: len(earlier)] == earlier


def test_text_shows_the_tier_and_a_bar_to_the_next_level() -> None:
    tier = {
        "current": "gold",
        "name": "Gold",
        "since": "2026-02-05T10:00:00Z",
        "qualifying": "o2",
        "tier_points": "550.00",
        "next": "platinum",
        "remaining": "1450.00",
        "period_end": None,
    }
    assert tier_lines(tier, "USD") == [
        "Tier: Gold (gold) since 2026-02-05T10:00:00Z, qualifying o2",
        "  [#####---------------] $550.00/$2,000.00  spend $1,450.00 more to reach platinum",
    ]


def test_text_at_the_top_level_has_no_bar() -> None:
    tier = {
        "current": "vip",
        "name": "VIP",
        "since": "2026-02-05T10:00:00Z",
        "qualifying": "o9",
        "tier_points": 12,
        "next": None,
        "remaining": None,
        "period_end": "2027-01-01T00:00:00Z",
    }
    assert tier_lines(tier, "USD") == [
        "Tier: VIP (vip) since 2026-02-05T10:00:00Z, qualifying o9; "
        "re-assessed 2027-01-01T00:00:00Z",
        "  12 tier points: the top level",
    ]


def test_text_at_the_top_level_of_a_spending_tier_shows_money() -> None:
    tier = {
        "current": "vip",
        "name": "VIP",
        "since": "2026-02-05T10:00:00Z",
        "qualifying": "o9",
        "tier_points": "1650.00",
        "next": None,
        "remaining": None,
        "period_end": None,
    }
    assert tier_lines(tier, "EUR")[1] == "  €1,650.00 spent: the top level"


def _set(at: str, activity: str, level: int | None, points: str | None = None) -> TierAction:
    return TierAction(_at(at), activity, level, None if points is None else Decimal(points))


def test_the_order_that_upgrades_sees_the_old_level_and_the_next_one_the_new() -> None:
    items = [_c("2026-01-05T10:00Z", "600", "o1")]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-06-01T00:00Z"), PARIS)
    assert replay.level_at(_at("2026-01-05T10:00Z")) == 0
    assert replay.level_at(_at("2026-01-05T10:00:01Z")) == 1


def test_an_order_at_a_period_end_sees_the_downgrade() -> None:
    """Period ends come first at one moment: an order placed exactly as the year ends is the
    new year's, at the level the new year starts with."""
    items = [_c("2026-03-01T10:00Z", "600", "o1")]
    tiers = _tiers("calendar_year", "end_of_period")
    replay = replay_tiers(tiers, items, _at("2028-06-01T00:00Z"), PARIS)
    ends = _at("2028-01-01T00:00+01:00")
    assert replay.changes[-1].at == ends
    assert replay.level_at(ends) == 0
    assert replay.level_at(ends - timedelta(microseconds=1)) == 1


def test_a_manual_change_sets_the_level_and_the_tier_points() -> None:
    items = [_c("2026-01-05T10:00Z", "100", "o1"), _c("2026-03-05T10:00Z", "1500", "o2")]
    actions = [_set("2026-02-01T09:00Z", "t1", 1, "800")]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-06-01T00:00Z"), PARIS, actions)
    # 800 from the store, then o2's 1500: 2300 reaches platinum.
    assert [(c.kind, c.level, c.qualifying) for c in replay.changes] == [
        ("manual", 1, "t1"),
        ("upgrade", 2, "o2"),
    ]
    assert replay.state.progress == Decimal(2300)


def test_manual_tier_points_leave_a_rolling_window_like_any_contribution() -> None:
    actions = [_set("2026-01-05T10:00Z", "t1", 1, "800")]
    tiers = _tiers("rolling_12mo", "end_of_period")
    during = replay_tiers(tiers, [], _at("2026-06-01T00:00Z"), PARIS, actions)
    assert (during.state.level, during.state.progress) == (1, Decimal(800))
    assert during.state.period_end == _at("2027-01-05T10:00Z")
    after = replay_tiers(tiers, [], _at("2027-02-01T00:00Z"), PARIS, actions)
    assert (after.state.level, after.state.progress) == (0, Decimal(0))
    assert after.changes[-1].kind == "downgrade"


def test_a_recalculation_returns_to_what_the_history_gives() -> None:
    items = [_c("2026-01-05T10:00Z", "600", "o1")]
    actions = [
        _set("2026-02-01T09:00Z", "t1", 2, "5000"),
        _set("2026-03-01T09:00Z", "t2", 0),
        _set("2026-04-01T09:00Z", "rc1", None),
    ]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-06-01T00:00Z"), PARIS, actions)
    assert [(c.kind, c.previous, c.level) for c in replay.changes] == [
        ("upgrade", 0, 1),
        ("manual", 1, 2),
        ("manual", 2, 0),
        ("recalculation", 0, 1),
    ]
    state = replay.state
    assert (state.level, state.progress, state.since, state.qualifying) == (
        1,
        Decimal(600),
        _at("2026-01-05T10:00Z"),
        "o1",
    )


def test_a_recalculation_that_changes_nothing_is_still_listed() -> None:
    items = [_c("2026-01-05T10:00Z", "600", "o1")]
    actions = [_set("2026-04-01T09:00Z", "rc1", None)]
    replay = replay_tiers(_tiers("lifetime"), items, _at("2026-06-01T00:00Z"), PARIS, actions)
    assert [(c.kind, c.previous, c.level) for c in replay.changes] == [
        ("upgrade", 0, 1),
        ("recalculation", 1, 1),
    ]


AURORA = Path(__file__).parents[3] / "examples" / "rules" / "aurora-beauty.yaml"


@pytest.mark.parametrize(
    ("now", "tier_points", "o3"),
    [
        # In its hold across New Year: pending, not also "outside the period".
        (
            datetime(2027, 1, 10, tzinfo=UTC),
            "0",
            "order o3 is pending: it counts from 2027-01-14, when its 14-day refund hold ends",
        ),
        # Its hold ended in 2027: it counts for 2027, and the words say so too.
        (datetime(2027, 3, 1, tzinfo=UTC), "800", None),
    ],
)
def test_a_held_order_counts_in_the_year_its_hold_ends(
    now: datetime, tier_points: str, o3: str | None
) -> None:
    # Aurora (Berlin, calendar_year, 14-day hold): o3 is placed at 23:30 on 31 December 2026
    # in Berlin and confirmed on 14 January 2027, so it counts for 2027.
    engine = Engine(load_ruleset(AURORA))
    order = {"type": "order", "id": "o2", "at": "2026-04-01T10:00:00Z", "subtotal": "300"}
    late = {"type": "order", "id": "o3", "at": "2026-12-31T22:30:00Z", "subtotal": "800"}
    result = engine.evaluate(
        {"customer": {"id": "c1"}, "activity": [order, late]}, now=now, explain=True
    )
    assert result.to_json()["tier"]["tier_points"] == tier_points
    (tiers,) = [e for e in result.explanations if e.rule == "tiers"]
    about_o3 = [reason for reason in tiers.reasons if "o3" in reason]
    assert about_o3 == ([] if o3 is None else [o3])
    assert f"€{Decimal(tier_points):,.2f} spent so far" in tiers.reasons[1]
    assert "order o2 on 2026-04-01 is outside the period" in tiers.reasons[-1]


PINNED = {
    "customer": {"id": "c1"},
    "activity": [
        {"type": "order", "id": "o1", "at": "2026-01-01T00:00:00Z", "subtotal": "100"},
        {"type": "tier_change", "id": "t1", "at": "2026-02-01T00:00:00Z"}
        | {"tier": "insider", "tier_points": "5000"},
        {"type": "order", "id": "o2", "at": "2026-03-01T00:00:00Z", "subtotal": "10.555"},
    ],
}


def test_a_customer_the_store_set_below_their_points_is_told_so() -> None:
    """The store set Insider with €5,000 counted (Gold is €300): the explanation said "the first
    level: everyone starts there" and "spend €0.00 more to reach Gold", the text a full bar
    with "0 more to gold"."""
    engine = Engine(load_ruleset(AURORA))
    now = datetime(2026, 3, 5, tzinfo=UTC)  # o2 is still in its refund hold
    (why,) = engine.explain(PINNED, now=now, rule="tiers")
    assert why.reasons[:2] == (
        "Insider (`insider`): the store set it on 2026-02-01 (t1)",
        "€5,000.00 counted, above Gold's €300.00, though the store set Insider: the next "
        "activity that counts toward the tier raises the level to the one it reaches",
    )
    tier = json.loads(engine.evaluate(PINNED, now=now).dumps())["tier"]
    assert tier_lines(tier, "EUR")[1] == (
        "  [####################] €5,000.00 spent: already enough for gold; the level rises "
        "with the next activity that counts"
    )
    # When o2's hold ends it counts, and the level rises to what €5,010.555 reaches; money in
    # words is exact, like the JSON (docs/engine.md).
    later = engine.evaluate(PINNED, now=datetime(2026, 6, 1, tzinfo=UTC))
    lines = tier_lines(json.loads(later.dumps())["tier"], "EUR")
    assert lines[1] == "  €5,010.555 spent: the top level"
    assert [d.tier for d in later.decisions if d.kind == "tier_change"] == [("insider", "platinum")]
