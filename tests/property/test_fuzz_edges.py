"""Edge fuzzing: inputs at the ends of every range end in a value or a located diagnostic.

Issue 17's classes, each with its own generator: day counts of any size in rule files,
timestamps and `now` anywhere in the calendar with any offset, JSON numbers of any length
and exponent, text holding lone surrogates. Every output is encoded as UTF-8, as the command
line writes it. The budget is small in CI; set RULEENGINE_FUZZ_EXAMPLES for a long run, or run
`python -m tests.fuzz`.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine import Engine, check_ruleset, load_ruleset
from ruleengine.api import compile_conditions, compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.diagnostics.render import render_json, render_text
from ruleengine.engine.result_text import render_explanations_text, render_result_text
from ruleengine.engine.snapshot import SnapshotError, render_snapshot_problem
from ruleengine.expr.coerce import CoercionError
from ruleengine.limits import Limits

EXAMPLES = max(20, int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300")) // 3)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RULES = """\
version: 1
program: edges
currency: {currency}
timezone: {zone}
earning:
  - id: order-points
    name: Order points
    on: order
    when: {when}
    points: floor(order.subtotal)
    pending_days: {pending}
  - id: birthday
    name: Birthday
    on: birthday
    points: 5
milestones:
  - id: come-back
    name: Come back
    type: inactivity
    target: {target}
    reward: {{rewards: [{{points: 10}}]}}
  - id: orders
    name: Orders
    type: orders_count
    target: 2
    order_requirements: {{refund_hold_days: {hold}}}
    reward: {{rewards: [{{points: 10}}]}}
