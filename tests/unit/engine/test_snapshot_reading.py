"""A `Snapshot` is read for one ruleset: another engine whose ruleset reads snapshots
differently (attributes, custom events, tiers, limits) refuses it (RE670) instead of
evaluating data its own checks never saw; its customer record is read-only."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ruleengine import Engine, Limits, Snapshot, SnapshotError, SnapshotProblem, load_ruleset

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HEAD = "version: 1\nprogram: {program}\ncurrency: EUR\ntimezone: UTC\n"
PLAIN = (
    HEAD
    + """\
earning:
  - id: op
    name: order points
    on: order
    points: floor(order.subtotal)
"""
)
TYPED = (
    HEAD
    + """\
attributes:
  vip: bool
  ltv: decimal
  since: date
events:
  quiz: {score: int}
earning:
  - id: op
    name: vip order points
    on: order
    when: customer.vip and customer.ltv > 10 and customer.since < date("2027-01-01")
    points: floor(order.subtotal * 2)
  - id: qz
    name: quiz points
    on: custom:quiz
    points: event.score * 10
"""
)
TIERED = (
    PLAIN
    + """\
tiers:
  basis: amount_spent
  period: calendar_year
  downgrade: end_of_period
  levels:
    - {id: member, name: Member, threshold: 0}
    - {id: gold, name: Gold, threshold: 300}
