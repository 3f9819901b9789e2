"""Resource limits: oversized or hostile input ends in a located diagnostic, quickly."""

from __future__ import annotations

import os
import threading
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import Engine, SnapshotError, check_ruleset, load_ruleset
from ruleengine.api import compile_conditions, compile_expression, declare_scope
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.diagnostics.source import SourceFile
from ruleengine.limits import Limits, json_depth
from ruleengine.rules.formatter import format_source
from test_cli import run, write

HEADER = "version: 1\nprogram: p\ncurrency: USD\ntimezone: UTC\n"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def codes(text: str, limits: Limits | None = None) -> list[tuple[str, int, int]]:
    found = check_ruleset(text, limits=limits) if limits else check_ruleset(text)
    return [(d.code, d.line, d.column) for d in found]


def test_file_size_limit() -> None:
    text = HEADER + "name: " + "x" * 200 + "\n"
    assert codes(text, Limits(max_file_bytes=100)) == [("RE108", 1, 1)]


def test_file_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", HEADER + "# " + "x" * 5000 + "\n")
    assert [d.code for d in check_ruleset(path, limits=Limits(max_file_bytes=1000))] == ["RE108"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_device_is_refused_after_reading_at_most_the_limit() -> None:
    # /dev/zero has no size to check first: the reader stops one byte past the limit
    found = check_ruleset("/dev/zero", limits=Limits(max_file_bytes=1000))
    assert [(d.code, d.line, d.column) for d in found] == [("RE108", 1, 1)]


def test_fifo_is_read_up_to_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    text = HEADER + "# " + "x" * 5000 + "\n"

    def feed() -> None:
        try:
            with fifo.open("w") as stream:
                stream.write(text)
        except BrokenPipeError:  # the reader stopped at the limit: as intended
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    found = check_ruleset(fifo, limits=Limits(max_file_bytes=1000))
    writer.join()
    assert [d.code for d in found] == ["RE108"]


def test_rule_count_limit() -> None:
    rules = "".join(f"  - {{id: r{n}, name: R, on: signup, points: 1}}\n" for n in range(5))
    assert codes(HEADER + "earning:\n" + rules, Limits(max_rules=4)) == [("RE516", 5, 1)]


def test_step_and_reward_limits() -> None:
    steps = "".join(
        f"      - {{target: {n}, reward: {{rewards: [{{points: 1}}]}}}}\n" for n in range(1, 5)
    )
    text = HEADER + (
        "milestones:\n  - id: m\n    name: M\n    type: orders_count\n    steps:\n" + steps
    )
    assert codes(text, Limits(max_steps=3)) == [("RE516", 9, 5)]
    many = ", ".join(["{points: 1}"] * 4)
    text = HEADER + (
        "milestones:\n  - id: m\n    name: M\n    type: orders_count\n"
        f"    target: 1\n    reward: {{rewards: [{many}]}}\n"
    )
    assert codes(text, Limits(max_rewards=3)) == [("RE516", 10, 14)]


def test_expression_length_limit() -> None:
    long = " or ".join(["order.subtotal > 1"] * 300)
    text = (
        HEADER + f"earning:\n  - id: a\n    name: A\n    on: order\n    when: {long}\n"
        "    points: 1\n"
    )
    assert codes(text) == [("RE307", 9, 11)]


def test_list_literal_limit() -> None:
    items = ", ".join(f'"r{n}"' for n in range(20))
    text = HEADER + (
        "earning:\n  - id: a\n    name: A\n    on: order\n"
        f"    when: order.channel in [{items}]\n    points: 1\n"
    )
    assert codes(text, Limits(max_list_items=10)) == [("RE308", 9, 28)]


def test_huge_numbers_are_refused_not_computed() -> None:
    text = HEADER + (
        "earning:\n  - id: a\n    name: A\n    on: order\n"
        "    points: 10000000000000000000000000000000000000000 * 99999\n"
    )
    assert codes(text) == [("RE309", 9, 13)]


def test_deep_nesting_is_a_diagnostic() -> None:
    # Parentheses alone add no depth to the tree; nested calls do.
    text = HEADER + (
        f"earning:\n  - id: a\n    name: A\n    on: order\n    points: {'abs(' * 200}1{')' * 200}\n"
    )
    assert [c for c, _, _ in codes(text)] == ["RE301"]


def test_json_depth_counts_without_recursion() -> None:
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    assert json_depth(deep, 64) == 65  # stops as soon as it is past the limit
    assert json_depth({"a": [1, {"b": 2}]}, 64) == 4


def test_snapshot_depth_and_size_limits() -> None:
    engine = Engine(load_ruleset(Path("examples/rules/acme.yaml")), limits=Limits(max_activity=2))
    deep: object = "x"
    for _ in range(100):
        deep = {"k": deep}
    with pytest.raises(SnapshotError) as raised:
        engine.evaluate({"customer": {"id": "c", "region": "EU", "notes": deep}}, now=NOW)
    assert [(p.code, p.path) for p in raised.value.problems] == [("RE614", "$")]
    activity = [{"type": "signup", "id": f"s{n}", "at": "2026-01-01T00:00:00Z"} for n in range(3)]
    with pytest.raises(SnapshotError) as raised:
        engine.evaluate({"customer": {"id": "c", "region": "EU"}, "activity": activity}, now=NOW)
    assert [(p.code, p.path) for p in raised.value.problems] == [("RE614", "$.activity")]


def test_points_per_decision_limit() -> None:
    rules = HEADER + (
        "earning:\n  - id: a\n    name: A\n    on: order\n"
        "    points: floor(order.subtotal * 1000000)\n"
    )
    engine = Engine(load_ruleset(rules), limits=Limits(max_points=1_000_000))
    snapshot = {
        "customer": {"id": "c"},
        "activity": [{"type": "order", "id": "o1", "at": "2026-05-01T00:00:00Z", "subtotal": "5"}],
    }
    result = engine.evaluate(snapshot, now=NOW).to_json()
    assert result["decisions"] == []
    assert [(p["code"], p["line"], p["column"]) for p in result["problems"]] == [("RE602", 9, 13)]


def test_deeply_nested_snapshot_json_on_the_cli(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    result = run(
        "eval", "examples/rules/acme.yaml", "--snapshot", str(path), "--now", "2026-06-01T00:00:00Z"
    )
    assert result.returncode == 1
    assert "error[RE614]" in result.stderr and "Traceback" not in result.stderr


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_rules"):
        Limits(max_rules=0)


# -- nesting depth of a rule file's lists and mappings ------------------------------------------


def nested(kind: str, depth: int) -> str:
    """`earning:` holding `depth` collections of one kind inside one another."""
    if kind == "flow_sequence":
        return "earning: " + "[" * depth + "1" + "]" * depth + "\n"
    if kind == "flow_mapping":
        return "earning: " + "{a: " * depth + "1" + "}" * depth + "\n"
    if kind == "block_sequence":
        return "earning:\n" + "- " * depth + "1\n"
    assert kind == "block_mapping"
    keys = [" " * level + "a:" for level in range(1, depth + 1)]
    return "earning:\n" + "\n".join(keys) + " 1\n"


NESTING_KINDS = ["flow_sequence", "flow_mapping", "block_sequence", "block_mapping"]


@pytest.mark.parametrize("kind", NESTING_KINDS)
def test_nesting_depth_limit(kind: str) -> None:
    text = HEADER + nested(kind, 600)
    found = check_ruleset(text)
    assert [d.code for d in found] == ["RE109"]
    assert found[0].message == "lists and mappings are nested more than 64 levels deep"
    # The 64th collection inside the root mapping is the first one too deep.
    lines = {"flow_sequence": 5, "flow_mapping": 5, "block_sequence": 6, "block_mapping": 69}
    assert found[0].line == lines[kind]


@pytest.mark.parametrize("kind", NESTING_KINDS)
def test_nesting_depth_limit_is_configurable(kind: str) -> None:
    text = HEADER + nested(kind, 4)  # the root mapping, `earning` and 4 more
    assert "RE109" not in [code for code, _, _ in codes(text, Limits(max_nesting_depth=5))]
    assert [code for code, _, _ in codes(text, Limits(max_nesting_depth=4))] == ["RE109"]


@pytest.mark.parametrize("kind", NESTING_KINDS)
def test_nesting_depth_limit_in_validate_and_fmt(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path, "deep.yaml", HEADER + nested(kind, 600))
    before = path.read_text()
    validate = run("validate", str(path))
    fmt = run("fmt", str(path))
    assert (validate.returncode, fmt.returncode) == (1, 1)
    located = next(line for line in validate.stdout.splitlines() if "error[RE109]" in line)
    assert located in fmt.stderr
    assert path.read_text() == before


def test_nesting_beyond_the_stack_is_refused_even_under_a_higher_limit() -> None:
    text = HEADER + nested("flow_sequence", 5000)
    found = check_ruleset(text, limits=Limits(max_nesting_depth=100_000))
    assert [(d.code, d.line) for d in found] == [("RE109", 5)]


@st.composite
def nestings(draw: st.DrawFn) -> tuple[str, int]:
    """`earning:` holding block lists and mappings, then flow ones inside them (a flow
    collection holds no block one); returns the text and its depth, the root mapping's 1
    included."""
    block = draw(st.lists(st.sampled_from(["-", "a:"]), max_size=60))
    flow = draw(st.lists(st.sampled_from(["[", "{a: "]), max_size=60))
    lines, indent = ["earning:"], 1
    for opener in block:
        lines.append(" " * indent + opener)
        indent += 2
    closers = "".join("]" if opener == "[" else "}" for opener in reversed(flow))
    lines.append(" " * indent + "".join(flow) + "1" + closers)
    return HEADER + "\n".join(lines) + "\n", 1 + len(block) + len(flow)


@settings(max_examples=100, deadline=None, database=None)
@given(nesting=nestings(), limit=st.sampled_from([8, 64]))
def test_nesting_depth_is_refused_in_validate_and_fmt(nesting: tuple[str, int], limit: int) -> None:
    text, depth = nesting
    limits = Limits(max_nesting_depth=limit)
    found = [code for code, _, _ in codes(text, limits)]
    formatted = format_source(SourceFile("t.yaml", text), limits)
    if depth > limit:
        assert found == ["RE109"]
        assert [d.code for d in formatted.diagnostics] == ["RE109"]
    else:
        assert "RE109" not in found
        assert formatted.ok, formatted.error


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("n in [" + ",".join(["1"] * 1_001) + "]", "RE308"),
        ("n in [" + ",".join(["1"] * 200_000) + "]", "RE307"),  # took ~2 s to compile before
        ("n > " + "9" * 31, "RE309"),
        ('n > 1 or "' + "x" * 4_000 + '" == "y"', "RE307"),
    ],
)
def test_the_python_api_applies_the_expression_limits(text: str, code: str) -> None:
    """`compile_expression` applied none of them (a 49k-character expression, a 1,001-element
    list and a 4,300-digit literal compiled); they are those of a rule file, and a host may
    pass its own `Limits`."""
    scope = declare_scope({"n": "int"})
    with pytest.raises(RuleSetError) as raised:
        compile_expression(text, scope)
    assert [d.code for d in raised.value.diagnostics] == [code]
    with pytest.raises(RuleSetError):
        compile_conditions(["n > 1", text], scope)
    roomy = Limits(max_expression_chars=10**7, max_list_items=10**6, max_number_digits=100)
    assert compile_expression(text, scope, limits=roomy).type is not None


def _depth_reference(value: object) -> int:
    """`json_depth` by recursion: a scalar is 1, a container one more than its deepest child
    (1 when empty)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return 1 + max((_depth_reference(v) for v in value), default=0)
    return 1


JSON_VALUES = st.recursive(
    st.none() | st.integers() | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, limit=st.integers(min_value=1, max_value=12))
def test_json_depth_is_the_depth_or_past_the_limit(value: object, limit: int) -> None:
    depth = _depth_reference(value)
    found = json_depth(value, limit)
    assert found == depth if depth <= limit else found > limit


def test_json_depth_of_a_wide_value_takes_no_memory_per_element() -> None:
    """A host's customer field of 300,000 lists: the walk holds one iterator per level, not
    an entry per pending list (~72 bytes each, 21 MB here, before)."""
    wide: list[object] = [[] for _ in range(300_000)]
    tracemalloc.start()
    try:
        assert json_depth({"junk": wide}, 64) == 3
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000
