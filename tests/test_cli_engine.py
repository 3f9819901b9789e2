"""`ruleengine eval` and `ruleengine explain` as a user runs them on the bundled examples."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import ROOT, run, write

ACME = "examples/rules/acme.yaml"
MARIA = "examples/snapshots/acme-maria.json"
NOW = "2026-06-01T00:00:00Z"


def test_eval_prints_the_result_contract() -> None:
    result = run("eval", ACME, "--snapshot", MARIA, "--now", NOW)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["program"] == "acme-rewards" and output["customer"] == "c-1001"
    assert output["evaluated_at"] == "2026-06-01T00:00:00Z"
    assert output["ruleset_hash"].startswith("sha256:")
    keys = [d["key"] for d in output["decisions"]]
    assert "loyalty-journey/2" in keys and "signup-bonus/su1" not in keys  # already granted
    journey = next(d for d in output["decisions"] if d["key"] == "loyalty-journey/2")
    assert journey["logic"] == "customer_picks" and journey["pick"] == 1


def test_eval_is_deterministic() -> None:
    first = run("eval", ACME, "--snapshot", MARIA, "--now", NOW).stdout
    assert first == run("eval", ACME, "--snapshot", MARIA, "--now", NOW).stdout


def test_eval_text_shows_progress_bars() -> None:
    result = run(
        "eval", ACME, "--snapshot", MARIA, "--now", "2026-04-10T00:00:00Z", "--format", "text"
    )
    assert result.returncode == 0
    assert "loyalty-journey  step 1/3  [######--------------] 1/3  2 more orders" in result.stdout


def test_eval_reads_stdin(tmp_path: Path) -> None:
    import subprocess
    import sys

    snapshot = (ROOT / MARIA).read_text()
    completed = subprocess.run(
        [sys.executable, "-m", "ruleengine", "eval", ACME, "--now", NOW],
        input=snapshot,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert completed.returncode == 0
    assert json.loads(completed.stdout)["customer"] == "c-1001"


def test_eval_json_lines(tmp_path: Path) -> None:
    snapshot = json.loads((ROOT / MARIA).read_text())
    other = {"customer": {"id": "c2", "region": "US"}, "activity": []}
    lines = write(
        tmp_path, "batch.jsonl", json.dumps(snapshot) + "\n" + json.dumps(other) + "\n{broken\n"
    )
    result = run("eval", ACME, "--snapshots", str(lines), "--now", NOW)
    assert result.returncode == 1  # the third line is not JSON
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("customer") for o in outputs[:2]] == ["c-1001", "c2"]
    assert outputs[2] == {
        "line": 3,
        "error": "invalid snapshot",
        "problems": [
            {
                "code": "RE611",
                "path": "$",
                "message": "the snapshot is not valid JSON: Expecting property name enclosed "
                "in double quotes",
                "line": 3,
                "column": 2,
            }
        ],
    }
    assert "batch.jsonl:3:2: error[RE611]" in result.stderr


def test_snapshot_that_is_not_json_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{"customer": {"id": "c1",}}')
    result = run("eval", ACME, "--snapshot", str(path), "--now", NOW)
    assert result.returncode == 1
    assert f"{path}:1:26: error[RE611] the snapshot is not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_snapshot_errors_name_their_json_path(tmp_path: Path) -> None:
    snapshot = {
        "customer": {"id": "c1", "region": "EU"},
        "activity": [
            {"type": "order", "id": "o1", "at": "2026-02-01T12:00:00", "subtotal": "42.50"},
            {"type": "reveiw", "id": "r1", "at": "2026-02-01T12:00:00Z"},
        ],
    }
    path = write(tmp_path, "s.json", json.dumps(snapshot))
    result = run("eval", ACME, "--snapshot", str(path), "--now", NOW)
    assert result.returncode == 1
    assert "$.activity[0].at: error[RE610]" in result.stderr
    assert (
        "$.activity[1].type: error[RE613] unknown activity type `reveiw` (hint: did you "
        "mean `review`?)" in result.stderr
    )


def test_impossible_refunds_are_refused_with_exit_1(tmp_path: Path) -> None:
    order = {"type": "order", "id": "o1", "at": "2026-02-05T12:00:00Z", "subtotal": "40.00"}
    snapshot = {
        "customer": {"id": "c1", "region": "EU"},
        "activity": [
            {**order, "refunded_at": "2026-02-01T12:00:00Z", "refunded_amount": "45.00"},
        ],
    }
    path = write(tmp_path, "s.json", json.dumps(snapshot))
    result = run("eval", ACME, "--snapshot", str(path), "--now", NOW)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "$.activity[0].refunded_at: error[RE615] order `o1` is refunded" in result.stderr
    assert "$.activity[0].refunded_amount: error[RE616] order `o1` has 45.00" in result.stderr


def test_missing_attribute_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "s.json", json.dumps({"customer": {"id": "c1"}}))
    result = run("eval", ACME, "--snapshot", str(path), "--now", NOW)
    assert result.returncode == 1
    assert "$.customer.region: error[RE610] missing field `region`" in result.stderr


def test_invalid_rules_exit_1_before_reading_the_snapshot(tmp_path: Path) -> None:
    rules = write(tmp_path, "r.yaml", "version: 1\nprogram: p\n")
    result = run("eval", str(rules), "--snapshot", MARIA, "--now", NOW)
    assert result.returncode == 1
    assert "error[RE202] missing required key `currency`" in result.stderr


def test_missing_snapshot_file_exits_2(tmp_path: Path) -> None:
    result = run("eval", ACME, "--snapshot", str(tmp_path / "none.json"), "--now", NOW)
    assert result.returncode == 2


def test_naive_now_is_a_usage_error() -> None:
    result = run("eval", ACME, "--snapshot", MARIA, "--now", "2026-06-01T00:00:00")
    assert result.returncode == 2
    assert "no time zone offset" in result.stderr


def test_explain_one_rule_in_words() -> None:
    result = run(
        "explain",
        ACME,
        "--snapshot",
        MARIA,
        "--now",
        "2026-04-10T00:00:00Z",
        "--rule",
        "loyalty-journey",
    )
    assert result.returncode == 0
    assert result.stdout.splitlines()[:5] == [
        "loyalty-journey step 1: in progress",
        "    - 1 of 3 orders",
        "    - 2 more orders",
        "    - order o2 ($25.00) is below the $30.00 minimum and does not count",
        "    - order o3 was refunded on 2026-04-05, within its 14-day refund hold, and does "
        "not count",
    ]


def test_explain_unknown_rule_is_a_usage_error() -> None:
    result = run("explain", ACME, "--snapshot", MARIA, "--now", NOW, "--rule", "nope")
    assert result.returncode == 2


def test_explain_json() -> None:
    result = run("explain", ACME, "--snapshot", MARIA, "--now", NOW, "--format", "json")
    explanations = json.loads(result.stdout)
    assert {
        "rule": "signup-bonus",
        "step": None,
        "activity": "su1",
        "status": "already_granted",
        "reasons": ["200 points; already granted (`signup-bonus/su1` is in `granted`)"],
    } in explanations


ONE_POINT = """\
version: 1
program: tiny
currency: USD
timezone: UTC
earning:
  - id: visit
    name: One point a visit
    on: order
    points: 1
