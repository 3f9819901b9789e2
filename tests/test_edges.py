"""Issue 17's reproductions, one per class: each ends in a value or a located diagnostic.

The classes are generated in `tests/property/test_fuzz_edges.py`; these are the minimal
inputs that once crashed, kept as plain examples.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from ruleengine import Engine, check_ruleset, load_ruleset
from ruleengine.api import compile_conditions, compile_expression
from ruleengine.engine.snapshot import SnapshotError
from ruleengine.expr.coerce import CoercionError
from ruleengine.limits import Limits
from test_cli import run, write

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RULES = """\
version: 1
program: edges
currency: USD
timezone: Asia/Tokyo
earning:
  - id: order-points
    name: Order points
    on: order
    points: 1
  - id: birthday
    name: Birthday
    on: birthday
    points: 5
milestones:
  - id: come-back
    name: Come back
    type: inactivity
    target: 90d
    reward: {rewards: [{points: 10}]}
"""


def snapshot(**order: object) -> dict[str, object]:
    entry = {"type": "order", "id": "o1", "at": "2026-01-01T00:00:00Z", "subtotal": "10", **order}
    return {"customer": {"id": "c1", "birthday": "1990-06-01"}, "activity": [entry]}


def problems_of(engine: Engine, data: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(SnapshotError) as raised:
        engine.read_snapshot_text(json.dumps(data))
    return [(p.code, p.path) for p in raised.value.problems]


# -- item 2: day counts in rule files ---------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "path"),
    [
        ("    points: 1\n", "    points: 1\n    pending_days: 99999999999\n"),
        ("target: 90d", "target: 99999999999d"),
        ("target: 90d", "target: 9000y"),
    ],
    ids=["pending_days", "target_days", "target_years"],
)
def test_day_counts_past_the_limit_are_re517(replace: str, path: str) -> None:
    text = RULES.replace(replace, path, 1)
    assert [d.code for d in check_ruleset(text)] == ["RE520"]


def test_refund_hold_days_past_the_limit_is_re517_and_the_limit_is_the_hosts() -> None:
    text = RULES.replace(
        "target: 90d", "target: 90d\n    order_requirements: {refund_hold_days: X}"
    )
    text = text.replace("type: inactivity", "type: orders_count").replace("90d", "3")
    assert check_ruleset(text.replace("X", "3000000"))[0].code == "RE520"
    assert check_ruleset(text.replace("X", "365"), limits=Limits(max_days=300))[0].code == "RE520"
    assert check_ruleset(text.replace("X", "365")) == []


# -- item 3: timestamps at the edges of the calendar -------------------------------------------


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00Z", "1899-12-31T23:59:59Z"]
)
def test_timestamps_outside_the_supported_years_are_snapshot_problems(at: str) -> None:
    engine = Engine(load_ruleset(RULES))
    assert problems_of(engine, snapshot(at=at)) == [("RE610", "$.activity[0].at")]
    data = snapshot()
    data["customer"] = {"id": "c1", "created_at": at}
    assert problems_of(engine, data) == [("RE610", "$.customer.created_at")]


@pytest.mark.parametrize(
    "now",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1899, 12, 31, 23, tzinfo=UTC),
    ],
)
def test_now_outside_the_supported_years_is_a_value_error(now: datetime) -> None:
    engine = Engine(load_ruleset(RULES))
    with pytest.raises(ValueError, match="1900 to 9000"):
        engine.evaluate(snapshot(), now=now)


@pytest.mark.parametrize(
    "now", [datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 12, 31, 23, 59, tzinfo=UTC)]
)
def test_now_at_the_ends_of_the_supported_years_evaluates(now: datetime) -> None:
    engine = Engine(load_ruleset(RULES))
    data = snapshot(at=now.isoformat())
    data["customer"] = {"id": "c1", "birthday": "0001-01-01", "created_at": now.isoformat()}
    engine.evaluate(data, now=now)


@pytest.mark.parametrize(
    "at",
    [
        datetime(1, 1, 1, 2, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 22, tzinfo=timezone(timedelta(hours=-3))),
    ],
)
@pytest.mark.parametrize("text", ["days_since(order.at) < 30", "days_until(order.at) > 1"])
def test_bind_refuses_a_raw_timestamp_outside_the_years_as_evaluate_does(
    at: datetime, text: str
) -> None:
    expression = compile_expression(text)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    order = {"id": "o7", "at": at, "subtotal": Decimal("12.50"), "items": []}
    with pytest.raises(CoercionError, match=r"order\.at.*1900 to 9000") as evaluated:
        expression.evaluate({"order": order}, now=now, timezone="Europe/Paris")
    with pytest.raises(CoercionError) as bound:
        expression.bind(now=now, timezone="Europe/Paris")({"order": order})
    assert str(bound.value) == str(evaluated.value)
    conditions = compile_conditions([text, "order.subtotal > 10"])
    with pytest.raises(CoercionError):
        conditions.bind(now=now, timezone="Europe/Paris")({"order": order})


def test_cli_now_outside_the_supported_years_is_a_usage_error(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULES)
    data = write(tmp_path, "snapshot.json", json.dumps(snapshot()))
    for now in ("9999-12-31T23:59:00Z", "0001-01-01T00:00:00Z"):
        result = run("eval", str(rules), "--snapshot", str(data), "--now", now)
        assert result.returncode == 2, result.stderr
        assert "outside the years 1900 to 9000" in result.stderr


def test_one_bad_line_does_not_abort_a_batch(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULES)
    lines = [snapshot(), snapshot(at="9999-12-31T23:00:00Z"), snapshot()]
    batch = write(tmp_path, "batch.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    result = run("eval", str(rules), "--snapshots", str(batch), "--now", "2026-06-01T00:00:00Z")
    assert result.returncode == 1, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("error") for o in outputs] == [None, "invalid snapshot", None]


# -- items 4 and 5: numbers past Python's digit limit, amounts past any realistic size ----------


def test_integer_past_the_digit_limit_is_a_located_problem() -> None:
    engine = Engine(load_ruleset(RULES))
    text = json.dumps(snapshot()).replace('"subtotal": "10"', '"subtotal": ' + "9" * 5000)
    with pytest.raises(SnapshotError) as raised:
        engine.read_snapshot_text(text)
    (problem,) = raised.value.problems
    assert (problem.code, problem.line, problem.column) == ("RE614", 1, text.index("999") + 1)


@pytest.mark.parametrize(
    "amount", ["1E+6144", "9E+999999", "1E+30", "0.0000000000000000000000000000001"]
)
def test_amounts_past_30_digits_are_snapshot_problems(amount: str) -> None:
    engine = Engine(load_ruleset(RULES))
    text = json.dumps(snapshot()).replace('"subtotal": "10"', f'"subtotal": {amount}')
    with pytest.raises(SnapshotError) as raised:
        engine.read_snapshot_text(text)
    assert [(p.code, p.path) for p in raised.value.problems] == [
        ("RE610", "$.activity[0].subtotal")
    ]


def test_amounts_of_30_digits_still_read() -> None:
    engine = Engine(load_ruleset(RULES))
    text = json.dumps(snapshot(subtotal="9" * 30 + "." + "9" * 30))
    engine.evaluate(engine.read_snapshot_text(text), now=NOW)


# -- item 6: lone surrogates -------------------------------------------------------------------


def test_lone_surrogate_in_a_rule_file_is_re106(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULES.replace("currency: USD", 'currency: "\\uD800"'))
    assert [d.code for d in check_ruleset(rules)] == ["RE106"]
    for form in ("text", "json"):
        result = run("validate", "--format", form, str(rules))
        assert result.returncode == 1, result.stderr
    assert run("fmt", "--check", str(rules)).returncode == 1


def test_lone_surrogates_in_a_snapshot_are_located_problems(tmp_path: Path) -> None:
    engine = Engine(load_ruleset(RULES))
    data = snapshot(id="o\udc00", channel="\ud800")
    assert problems_of(engine, data) == [
        ("RE610", "$.activity[0].id"),
        ("RE610", "$.activity[0].channel"),
    ]
    rules = write(tmp_path, "rules.yaml", RULES)
    path = write(tmp_path, "snapshot.json", json.dumps(data))
    result = run("eval", str(rules), "--snapshot", str(path), "--now", "2026-06-01T00:00:00Z")
    assert result.returncode == 1, result.stderr
    assert "half of a surrogate pair" in result.stderr


# -- item 11: decision keys for ids holding the separator --------------------------------------

KEYS_RULES = """\
version: 1
program: keys
currency: USD
timezone: UTC
earning:
  - id: per-dollar
    name: Per dollar
    on: order
    points: floor(order.subtotal)