"""
)
CUSTOMER = {"id": "c1", "vip": True, "ltv": "100", "since": "2020-01-01"}
ORDER = {"type": "order", "id": "o1", "at": "2026-03-01T10:00:00Z", "subtotal": "40"}


def _engine(rules: str, program: str, limits: Limits | None = None) -> Engine:
    ruleset = load_ruleset(rules.replace("{program}", program))
    return Engine(ruleset) if limits is None else Engine(ruleset, limits=limits)


def _refused(error: SnapshotError) -> list[SnapshotProblem]:
    return error.problems


def _re670(read_for: str, evaluated_by: str, differences: str) -> list[SnapshotProblem]:
    return [
        SnapshotProblem(
            "RE670",
            "$",
            f"this snapshot was read for ruleset `{read_for}`, whose {differences} differ "
            f"from ruleset `{evaluated_by}`'s",
            "read the data with the engine that evaluates it (`engine.read_snapshot(data)`), "
            "or pass the data itself",
        )
    ]


@pytest.mark.parametrize("call", ["evaluate", "explain", "timeline"])
def test_a_snapshot_read_for_a_ruleset_without_the_attributes_is_refused(call: str) -> None:
    plain, typed = _engine(PLAIN, "plain"), _engine(TYPED, "typed")
    snapshot = plain.read_snapshot({"customer": CUSTOMER, "activity": [ORDER]})
    with pytest.raises(SnapshotError) as error:
        getattr(typed, call)(snapshot, now=NOW)
    assert error.value.problems == _re670("plain", "typed", "customer attributes and custom events")


def test_the_data_itself_is_read_by_the_engine_that_evaluates_it() -> None:
    plain, typed = _engine(PLAIN, "plain"), _engine(TYPED, "typed")
    data = {"customer": CUSTOMER, "activity": [ORDER]}
    plain.read_snapshot(data)  # reading it for one ruleset changes nothing for another
    assert [d.key for d in typed.evaluate(data, now=NOW).decisions] == ["op/o1"]


def test_invalid_attribute_values_are_not_let_through_by_another_reading() -> None:
    plain, typed = _engine(PLAIN, "plain"), _engine(TYPED, "typed")
    data = {"customer": {**CUSTOMER, "vip": "yes"}, "activity": [ORDER]}
    snapshot = plain.read_snapshot(data)  # `vip` is not plain's: ignored
    with pytest.raises(SnapshotError) as refused:
        typed.evaluate(snapshot, now=NOW)
    assert refused.value.problems[0].code == "RE670"
    with pytest.raises(SnapshotError) as read:
        typed.evaluate(data, now=NOW)
    assert [(p.code, p.path) for p in read.value.problems] == [("RE610", "$.customer.vip")]


def test_a_tier_sent_by_the_host_does_not_pass_re619_through_another_reading() -> None:
    plain, tiered = _engine(PLAIN, "plain"), _engine(TIERED, "tiered")
    snapshot = plain.read_snapshot({"customer": {"id": "c1", "tier": "gold"}, "activity": []})
    with pytest.raises(SnapshotError) as error:
        tiered.evaluate(snapshot, now=NOW)
    assert error.value.problems == _re670("plain", "tiered", "tiers")


def test_other_limits_read_differently() -> None:
    strict = _engine(PLAIN, "plain", Limits(max_activity=1))
    snapshot = _engine(PLAIN, "plain").read_snapshot({"customer": CUSTOMER, "activity": []})
    with pytest.raises(SnapshotError) as error:
        strict.evaluate(snapshot, now=NOW)
    assert error.value.problems == _re670("plain", "plain", "limits")


def test_a_ruleset_that_reads_alike_takes_the_snapshot() -> None:
    """Another engine of the same rules, or of other rules with the same attributes, events,
    tiers and limits (a rule change), gives what it gives for the data."""
    first, again = _engine(TYPED, "typed"), _engine(TYPED.replace("* 2", "* 3"), "typed-v2")
    data = {"customer": CUSTOMER, "activity": [ORDER]}
    snapshot = first.read_snapshot(data)
    assert again.evaluate(snapshot, now=NOW) == again.evaluate(data, now=NOW)


def test_the_customer_record_is_read_only_and_the_snapshot_pickles() -> None:
    typed = _engine(TYPED, "typed")
    snapshot = typed.read_snapshot({"customer": CUSTOMER, "activity": [ORDER]})
    with pytest.raises(TypeError):
        snapshot.customer["ltv"] = "not a number"  # type: ignore[index]  # what is tested
    copy = pickle.loads(pickle.dumps(snapshot))
    assert isinstance(copy, Snapshot)
    assert dict(copy.customer) == dict(snapshot.customer)
    assert copy.reading == snapshot.reading
    assert typed.evaluate(copy, now=NOW) == typed.evaluate(snapshot, now=NOW)


# -- the class: any two rulesets, any snapshot -------------------------------------------------

ATTRIBUTE_TYPES = {"bool": True, "decimal": "12.5", "int": 3, "date": "2020-01-01", "string": "x"}


@st.composite
def rulesets(draw: st.DrawFn, program: str) -> tuple[str, dict[str, str]]:
    names = draw(
        st.lists(st.sampled_from(["vip", "ltv", "visits", "since", "region"]), unique=True)
    )
    attributes = {name: draw(st.sampled_from(sorted(ATTRIBUTE_TYPES))) for name in names}
    text = HEAD.format(program=program)
    if attributes:
        text += "attributes:\n" + "".join(f"  {n}: {t}\n" for n, t in attributes.items())
    text += PLAIN.removeprefix(HEAD).replace("{program}", program)
    if draw(st.booleans()):
        text += TIERED.removeprefix(PLAIN)
    return text, attributes


@settings(max_examples=25, deadline=None)
@given(
    first=rulesets("first"),
    second=rulesets("second"),
    extra=st.dictionaries(
        st.sampled_from(["vip", "ltv", "visits", "since", "region"]),
        st.sampled_from(list(ATTRIBUTE_TYPES.values())),
    ),
)
def test_a_snapshot_read_by_one_engine_is_refused_or_read_as_the_other_reads_it(
    first: tuple[str, dict[str, str]], second: tuple[str, dict[str, str]], extra: dict[str, Any]
) -> None:
    engines = [Engine(load_ruleset(text)) for text, _ in (first, second)]
    declared = {name: ATTRIBUTE_TYPES[t] for name, t in {**first[1], **second[1]}.items()}
    data = {"customer": {"id": "c1", **extra, **declared}, "activity": [ORDER]}
    try:
        snapshot = engines[0].read_snapshot(data)
    except SnapshotError:
        return  # the first ruleset refuses the data: nothing to hand over
    try:
        own: Any = engines[1].evaluate(data, now=NOW)
    except SnapshotError as error:
        own = error.problems
    try:
        handed: Any = engines[1].evaluate(snapshot, now=NOW)
    except SnapshotError as error:
        if error.problems[0].code == "RE670":
            assert engines[0].reading != engines[1].reading
            event("refused: read for another ruleset")
            return
        handed = error.problems
    event("taken: the rulesets read alike")
    assert handed == own
