"""`ruleengine diff` shares work between OLD and NEW (`engine.reuse`, `engine.paired`): the
results, and so the report, are exactly those of two independent `Engine.evaluate` calls per
customer, over generated histories of the example programs and generated rule changes."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.backtest.differ import Differ
from ruleengine.backtest.layout import Customer, Origin
from ruleengine.backtest.parallel import evaluate_customer
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.engine.paired import PairedEngines, reads_alike
from ruleengine.engine.reuse import Pairing

ROOT = Path(__file__).parent.parent
RULES = ROOT / "examples/rules"
SNAPSHOTS = ROOT / "examples/snapshots"
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300"))
PROGRAMS = {
    "acme": "acme.yaml",
    "aurora": "aurora-beauty.yaml",
    "greenleaf": "greenleaf-market.yaml",
    "maple": "maple-loyalty.yaml",
    "northwind": "northwind-coffee.yaml",
    "urban": "urban-threads.yaml",
}
NOWS = [datetime(2026, month, 1, 12, tzinfo=UTC) for month in (3, 6, 9, 11)] + [
    datetime(2027, 2, 1, tzinfo=UTC)
]
MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT")


class _Loader(yaml.SafeLoader):
    """Rule files as data the way ruleengine reads them: `on` is a key, numbers are exact."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile("^(?:true|false)$"), ["t", "f"])
_Loader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: Decimal(loader.construct_scalar(node))
)


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _decimal)


def _data(program: str) -> dict[str, Any]:
    text = (RULES / PROGRAMS[program]).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=_Loader)
    return data


def _text(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)


DATA = {program: _data(program) for program in PROGRAMS}
# Aurora's tiers with milestones that depend on them: a condition on the tier at `now`, and a
# count of the points earned (at tier-dependent rates).
DATA["aurora-plus"] = {
    **_data("aurora"),
    "milestones": yaml.load(
        """
- id: gold-orders
  name: Two orders, for Gold and Platinum members
  type: orders_count
  target: 2
  when: customer.tier == "gold" or customer.tier == "platinum"
  reward: {rewards: [{points: 40}]}
- id: points-club
  name: 500 points earned
  type: points_earned
  target: 500
  reward: {rewards: [{store_credit: 5}]}
""",
        Loader=_Loader,
    ),
}
ENGINES = {program: Engine(load_ruleset(_text(data))) for program, data in DATA.items()}
SEEDS = {
    program: [
        json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        for path in sorted(SNAPSHOTS.glob(f"{program.split('-')[0]}-*.json"))
    ]
    for program in DATA
}


# -- rule changes ---------------------------------------------------------------------------


def _plus(value: Any, delta: int) -> Any:
    if isinstance(value, Decimal):
        return value + delta
    if isinstance(value, int) and not isinstance(value, bool):
        return max(1, value + delta)
    return value


def change_points(data: dict[str, Any], draw: Any) -> str:
    delta = draw(st.integers(1, 40))
    earning = data.get("earning") or []
    milestones = data.get("milestones") or []
    if earning and (not milestones or draw(st.booleans())):
        rule = draw(st.sampled_from(earning))
        points = rule["points"]
        rule["points"] = points + delta if isinstance(points, int) else f"({points}) + {delta}"
        return f"points of {rule['id']}"
    milestone = draw(st.sampled_from(milestones))
    for step in milestone.get("steps") or [milestone]:
        for reward in step["reward"]["rewards"]:
            for kind in ("points", "store_credit", "discount_amount"):
                if kind in reward:
                    reward[kind] = _plus(reward[kind], delta)
                    return f"{kind} of {milestone['id']}"
    return "nothing"


def change_condition(data: dict[str, Any], draw: Any) -> str:
    section = draw(st.sampled_from(["earning", "milestones"]))
    rules = data.get(section) or []
    assume(rules)
    rule = draw(st.sampled_from(rules))
    when = rule.get("when")
    if when is None:
        rule["when"] = draw(st.sampled_from(["stats.orders_count >= 2", "false"]))
    elif draw(st.booleans()):
        del rule["when"]
    else:
        rule["when"] = f"not ({when})"
    return f"condition of {rule['id']}"


def add_or_remove(data: dict[str, Any], draw: Any) -> str:
    section = draw(st.sampled_from(["earning", "milestones"]))
    rules = data.get(section) or []
    assume(rules)
    index = draw(st.integers(0, len(rules) - 1))
    if draw(st.booleans()):
        removed = rules.pop(index)
        return f"removed {removed['id']}"
    copy = yaml.load(_text(rules[index]), Loader=_Loader)
    copy["id"] = f"{copy['id']}-again"
    rules.insert(draw(st.integers(0, len(rules))), copy)
    return f"added {copy['id']}"