"""
ZONES = ["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York"]


def rules(**fields: Any) -> str:
    values = {
        "currency": "USD",
        "zone": "UTC",
        "when": "order.subtotal >= 0",
        "pending": 0,
        "target": "90d",
        "hold": 0,
        **fields,
    }
    return RULES.format(**values)


def write_out(engine: Engine, snapshot: Any, now: datetime) -> None:
    """Evaluate and explain, and encode every output as the command line would."""
    result = engine.evaluate(snapshot, now=now)
    result.dumps().encode("utf-8")
    render_result_text(result, engine.ruleset.model.currency).encode("utf-8")
    render_explanations_text(engine.explain(snapshot, now=now)).encode("utf-8")
    keys = [decision.key for decision in result.decisions]
    assert len(keys) == len(set(keys)), keys


def read_or_refuse(engine: Engine, text: str) -> Any:
    """The snapshot, or None when it is refused with located problems (words encodable)."""
    try:
        return engine.read_snapshot_text(text)
    except SnapshotError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.code.startswith("RE6"), problem
            render_snapshot_problem(problem, "<snapshot>").encode("utf-8")
        return None


# -- day counts in rule files (item 2) ---------------------------------------------------------

day_counts = st.one_of(st.integers(0, 400), st.integers(0, 10**12))
durations = st.builds("{}{}".format, day_counts, st.sampled_from(["d", "w", "mo", "y", "h", "min"]))
supported_nows = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(9000, 12, 30), timezones=st.just(UTC)
)
# The snapshot below is dated 30 days before `now`: keep it inside the supported years too
# (an activity in 1899 is RE610, rightly, which is not what this test is about).
nows_a_month_into_range = st.datetimes(
    min_value=datetime(1900, 2, 1), max_value=datetime(9000, 12, 30), timezones=st.just(UTC)
)


@fuzz_settings
@given(
    pending=day_counts,
    hold=day_counts,
    target=durations,
    zone=st.sampled_from(ZONES),
    now=nows_a_month_into_range,
)
def test_day_counts_are_bounded_or_safe(
    pending: int, hold: int, target: str, zone: str, now: datetime
) -> None:
    text = rules(pending=pending, hold=hold, target=target, zone=zone)
    diagnostics = check_ruleset(text)
    if any(d.severity.value == "error" for d in diagnostics):
        assert {d.code for d in diagnostics} <= {"RE520", "RE504"}, diagnostics
        return
    engine = Engine(load_ruleset(text))
    at = (now - timedelta(days=30)).isoformat()
    snapshot = {
        "customer": {"id": "c1", "birthday": "1990-06-01", "created_at": at},
        "activity": [{"type": "order", "id": "o1", "at": at, "subtotal": "10", "refunded_at": at}],
    }
    write_out(engine, snapshot, now)


# -- timestamps and `now` anywhere in the calendar (item 3) ------------------------------------

offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
edge_moments = st.one_of(
    st.datetimes(timezones=offsets),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=offsets),
    st.datetimes(max_value=datetime(1, 1, 2), timezones=offsets),
    st.datetimes(
        min_value=datetime(1899, 12, 30), max_value=datetime(1900, 1, 2), timezones=offsets
    ),
    st.datetimes(
        min_value=datetime(9000, 12, 30), max_value=datetime(9001, 1, 2), timezones=offsets
    ),
)
edge_days = st.dates().map(lambda day: day.isoformat())


@fuzz_settings
@given(
    at=edge_moments,
    created=edge_moments,
    refunded=st.none() | edge_moments,
    birthday=edge_days,
    now=edge_moments,
    zone=st.sampled_from(ZONES),
    when=st.sampled_from(
        ["order.subtotal >= 0", "days_since(order.at) > 3", "order.at + 1y > now()"]
    ),
)
def test_timestamps_anywhere_end_in_a_value_or_a_problem(
    at: datetime,
    created: datetime,
    refunded: datetime | None,
    birthday: str,
    now: datetime,
    zone: str,
    when: str,
) -> None:
    engine = Engine(load_ruleset(rules(zone=zone, when=when, target="1w")))
    order = {"type": "order", "id": "o1", "at": at.isoformat(), "subtotal": "10"}
    if refunded is not None:
        order["refunded_at"] = refunded.isoformat()
    data = {
        "customer": {"id": "c1", "birthday": birthday, "created_at": created.isoformat()},
        "activity": [order],
    }
    snapshot = read_or_refuse(engine, json.dumps(data))
    if snapshot is None:
        return
    try:
        write_out(engine, snapshot, now)
    except ValueError as error:  # `now` outside the supported years, and only that
        assert "1900 to 9000" in str(error), error


HOST_EXPRESSIONS = [
    "days_since(order.at) < 30",
    "days_until(order.at) > 1",
    "order.at > now() - 7d",
    "order.at + 1mo > now()",
    "today() - 1d < now()",
]


@fuzz_settings
@given(
    at=edge_moments,
    now=supported_nows,
    zone=st.sampled_from(ZONES),
    texts=st.lists(st.sampled_from(HOST_EXPRESSIONS), min_size=1, max_size=3),
)
def test_host_timestamps_anywhere_end_in_a_value_or_a_documented_error(
    at: datetime, now: datetime, zone: str, texts: list[str]
) -> None:
    """`bind` takes values converted beforehand and checks nothing per call; a raw timestamp
    outside the supported years still ends as `evaluate` ends: a value, a `CoercionError`
    naming it, or a located `RuleSetError` (RE604)."""
    order = {"id": "o1", "at": at, "subtotal": Decimal("10"), "items": []}
    functions = [
        (e.evaluate, e.bind(now=now, timezone=zone))
        for e in (compile_expression(text) for text in texts)
    ]
    conditions = compile_conditions(texts).bind(now=now, timezone=zone)
    values = []
    for evaluate, bound in functions:
        checked = _outcome(partial(evaluate, {"order": order}, now=now, timezone=zone))
        unchecked = _outcome(partial(bound, {"order": order}))
        if checked[0] == "value":  # inside the years both agree; outside, bind may answer
            assert unchecked == checked, (checked, unchecked)
        values.append(unchecked)
    together = _outcome(partial(conditions, {"order": order}))
    if all(kind == "value" for kind, _ in values):
        assert together == ("value", [value for _, value in values]), (together, values)


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "value", run()
    except CoercionError as error:
        assert "order.at" in str(error), error
        return "CoercionError", None
    except RuleSetError as error:
        assert [d.code for d in error.diagnostics] == ["RE604"], error
        return "RE604", None


# -- numbers of any length and exponent (items 4 and 5) ----------------------------------------

integers = st.one_of(
    st.integers(0, 10**40).map(str),
    st.integers(1, 6000).map(lambda n: "9" * n),
)
decimals = st.builds(
    "{}.{}E{}".format,
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.one_of(st.integers(-40, 40), st.integers(-(10**6), 10**6)),
)
numbers = st.one_of(integers, decimals, decimals.map(json.dumps), integers.map(json.dumps))
NUMBER_FIELDS = ["subtotal", "total", "refunded_amount", "price", "quantity", "points"]


@fuzz_settings
@given(field=st.sampled_from(NUMBER_FIELDS), number=numbers)
def test_numbers_of_any_size_end_in_a_value_or_a_problem(field: str, number: str) -> None:
    engine = Engine(load_ruleset(rules()))
    order = {"type": "order", "id": "o1", "at": "2026-01-01T00:00:00Z", "subtotal": "10"}
    item = {"product_id": "p", "quantity": 1, "price": "1"}
    points = {"type": "points_earned", "id": "p1", "at": "2026-01-01T00:00:00Z", "points": 1}
    target = item if field in ("price", "quantity") else points if field == "points" else order
    target[field] = "@NUMBER@"
    order["items"] = [item]
    data = {"customer": {"id": "c1"}, "activity": [order, points]}
    text = json.dumps(data).replace('"@NUMBER@"', number)
    snapshot = read_or_refuse(engine, text)
    if snapshot is not None:
        write_out(engine, snapshot, NOW)


# A host's own values for the fields a ruleset declares (attributes, custom event fields), as
# data: any Decimal (NaN, sNaN, infinities, exponents of any size), floats, ints of any length.
TYPED_RULES = """\
version: 1
program: typed
currency: EUR
timezone: UTC
attributes:
  household: int?
  credit: decimal?