"""


def _one_point_snapshot(tmp_path: Path) -> Path:
    snapshot = {
        "customer": {"id": "c1"},
        "activity": [
            {"type": "order", "id": "o1", "at": "2026-02-01T12:00:00Z", "subtotal": "5"},
            {"type": "order", "id": "o2", "at": "2026-02-02T12:00:00Z", "subtotal": "5"},
            {
                "type": "order",
                "id": "o3",
                "at": "2026-02-03T12:00:00Z",
                "subtotal": "5",
                "refunded_at": "2026-02-04T12:00:00Z",
            },
        ],
        "granted": ["visit/o2"],
    }
    return write(tmp_path, "one.json", json.dumps(snapshot))


def test_text_output_says_1_point_not_1_points(tmp_path: Path) -> None:
    rules = write(tmp_path, "tiny.yaml", ONE_POINT)
    snapshot = _one_point_snapshot(tmp_path)
    args = ("--snapshot", str(snapshot), "--now", NOW, "--format", "text")
    evaluated = run("eval", str(rules), *args)
    explained = run("explain", str(rules), *args)
    assert evaluated.returncode == explained.returncode == 0, evaluated.stderr
    assert "  visit/o1           1 point\n" in evaluated.stdout
    assert "  visit/o3/reversal  -1 point  [reversed]" in evaluated.stdout
    assert explained.stdout.splitlines() == [
        "visit · o1: granted",
        "    - 1 point",
        "visit · o2: already granted",
        "    - 1 point; already granted (`visit/o2` is in `granted`)",
        "visit · o3: granted",
        "    - 1 point",
        "visit · o3: reversed",
        "    - 1 point reversed: order o3 was refunded",
    ]


QUIET = """\
version: 1
program: quiet
currency: USD
timezone: UTC
earning:
  - id: birthday
    name: Birthday points
    on: birthday
    points: 100
  - id: review-points
    name: Points for reviews
    on: review
    points: 10
  - id: summer
    name: Summer orders
    on: order
    active: {from: 2026-07-01, until: 2026-08-31}
    points: 5
  - id: off
    name: Switched off
    on: order
    enabled: false
    points: 1