def change_target(data: dict[str, Any], draw: Any) -> str:
    milestones = data.get("milestones") or []
    assume(milestones)
    milestone = draw(st.sampled_from(milestones))
    step = draw(st.sampled_from(milestone.get("steps") or [milestone]))
    before = step.get("target")
    step["target"] = _plus(before, draw(st.sampled_from([-1, 1, 2, 10])))
    assume(step["target"] != before)
    return f"target of {milestone['id']}"


def change_tiers(data: dict[str, Any], draw: Any) -> str:
    tiers = data.get("tiers")
    assume(tiers is not None)
    if draw(st.booleans()):  # points earned feed the tier, which feeds the rates
        tiers["basis"] = "points_earned"
        return "tier basis"
    level = draw(st.sampled_from(tiers["levels"][1:]))
    level["threshold"] = _plus(level["threshold"], draw(st.sampled_from([-50, 25, 300])))
    return f"threshold of {level['id']}"


def change_nothing_that_counts(data: dict[str, Any], draw: Any) -> str:
    kind = draw(st.sampled_from(["same", "name", "timezone"]))
    if kind == "name":
        data["name"] = "Renamed program"
    elif kind == "timezone":
        data["timezone"] = "Asia/Tokyo"
    return kind


CHANGES = [
    change_points,
    change_condition,
    add_or_remove,
    change_target,
    change_tiers,
    change_nothing_that_counts,
]


@st.composite
def rule_changes(
    draw: Any, programs: list[str], changes: list[Any]
) -> tuple[str, Engine, Engine, list[str]]:
    """An example program, a changed copy, in either order (OLD, NEW), and what changed."""
    program = draw(st.sampled_from(programs))
    data = yaml.load(_text(DATA[program]), Loader=_Loader)
    changed = [draw(st.sampled_from(changes))(data, draw) for _ in range(draw(st.integers(1, 2)))]
    try:
        engine = Engine(load_ruleset(_text(data)))
    except RuleSetError:
        assume(False)
        raise
    old, new = ENGINES[program], engine
    if draw(st.booleans()):
        old, new = new, old
    return program, old, new, changed


# -- histories --------------------------------------------------------------------------------


def _shifted(entry: dict[str, Any], hours: int, suffix: str) -> dict[str, Any]:
    moved = dict(entry)
    moved["id"] = f"{entry['id']}{suffix}"
    if "coupon" in entry:  # each redemption has its own coupon code (RE641)
        moved["coupon"] = f"{entry['coupon']}{suffix}"
    for name, value in entry.items():
        if isinstance(value, str) and MOMENT.match(value):
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moved[name] = (at + timedelta(hours=hours)).isoformat()
    if "subtotal" in moved and hours % 3 == 0:  # some orders of another size
        moved["subtotal"] = str(Decimal(str(moved["subtotal"])) * (1 + hours % 7) / 2)
        moved.pop("refunded_amount", None)
    return moved


@st.composite
def customers(draw: Any, program: str, number: int) -> dict[str, Any]:
    """A customer of `program`: an example customer's record, with activity drawn from the
    program's example histories, moved in time (refunds and conversions with their activity)
    and some with other amounts."""
    seed = draw(st.sampled_from(SEEDS[program]))
    pool = [entry for snapshot in SEEDS[program] for entry in snapshot["activity"]]
    picks = draw(st.lists(st.sampled_from(pool), max_size=14))
    activity = [
        _shifted(entry, draw(st.integers(-24 * 150, 24 * 150)), f"-{n}")
        for n, entry in enumerate(picks)
    ]
    granted = draw(st.sampled_from([[], seed.get("granted") or []]))
    customer = {**seed["customer"], "id": f"c{number}"}
    return {"customer": customer, "activity": activity, "granted": granted}