milestones:
  - id: win-back
    name: Win back
    type: inactivity
    target: 30d
    reward: {rewards: [{points: 10}]}
"""


def order(order_id: str, at: str, refunded_at: str | None = None) -> dict[str, object]:
    entry = {"type": "order", "id": order_id, "at": at, "subtotal": "10"}
    return entry if refunded_at is None else {**entry, "refunded_at": refunded_at}


def test_an_order_named_like_a_reversal_keeps_its_own_key() -> None:
    engine = Engine(load_ruleset(KEYS_RULES))
    activity = [
        order("o1", "2026-01-01T00:00:00Z", refunded_at="2026-01-03T00:00:00Z"),
        order("o1/reversal", "2026-01-02T00:00:00Z"),
    ]
    data = {"customer": {"id": "c1"}, "activity": activity}
    result = engine.evaluate(data, now=NOW)
    keys = sorted(d.key for d in result.decisions)
    assert keys == [
        "per-dollar/o1",
        "per-dollar/o1%2Freversal",
        "per-dollar/o1/reversal",
        "win-back/1/o1%2Freversal",
    ]
    # Fed back, every key stands for one decision: nothing is left to decide.
    again = engine.evaluate({**data, "granted": keys}, now=NOW)
    assert again.decisions == ()


def test_ordinary_ids_keep_their_keys_and_percent_is_escaped_too() -> None:
    engine = Engine(load_ruleset(KEYS_RULES))
    activity = [order("o-1_A.b", "2026-01-01T00:00:00Z"), order("50%", "2026-01-02T00:00:00Z")]
    result = engine.evaluate({"customer": {"id": "c1"}, "activity": activity}, now=NOW)
    assert {d.key for d in result.decisions} >= {"per-dollar/o-1_A.b", "per-dollar/50%25"}


# -- item 10: a snapshot file is measured before it is read ------------------------------------


def test_a_huge_snapshot_file_is_refused_unread(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULES)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as stream:
        stream.truncate(300 * 1_048_576)  # sparse: no disk used, 300 MB to a reader
    result = run("eval", str(rules), "--snapshot", str(huge), "--now", "2026-06-01T00:00:00Z")
    assert result.returncode == 1, result.stderr
    assert "error[RE614] the snapshot is larger than 33,554,432 bytes" in result.stderr


def test_snapshot_text_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    from ruleengine.cli.evaluate import read_text

    path = write(tmp_path, "snapshot.json", "x" * 100)
    assert read_text(str(path), 10) == "x" * 11
    assert read_text(str(path)) == "x" * 100


# -- item 9: many diagnostics on one long line -------------------------------------------------


def test_diagnostics_per_file_are_capped_with_a_count_of_the_rest() -> None:
    text = RULES + "x: &a 1\ny: [" + ", ".join(["*a"] * 20_000) + "]\n"
    diagnostics = check_ruleset(text)
    assert len(diagnostics) == 1_001
    assert {d.code for d in diagnostics[:-1]} == {"RE103"}
    last = diagnostics[-1]
    assert (last.code, last.severity.value) == ("RE110", "error")
    assert last.message == "and 19,000 more; at most 1,000 diagnostics are reported per file"
    assert max(len(d.snippet) for d in diagnostics) < 300
    few = check_ruleset(text, limits=Limits(max_diagnostics=3))
    assert [d.code for d in few] == ["RE103", "RE103", "RE103", "RE110"]


def test_a_snippet_of_a_long_line_is_a_window_with_carets_in_place() -> None:
    from ruleengine.diagnostics.render import render_text

    text = RULES + "x: &a 1\ny: [" + "1, " * 2_000 + "*a]\n"
    (diagnostic,) = check_ruleset(text)
    assert diagnostic.code == "RE103" and diagnostic.snippet_column > 1
    frame = render_text(diagnostic).split("\n")
    source, carets = frame[2], frame[3]
    assert source.startswith("21 | ...1, 1,") and source.endswith("*a]")
    assert carets.index("^") == source.index("*a]") and carets.endswith("^^")


def test_a_long_span_is_windowed_with_its_carets_and_says_where_the_window_starts() -> None:
    from ruleengine.diagnostics.render import render_text

    text = RULES.replace("    points: 1\n", "    points: " + "+".join(["1"] * 2_100) + "\n", 1)
    (diagnostic,) = (d for d in check_ruleset(text) if d.code == "RE307")
    assert (diagnostic.column, diagnostic.end_column) == (13, 4_212)
    frame = render_text(diagnostic).split("\n")
    source, carets = frame[2], frame[3]
    assert source.endswith("...") and len(source) < 260
    assert len(carets) == len(source)  # to the end of the window, not 4,200 carets
    assert carets.index("^") == source.index("1+1")
    assert diagnostic.to_dict()["snippet_column"] == 1  # cut at its end: the window starts at 1


@pytest.mark.parametrize("kind", ["points_earned", "adjustment", "redemption"])
@pytest.mark.parametrize("points", ["1.5E5000", str(10**30), str(-(10**30))])
def test_points_entries_of_any_size_end_in_a_snapshot_problem(kind: str, points: str) -> None:
    # 1.5E5000 read as a whole number of 5,001 digits used to reach the ledger's wording and
    # raise ValueError (Python's integer-string limit); every points entry is bounded on reading
    engine = Engine(load_ruleset("version: 1\nprogram: p\ncurrency: USD\ntimezone: UTC\n"))
    entry = {"type": kind, "id": "e1", "at": "2026-01-01T00:00:00Z", "points": "@N@"}
    if kind == "redemption":
        entry.update(program="gift", coupon="C1")
    snapshot = {"customer": {"id": "c1"}, "activity": [entry]}
    text = json.dumps(snapshot).replace('"@N@"', points)
    with pytest.raises(SnapshotError) as raised:
        engine.read_snapshot_text(text)
    assert {p.code for p in raised.value.problems} <= {"RE610", "RE614"}
    from_python = json.loads(text.replace(points, str(10**30)))
    with pytest.raises(SnapshotError):
        engine.read_snapshot(from_python)