events:
  shared:
    count: int
    weight: decimal
earning:
  - id: shares
    name: Shares
    on: custom:shared
    points: event.count + floor(event.weight)
  - id: orders
    name: Orders
    on: order
    points: floor(order.subtotal) + coalesce(customer.household, 0)
    when: coalesce(customer.credit, 0) >= 0
"""
host_numbers = st.one_of(
    st.sampled_from([Decimal("sNaN"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Inf")]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(
        lambda d, e: Decimal(f"{d}E{e}"), st.integers(-9, 10**6), st.integers(-(10**7), 10**7)
    ),
    st.floats(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.integers(1, 5000).map(lambda n: "9" * n),
)


@fuzz_settings
@given(field=st.sampled_from(["household", "credit", "count", "weight"]), number=host_numbers)
def test_a_hosts_typed_values_end_in_a_value_or_a_problem(field: str, number: Any) -> None:
    engine = Engine(load_ruleset(TYPED_RULES))
    customer: dict[str, Any] = {"id": "c1"}
    event: dict[str, Any] = {"type": "custom:shared", "id": "e1", "at": "2026-01-02T00:00:00Z"}
    event.update(count=1, weight=Decimal("1.5"))
    order = {"type": "order", "id": "o1", "at": "2026-01-01T00:00:00Z", "subtotal": "10"}
    if field in ("household", "credit"):
        customer[field] = number
    else:
        event[field] = number
    data = {"customer": customer, "activity": [order, event]}
    try:
        snapshot = engine.read_snapshot(data)
    except SnapshotError as error:
        assert error.problems and all(p.code.startswith("RE6") for p in error.problems)
        return
    write_out(engine, snapshot, NOW)


# -- lone surrogates (item 6) ------------------------------------------------------------------

texts = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
        st.sampled_from('ab/%\\"é😀 '),
    ),
    min_size=1,
    max_size=6,
)
TEXT_FIELDS = ["id", "channel", "customer.id", "customer.tags", "granted", "type"]


@fuzz_settings
@given(field=st.sampled_from(TEXT_FIELDS), text=texts)
def test_snapshot_text_of_any_code_point_is_written_or_refused(field: str, text: str) -> None:
    engine = Engine(load_ruleset(rules()))
    order: dict[str, Any] = {
        "type": "order",
        "id": "o1",
        "at": "2026-01-01T00:00:00Z",
        "subtotal": "10",
    }
    customer: dict[str, Any] = {"id": "c1"}
    data: dict[str, Any] = {"customer": customer, "activity": [order]}
    if field == "customer.id":
        customer["id"] = text
    elif field == "customer.tags":
        customer["tags"] = [text]
    elif field == "granted":
        data["granted"] = [text]
    else:
        order[field] = text
    snapshot = read_or_refuse(engine, json.dumps(data))
    if snapshot is not None:
        write_out(engine, snapshot, NOW)


def _escaped(text: str) -> str:
    return json.dumps(text)  # a YAML double-quoted scalar reads JSON escapes alike


@fuzz_settings
@given(field=st.sampled_from(["currency", "when", "program"]), text=texts)
def test_rule_file_text_of_any_code_point_is_checked(field: str, text: str) -> None:
    if field == "when":
        source = rules(when=_escaped(f'order.channel == "{text}"'))
    elif field == "currency":
        source = rules(currency=_escaped(text))
    else:
        source = rules().replace("program: edges", f"program: {_escaped(text)}")
    diagnostics = check_ruleset(source)
    for diagnostic in diagnostics:
        render_text(diagnostic).encode("utf-8")
    render_json(diagnostics).encode("utf-8")
    if not any(d.severity.value == "error" for d in diagnostics):
        write_out(Engine(load_ruleset(source)), {"customer": {"id": "c1"}}, NOW)


# -- many diagnostics on long lines (item 9) ---------------------------------------------------

BAD_ITEMS = ["*a", "!!str x", "{on: 1, on: 2}", "x", '"\\uD800"']


@fuzz_settings
@given(
    items=st.lists(st.sampled_from(BAD_ITEMS), max_size=400),
    padding=st.integers(0, 3000),
    per_line=st.sampled_from([1, 7, 400]),
    limit=st.integers(1, 60),
)
def test_diagnostics_are_capped_and_snippets_are_windows(
    items: list[str], padding: int, per_line: int, limit: int
) -> None:
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    listed = ",\n  ".join(lines)
    text = rules() + f"x: &a 1\n# {'p' * padding}\ny: [{listed}]\n"
    diagnostics = check_ruleset(text, limits=Limits(max_diagnostics=limit))
    assert len(diagnostics) <= limit + 1
    if len(diagnostics) == limit + 1:
        assert diagnostics[-1].code == "RE110", diagnostics[-1]
    source_lines = text.split("\n")
    for diagnostic in diagnostics:
        assert len(diagnostic.snippet) <= 40 * (2 * 120 + 7), len(diagnostic.snippet)
        _assert_windowed(diagnostic, source_lines)
        first = diagnostic.snippet.split("\n")[0]
        at = diagnostic.column - diagnostic.snippet_column
        line = source_lines[diagnostic.line - 1]
        if 0 <= at < len(first) and diagnostic.column - 1 < len(line):
            assert first[at] == line[diagnostic.column - 1], diagnostic


def _assert_windowed(diagnostic: Any, source_lines: list[str]) -> None:
    """The frame's carets end with the snippet's window, and JSON says where a window of a
    long line starts."""
    frame = render_text(diagnostic)
    frame.encode("utf-8")
    if len(source_lines[diagnostic.line - 1]) > 1_000:
        assert "snippet_column" in diagnostic.to_dict(), diagnostic
    width = len(str(diagnostic.line)) + 5  # the gutter, `12 | `, with room for two more lines
    for line in frame.split("\n")[1:]:
        if re.match(r" *\d* \|", line):  # a source line or the carets under it
            assert len(line) <= width + max(len(s) for s in diagnostic.snippet.split("\n")) + 1, (
                len(line),
                diagnostic,
            )


@fuzz_settings
@given(
    before=st.integers(0, 1_500),
    terms=st.integers(1, 2_500),
    after=st.sampled_from(["", " + x", ")" * 3]),
)
def test_long_spans_are_windowed_with_their_carets(before: int, terms: int, after: str) -> None:
    expression = "0" * before + "+1" * terms + after
    text = rules(when=expression)
    for diagnostic in check_ruleset(text):
        _assert_windowed(diagnostic, text.split("\n"))


# Condition sets whose tiers sit behind filters that differ only in a string literal's spacing
# (or not at all): the set shares a filter between tiers, and must never share two different
# ones. Each condition's value in the set is its value alone.
SET_SCOPE_DECLARED = {"order": {"subtotal": "money", "note": "string"}}
spacing = st.sampled_from([" ", "  ", "\t", "\u00a0", ""])
notes = st.lists(st.sampled_from(["gift", "wrap", "a", ""]), min_size=1, max_size=3)


@fuzz_settings
@given(
    filters=st.lists(st.tuples(notes, spacing), min_size=3, max_size=6),
    note=st.tuples(notes, spacing),
    subtotal=st.integers(0, 100),
    outside=st.sampled_from([" ", "  "]),
)
def test_condition_sets_share_only_identical_filters(
    filters: list[tuple[list[str], str]],
    note: tuple[list[str], str],
    subtotal: int,
    outside: str,
) -> None:
    from ruleengine.api import declare_scope

    scope = declare_scope(SET_SCOPE_DECLARED)
    texts = [
        f'order.note =={outside}"{sep.join(words)}" and order.subtotal >= {10 * i}'
        for i, (words, sep) in enumerate(filters)
    ]
    data = {"order": {"subtotal": str(subtotal), "note": note[1].join(note[0])}}
    alone = [compile_expression(t, scope).evaluate(data, now=NOW) for t in texts]
    conditions = compile_conditions(texts, scope)
    assert conditions.evaluate(data, now=NOW) == alone
    assert conditions.bind(now=NOW)(conditions.convert(data)) == alone
    assert conditions.bind(now=NOW, convert=True)(data) == alone