PROPERTY = settings(
    max_examples=max(60, EXAMPLES // 3),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PROPERTY
@given(data=st.data())
def test_paired_diff_equals_two_evaluations(data: st.DataObject) -> None:
    check_paired_diff(data, sorted(PROGRAMS), CHANGES)


@PROPERTY
@given(data=st.data())
def test_paired_diff_with_tiers_equals_two_evaluations(data: st.DataObject) -> None:
    """Tiers feed the rates and (on points earned) are fed by every point: the program with
    tiers, its thresholds or basis changed, or its rules."""
    check_paired_diff(
        data, ["aurora", "aurora-plus"], [change_tiers, change_tiers, change_points, change_target]
    )


def check_paired_diff(data: st.DataObject, programs: list[str], changes: list[Any]) -> None:
    program, old, new, changed = data.draw(rule_changes(programs, changes))
    now = data.draw(st.sampled_from(NOWS))
    pairing = Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits)
    same_input = reads_alike(old, new)
    event(
        f"reused: identical={pairing.identical} earning={pairing.earning} "
        f"milestones={any(m is not None for m in pairing.milestones)}"
    )
    fast, naive = Differ(by_month=True), Differ(by_month=True)
    for number in range(data.draw(st.integers(1, 4))):
        snapshot_data = data.draw(customers(program, number))
        snapshot = old.read_snapshot(snapshot_data)
        own = new.read_snapshot(snapshot_data)
        # What `ruleengine diff` calls for each customer, here and in its --jobs workers.
        customer = Customer(f"c{number}", snapshot_data, Origin("customers.jsonl", number + 1))
        before, after = evaluate_customer((old, new), customer, now, same_input)
        expected = (old.evaluate(snapshot, now=now), new.evaluate(own, now=now))
        assert (before, after) == expected, changed
        fast.add(f"c{number}", snapshot_data, before, after)
        naive.add(f"c{number}", snapshot_data, *expected)
    assert (fast.rows(), fast.totals(), fast.customers_changed) == (
        naive.rows(),
        naive.totals(),
        naive.customers_changed,
    )


# -- what is reused -------------------------------------------------------------------------


def _engine(program: str, edit: Any) -> Engine:
    data = yaml.load(_text(DATA[program]), Loader=_Loader)
    edit(data)
    return Engine(load_ruleset(_text(data)))


def _acme_rate(data: dict[str, Any]) -> None:
    data["earning"][1]["points"] = "floor(order.subtotal * 6)"


def test_a_changed_rate_reuses_the_index_and_the_milestones() -> None:
    old = ENGINES["acme"]
    new = _engine("acme", _acme_rate)
    assert Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits) == Pairing(
        timeline=True, earning=False, milestones=(0, 1)
    )
    snapshot = old.read_snapshot(SEEDS["acme"][0])
    before, after = PairedEngines(old, new).evaluate(snapshot, NOWS[1])
    milestone_decisions = [d for d in after.decisions if d.step is not None]
    assert milestone_decisions  # the third-order bonus: the very objects OLD decided
    assert all(any(d is b for b in before.decisions) for d in milestone_decisions)
    assert after == new.evaluate(snapshot, now=NOWS[1])


def test_a_changed_target_reuses_earning() -> None:
    old = ENGINES["acme"]
    new = _engine("acme", lambda data: data["milestones"][0].update(target=4))
    pairing = Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits)
    assert pairing == Pairing(timeline=True, earning=True, milestones=(None, 1))
    snapshot = old.read_snapshot(SEEDS["acme"][0])
    before, after = PairedEngines(old, new).evaluate(snapshot, NOWS[1])
    earned = [d for d in after.decisions if d.step is None]
    assert earned and all(any(d is b for b in before.decisions) for d in earned)


@pytest.mark.parametrize("program", ["maple", "urban"])
def test_points_earned_milestones_are_evaluated_again(program: str) -> None:
    """A `points_earned` milestone counts what earning granted: never taken from OLD."""
    old = ENGINES[program]
    new = _engine(program, lambda data: data["earning"][0].update(name="Renamed"))
    pairing = Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits)
    counting = [
        index
        for index, milestone in enumerate(new.ruleset.model.milestones)
        if milestone.type.value == "points_earned"
        or any(
            step.type is not None and step.type.value == "points_earned"
            for step in milestone.steps or ()
        )
    ]
    assert counting and all(pairing.milestones[index] is None for index in counting)


def test_the_same_rules_give_the_same_result() -> None:
    old = ENGINES["acme"]
    new = Engine(load_ruleset(RULES / "acme.yaml"))
    pairing = Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits)
    assert pairing.identical
    snapshot = old.read_snapshot(SEEDS["acme"][0])
    before, after = PairedEngines(old, new).evaluate(snapshot, NOWS[1])
    assert after is before


def test_other_attributes_share_nothing() -> None:
    old = ENGINES["acme"]
    new = _engine("acme", lambda data: data["attributes"].update(segment="string?"))
    assert Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits) == Pairing(
        milestones=(None, None)
    )


def test_jobs_workers_pair_the_evaluations() -> None:
    """A `--jobs N` worker puts each customer through `evaluate_customer`: with two rulesets
    that read the data alike it is the paired evaluation (NEW holds OLD's very milestone
    decisions), with the results of two independent evaluations."""
    old = ENGINES["acme"]
    new = _engine("acme", _acme_rate)
    data = SEEDS["acme"][0]
    customer = Customer("c0", data, Origin("customers.jsonl", 1))
    now = NOWS[1]
    before, after = evaluate_customer((old, new), customer, now, True)
    milestone_decisions = [d for d in after.decisions if d.step is not None]
    assert milestone_decisions
    assert all(any(d is b for b in before.decisions) for d in milestone_decisions)
    snapshot = old.read_snapshot(data, name="c0")
    assert (before, after) == (old.evaluate(snapshot, now=now), new.evaluate(snapshot, now=now))
