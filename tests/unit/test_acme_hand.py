"""The hand-written acme program the benchmarks measure against decides what the engine
decides: a change of the engine's keys or rules that the baseline does not follow would stop
`python -m benchmarks` (it asserts the same) long after the change landed."""

from __future__ import annotations

from benchmarks import data
from benchmarks.full import ACME, _hand_summary, summary

from ruleengine import Engine, load_ruleset


def test_the_hand_written_acme_program_decides_as_the_engine() -> None:
    engine = Engine(load_ruleset(ACME))
    snapshots = [data.as_json(s) for s in data.customers(120)]
    assert any(  # partial refunds, whose reversal keys name the amount, are among them
        "/reversal/" in d.key for s in snapshots for d in engine.evaluate(s, now=data.NOW).decisions
    )
    for snapshot in snapshots:
        assert summary(engine.evaluate(snapshot, now=data.NOW)) == _hand_summary(snapshot)
