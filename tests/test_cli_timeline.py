"""`ruleengine timeline` and `Engine.timeline`: a customer's points history for support."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from ruleengine import load_ruleset
from ruleengine.engine.engine import Engine
from ruleengine.schema_export import schema_text
from test_cli import ROOT, run, write

MAPLE = "examples/rules/maple-loyalty.yaml"
NADIA = "examples/snapshots/maple-nadia.json"
NOW = "2026-05-10T00:00:00Z"
TIMELINE_SCHEMA = jsonschema.Draft202012Validator(json.loads(schema_text("timeline")))


def test_timeline_text_tells_the_whole_story() -> None:
    result = run("timeline", MAPLE, "--snapshot", NADIA, "--now", NOW)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "maple-loyalty · customer nadia · 2026-05-10T00:00:00+00:00"
    # Local times (America/Toronto), signed points, the balance after each entry.
    assert (
        "2026-01-10 12:30        ·  balance    100  425 points earned from "
        '"10 points per dollar" (`order-points`) for n1, pending until 2026-01-24'
    ) in lines
    assert (
        "2026-04-03 05:00     +300  balance   1275  coupon MAPLE-3-PQ9 revoked: 300 points returned"
    ) in lines
    assert any('message: "Sorry about your parcel' in line for line in lines)
    assert lines[-1] == (
        "Balance: 825 active, 250 pending (earned 1175, adjusted +150, redeemed 500, expired 0)"
    )


def test_timeline_json_matches_its_schema_and_the_result_balance() -> None:
    result = run("timeline", MAPLE, "--snapshot", NADIA, "--now", NOW, "--format", "json")
    assert result.returncode == 0, result.stderr
    history = json.loads(result.stdout)
    TIMELINE_SCHEMA.validate(history)
    kinds = [entry["kind"] for entry in history["entries"]]
    assert kinds == [
        "earned",
        "pending",
        "activated",
        "earned",
        "earned",
        "earned",
        "pending",
        "activated",
        "redeemed",
        "redeemed",
        "revoked",
        "adjusted",
        "reversed",
        "pending",
    ]
    evaluated = json.loads(run("eval", MAPLE, "--snapshot", NADIA, "--now", NOW).stdout)
    assert history["balance"] == evaluated["balance"]
    assert history["entries"][-1]["balance"] == evaluated["balance"]["active"]


def test_engine_timeline_balance_follows_each_entry() -> None:
    engine = Engine(load_ruleset(ROOT / MAPLE))
    snapshot = json.loads((ROOT / NADIA).read_text(encoding="utf-8"))
    history = engine.timeline(snapshot, now=datetime(2026, 5, 10, tzinfo=UTC))
    running = 0
    for entry in history.entries:
        running += entry.points
        assert entry.balance == running, entry
    assert [e.at for e in history.entries] == sorted(e.at for e in history.entries)


def test_coupons_of_an_excluded_customer_show_their_price(tmp_path: Path) -> None:
    # Nadia excluded: she earns nothing, so her coupons take nothing from the balance. The
    # coupons still cost what they cost (`points`), and the words say what was taken.
    snapshot = json.loads((ROOT / NADIA).read_text(encoding="utf-8"))
    snapshot["customer"]["excluded"] = True
    path = write(tmp_path, "nadia-excluded.json", json.dumps(snapshot))
    result = run("timeline", MAPLE, "--snapshot", str(path), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:5] == [
        "2026-03-20 15:00        ·  balance      0  coupon MAPLE-5-XK2 redeemed for $5 off your "
        "order (price 500 points): no points were active, so none were taken (500 short)",
        "2026-04-02 05:00        ·  balance      0  coupon MAPLE-3-PQ9 redeemed for $1 off for "
        "every 100 points (price 300 points): no points were active, so none were taken "
        "(300 short)",
        "2026-04-03 05:00        ·  balance      0  coupon MAPLE-3-PQ9 (price 300 points) "
        "revoked: nothing returned, as its redemption took no points",
    ]
    evaluated = run("eval", MAPLE, "--snapshot", str(path), "--now", NOW)
    coupons = json.loads(evaluated.stdout)["coupons"]
    assert [(c["coupon"], c["points"], c["taken"]) for c in coupons] == [
        ("MAPLE-5-XK2", 500, 0),
        ("MAPLE-3-PQ9", 300, 0),
    ]


def test_timeline_of_a_customer_without_points(tmp_path: Path) -> None:
    snapshot = write(tmp_path, "empty.json", '{"customer": {"id": "c0"}}')
    result = run("timeline", MAPLE, "--snapshot", str(snapshot), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert "No points activity yet." in result.stdout


def test_timeline_of_a_broken_snapshot_exits_1(tmp_path: Path) -> None:
    snapshot = write(tmp_path, "bad.json", '{"customer": {}}')
    result = run("timeline", MAPLE, "--snapshot", str(snapshot), "--now", NOW)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_explain_says_why_a_program_is_not_redeemable() -> None:
    theo = "examples/snapshots/maple-theo.json"
    result = run(
        "explain", MAPLE, "--snapshot", theo, "--now", "2026-04-01T00:00:00Z", "--rule", "vip-gift"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "vip-gift: not redeemable",
        "    - the program costs 2000 points; the customer has 0 active",
        "    - the condition `stats.orders_count >= 3` is false",
    ]


def test_eval_text_marks_the_ledgers_decisions_and_problems(tmp_path: Path) -> None:
    theo = "examples/snapshots/maple-theo.json"
    result = run(
        "eval", MAPLE, "--snapshot", theo, "--now", "2026-04-01T00:00:00Z", "--format", "text"
    )
    assert result.returncode == 0, result.stderr
    assert "  _expiry/2026-03-17/warning/7d   150 points  [warning]" in result.stdout
    assert "  _expiry/2026-03-17              150 points  [expired]" in result.stdout
    snapshot = write(
        tmp_path,
        "unknown.json",
        '{"customer": {"id": "x"}, "activity": [{"type": "redemption", "id": "r1", '
        '"at": "2026-01-01T00:00:00Z", "program": "nope", "points": 5, "coupon": "C"}]}',
    )
    result = run("eval", MAPLE, "--snapshot", str(snapshot), "--now", NOW, "--format", "text")
    assert result.returncode == 0, result.stderr
    assert (
        "  <snapshot>: $.activity[0]: error[RE617] redemption r1 is of the program `nope`, "
        "which the ruleset's `redeeming` does not have"
    ) in result.stdout


def test_timeline_lists_tier_changes_with_the_qualifying_order() -> None:
    """Seed 004: tier upgrade entries show the order that triggered them; a downgrade when the
    year ends (Berlin) is there too, between the points entries, in the timeline schema."""
    result = run(
        "timeline",
        "examples/rules/aurora-beauty.yaml",
        "--snapshot",
        "examples/snapshots/aurora-jonas.json",
        "--now",
        "2027-02-01T00:00:00Z",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    TIMELINE_SCHEMA.validate(data)
    tiers = [
        (e["kind"], e["activity"], e["at"], e["points"])
        for e in data["entries"]
        if e["rule"] == "tiers"
    ]
    assert tiers == [
        ("tier_upgrade", "j1", "2025-05-15T10:00:00Z", 0),
        ("earned", "j1", "2025-05-15T10:00:00Z", 150),  # the gold entry reward
        ("tier_downgrade", None, "2026-12-31T23:00:00Z", 0),
    ]


EXPIRING = """version: 1
program: causes
currency: USD
timezone: America/New_York
earning:
  - {id: op, name: per dollar, on: order, points: floor(order.subtotal)}