"""


def test_explain_says_why_a_rule_gave_nothing(tmp_path: Path) -> None:
    rules = write(tmp_path, "quiet.yaml", QUIET)
    snapshot = {
        "customer": {"id": "c1"},
        "activity": [{"type": "review", "id": "r1", "at": "2026-06-02T12:00:00Z", "rating": 5}],
    }
    path = write(tmp_path, "s.json", json.dumps(snapshot))
    args = ("--snapshot", str(path), "--now", NOW)
    assert run("explain", str(rules), *args, "--rule", "birthday").stdout.splitlines() == [
        "birthday: no activity",
        "    - the customer has no `birthday` in the snapshot",
    ]
    assert run("explain", str(rules), *args).stdout.splitlines() == [
        "off: disabled",  # the engine explains a disabled rule itself, before the others
        "    - the rule is disabled (`enabled: false`)",
        "birthday: no activity",
        "    - the customer has no `birthday` in the snapshot",
        "review-points: no activity",
        "    - no `review` activity in the snapshot before now",  # r1 is after `now`
        "summer: inactive",
        "    - not active until 2026-07-01",
    ]
    excluded = {"customer": {"id": "c1", "excluded": True}, "activity": []}
    path = write(tmp_path, "x.json", json.dumps(excluded))
    result = run("explain", str(rules), "--snapshot", str(path), "--now", NOW, "--rule", "birthday")
    assert result.stdout.splitlines() == [
        "birthday: not eligible",
        "    - the customer is excluded from the program",
    ]


def test_explain_unknown_rule_names_the_known_ones() -> None:
    result = run("explain", ACME, "--snapshot", MARIA, "--now", NOW, "--rule", "nope")
    assert result.returncode == 2
    assert (
        "no rule `nope` in examples/rules/acme.yaml; its rules are `signup-bonus`, "
        "`order-points`, `third-order`, `loyalty-journey`" in result.stderr
    )


PER_VISIT = """\
version: 1
program: per-visit
currency: USD
timezone: UTC
attributes:
  visits: int
earning:
  - id: per-visit
    name: Points shared over visits
    on: order
    points: floor(100 / customer.visits)
"""


def test_runtime_problems_are_data_and_fail_only_with_strict(tmp_path: Path) -> None:
    rules = write(tmp_path, "per-visit.yaml", PER_VISIT)
    order = {"type": "order", "id": "o1", "at": "2026-02-01T12:00:00Z", "subtotal": "5"}
    snapshot = {"customer": {"id": "c1", "visits": 0}, "activity": [order]}  # 100 / 0
    path = write(tmp_path, "s.json", json.dumps(snapshot))
    args = ("eval", str(rules), "--snapshot", str(path), "--now", NOW)
    default, strict = run(*args), run(*args, "--strict")
    assert (default.returncode, strict.returncode) == (0, 1)
    assert strict.stdout == default.stdout  # the result is printed all the same
    assert json.loads(strict.stdout)["problems"] == [
        {
            "code": "RE601",
            "rule": "per-visit",
            "message": "division by zero",
            "file": str(rules),
            "line": 11,
            "column": 19,
        }
    ]
    text = run(*args, "--strict", "--format", "text")
    assert text.returncode == 1 and "error[RE601] division by zero" in text.stdout
    snapshot["customer"] = {"id": "c1", "visits": 4}
    path = write(tmp_path, "s.json", json.dumps(snapshot))
    assert (
        run("eval", str(rules), "--snapshot", str(path), "--now", NOW, "--strict").returncode == 0
    )