points:
  expiry: {policy: fixed_date, on: "02-29", warn_before: [30d]}
"""
UPGRADING = """version: 1
program: causes
currency: USD
timezone: America/New_York
earning:
  - {id: op, name: per dollar, on: order, points: floor(order.subtotal)}
tiers:
  basis: points_earned
  period: lifetime
  levels:
    - {id: member, name: Member, threshold: 0}
    - {id: gold, name: Gold, threshold: 500, reward: {rewards: [{points: 50}]}}
"""


def test_one_moment_lists_causes_before_what_they_caused() -> None:
    # The warning of the 29 February expiry is due at once (less than 30 days ahead) at the
    # order's moment: it is about the order's points, so it comes after the order's award.
    engine = Engine(load_ruleset(EXPIRING))
    order = {"type": "order", "id": "o1", "at": "2028-02-29T12:00:00Z", "subtotal": "100"}
    result = engine.evaluate(
        {"customer": {"id": "c1"}, "activity": [order]}, now=datetime(2028, 2, 29, 18, tzinfo=UTC)
    )
    assert [d.key for d in result.decisions] == ["op/o1", "_expiry/2028-02-29/warning/30d"]
    # The adjustment that reaches Gold comes first, then the upgrade, then its reward; the
    # balance after each entry follows the new order.
    engine = Engine(load_ruleset(UPGRADING))
    snapshot = {
        "customer": {"id": "c1"},
        "activity": [
            {"type": "order", "id": "o1", "at": "2026-01-10T12:00:00Z", "subtotal": "300"},
            {"type": "adjustment", "id": "a1", "at": "2026-02-10T12:00:00Z"}
            | {"points": 200, "affects_tier": True},
        ],
    }
    history = engine.timeline(snapshot, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert [(e.kind, e.points, e.balance, e.activity) for e in history.entries] == [
        ("earned", 300, 300, "o1"),
        ("adjusted", 200, 500, "a1"),
        ("tier_upgrade", 0, 500, "a1"),
        ("earned", 50, 550, "a1"),
    ]
    decisions = engine.evaluate(snapshot, now=datetime(2026, 3, 1, tzinfo=UTC)).decisions
    assert [d.key for d in decisions] == ["op/o1", "tiers/gold/lifetime"]


def test_tier_entries_carry_the_key_of_their_decision() -> None:
    """Seed 004: a merchant traces a timeline entry to its decision by the key; an upgrade's
    entry, its reward's and the upgrade decision share `tiers/<level>/<period>`, and so do a
    downgrade's entry and decision (keys by the moment were given to the entries before)."""
    engine = Engine(load_ruleset(ROOT / "examples/rules/aurora-beauty.yaml"))
    now = datetime(2027, 2, 1, tzinfo=UTC)
    for name in ("jonas", "lea"):
        snapshot = json.loads((ROOT / f"examples/snapshots/aurora-{name}.json").read_text())
        snapshot["granted"] = []  # every decision, also those the store carried out
        decisions = {
            d.key for d in engine.evaluate(snapshot, now=now).decisions if d.kind == "tier_change"
        }
        entries = [
            e
            for e in engine.timeline(snapshot, now=now).entries
            if e.kind in ("tier_upgrade", "tier_downgrade")
        ]
        assert entries, name
        assert {e.key for e in entries} <= decisions, name
    snapshot = json.loads((ROOT / "examples/snapshots/aurora-jonas.json").read_text())
    keys = [
        (e.kind, e.key) for e in engine.timeline(snapshot, now=now).entries if e.rule == "tiers"
    ]
    assert keys == [
        ("tier_upgrade", "tiers/gold/2025"),
        ("earned", "tiers/gold/2025"),
        ("tier_downgrade", "tiers/insider/2027"),
    ]
