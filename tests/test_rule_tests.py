"""`ruleengine test` and the pytest plugin, end to end: the real CLI as a subprocess (as in
tests/test_cli.py) on the fixture files in tests/rule_tests/, and the plugin with `pytester`.

`tests/rule_tests/shop.yaml` has 3 rules, 2 milestone steps and one `when` condition (2
branches); `passing.test.yaml` exercises 2 rules, 1 step and both branches: 5 of 7 items.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ruleengine import pytest_plugin, testing
from ruleengine.testing.coverage import shortfall_text

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent
FIXTURES = Path("tests") / "rule_tests"  # relative to ROOT, as a user would type it


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "ruleengine", "test", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.rstrip("\n").splitlines()[-1]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


# -- outcomes and exit codes -----------------------------------------------------------------


def test_passing_file_exits_0_with_the_summary_last() -> None:
    result = run("--verbose", fixture("passing.test.yaml"))
    assert result.returncode == 0, result.stdout
    assert f"PASS {fixture('passing.test.yaml')}:6: ann's first orders" in result.stdout
    assert "FAIL" not in result.stdout
    assert last_line(result) == "3 passed, 0 failed"


def test_failing_case_shows_a_diff_and_exits_1() -> None:
    result = run(fixture("failing.test.yaml"))
    assert result.returncode == 1
    out = result.stdout
    assert f"FAIL {fixture('failing.test.yaml')}:8: wrong points and a missing decision" in out
    # The wrong value is a changed line, next to the actual one; the matched key is context.
    expected_diff = "\n".join(
        [
            "  decisions differ (- expected, + actual):",
            "    --- expected",
            "    +++ actual",
            "    @@ -1,3 +1,2 @@",
            "    -{key: order-points/o1, points: 26}",
            "    +{key: order-points/o1, points: 25}",
            "     order-ladder/1",
            "    -order-ladder/2",
        ]
    )
    assert expected_diff in out
    assert "    -{rule: order-ladder, current: 3}\n    +{rule: order-ladder, current: 2}" in out
    assert "this one passes" not in out
    assert last_line(result) == "1 passed, 1 failed"


def test_every_decision_must_be_expected(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "rules: shop.yaml\n"
        "now: 2026-04-01T00:00:00Z\n"
        "cases:\n"
        "  - name: one decision left out\n"
        "    snapshot: snapshots/ann.json\n"
        "    expect: {decisions: [order-points/o1]}\n",
    )
    result = run(str(path))
    assert result.returncode == 1
    assert "     order-points/o1\n    +order-ladder/1\n" in result.stdout


def test_invalid_test_file_exits_1_with_a_located_error() -> None:
    result = run(fixture("invalid.test.yaml"))
    assert result.returncode == 1
    assert (
        f"{fixture('invalid.test.yaml')}:8:7: error[RE201] unknown key `progres` in case 1"
        in result.stdout
    )
    assert "8 |       progres: []" in result.stdout
    assert "= hint: did you mean `progress`?" in result.stdout
    assert last_line(result) == "0 passed, 1 failed"
    assert_no_traceback(result)


def test_missing_rule_file_is_reported_at_rules() -> None:
    result = run(fixture("missing-rules.test.yaml"))
    assert result.returncode == 1
    assert (
        f"{fixture('missing-rules.test.yaml')}:1:8: error[RE100] the rule file "
        f"`{fixture('no-such-rules.yaml')}` does not exist" in result.stdout
    )


def test_missing_snapshot_fails_its_case_and_the_others_still_run() -> None:
    result = run(fixture("missing-snapshot.test.yaml"))
    assert result.returncode == 1
    out = result.stdout
    assert f"ERROR {fixture('missing-snapshot.test.yaml')}:4: the snapshot file is missing" in out
    assert f"{fixture('missing-snapshot.test.yaml')}:5:15: error[RE100] the snapshot file" in out
    assert last_line(result) == "1 passed, 1 failed"


def test_rule_file_errors_are_reported_with_their_own_location() -> None:
    result = run(fixture("broken/broken-rules.test.yaml"))
    assert result.returncode == 1
    assert (
        f"{fixture('broken/rules.yaml')}:9:25: error[RE402] unknown field `subtotl` on `order`"
        in result.stdout
    )


def test_folder_without_test_files_exits_2(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("version: 1\n", encoding="utf-8")
    result = run(str(tmp_path))
    assert result.returncode == 2
    assert "no rule test files" in result.stderr


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nothing.test.yaml"), fixture("passing.test.yaml"))
    assert result.returncode == 2
    assert "error[RE100]" in result.stdout and "no such file" in result.stdout
    assert_no_traceback(result)


def test_folders_are_searched_recursively(tmp_path: Path) -> None:
    shutil.copytree(ROOT / FIXTURES, tmp_path / "suite")
    hidden = tmp_path / "suite" / ".cache"
    hidden.mkdir()
    (hidden / "stale.test.yaml").write_text("not: valid\n", encoding="utf-8")
    result = run("--format", "json", str(tmp_path / "suite"))
    files = [Path(f).name for f in json.loads(result.stdout)["files"]]
    assert files == [
        "broken-rules.test.yaml",  # suite/broken/ sorts before suite/failing.test.yaml
        "failing.test.yaml",
        "invalid.test.yaml",
        "missing-rules.test.yaml",
        "missing-snapshot.test.yaml",
        "passing.test.yaml",
    ]


def test_a_wrong_balance_shows_a_diff(tmp_path: Path) -> None:
    # Ann: 25 points for o1 and 5 for the first step of the ladder, 30 active.
    path = write_suite(
        tmp_path,
        "rules: shop.yaml\n"
        "now: 2026-04-01T00:00:00Z\n"
        "cases:\n"
        "  - name: right balance\n"
        "    snapshot: snapshots/ann.json\n"
        "    expect: {balance: {active: 30, earned: 30, expired: 0}}\n"
        "  - name: wrong balance\n"
        "    snapshot: snapshots/ann.json\n"
        "    expect: {balance: {active: 25, pending: 0}}\n",
    )
    result = run(str(path))
    assert result.returncode == 1, result.stdout
    assert "  balance differ (- expected, + actual):\n" in result.stdout
    assert "    -{active: 25, pending: 0}\n    +{active: 30, pending: 0}\n" in result.stdout
    assert last_line(result) == "1 passed, 1 failed"


def test_a_wrong_tier_shows_a_diff(tmp_path: Path) -> None:
    # Lea (examples/rules/aurora-beauty.yaml) is Gold with 850.00 spent on 1 September 2026.
    shutil.copy(ROOT / "examples/rules/aurora-beauty.yaml", tmp_path / "aurora.yaml")
    shutil.copy(ROOT / "examples/snapshots/aurora-lea.json", tmp_path / "lea.json")
    path = tmp_path / "aurora.test.yaml"
    path.write_text(
        "rules: aurora.yaml\n"
        "now: 2026-09-01T00:00:00Z\n"
        "cases:\n"
        "  - name: right tier\n"
        "    snapshot: lea.json\n"
        "    expect: {tier: {current: gold, tier_points: 850, remaining: '150.00'}}\n"
        "  - name: wrong tier\n"
        "    snapshot: lea.json\n"
        "    expect: {tier: {current: platinum, next: null}}\n",
        encoding="utf-8",
    )
    result = run(str(path))
    assert result.returncode == 1, result.stdout
    assert "  tier differ (- expected, + actual):\n" in result.stdout
    assert "    -{current: platinum, next: null}\n    +{current: gold, next: platinum}\n" in (
        result.stdout
    )
    assert last_line(result) == "1 passed, 1 failed"


def test_the_examples_pass() -> None:
    result = run("examples/")
    assert result.returncode == 0, result.stdout
    assert re.fullmatch(r"\d+ passed, 0 failed", last_line(result))


# -- formats -----------------------------------------------------------------------------------


def test_json_format() -> None:
    result = run(
        "--format", "json", "--coverage", fixture("failing.test.yaml"), fixture("invalid.test.yaml")
    )
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["passed"] == 1 and payload["failed"] == 2
    statuses = {case["name"]: case["status"] for case in payload["cases"]}
    assert statuses == {
        "this one passes": "passed",
        "wrong points and a missing decision": "failed",
    }
    failed = next(c for c in payload["cases"] if c["status"] == "failed")
    assert failed["line"] == 8
    decisions = next(m for m in failed["mismatches"] if m["part"] == "decisions")
    assert decisions["expected"][0] == "{key: order-points/o1, points: 26}"
    assert decisions["actual"][0] == "{key: order-points/o1, points: 25}"
    assert "-order-ladder/2" in decisions["diff"].splitlines()
    (broken,) = payload["file_errors"]
    assert broken["file"] == fixture("invalid.test.yaml")
    assert [(d["code"], d["line"], d["column"]) for d in broken["diagnostics"]] == [("RE201", 8, 7)]
    # Failing cases count for coverage too: they exercised the rules all the same.
    (shop,) = payload["coverage"]["files"]
    assert shop["branches"] == {"covered": 2, "total": 2}


# -- coverage ----------------------------------------------------------------------------------


def test_coverage_numbers() -> None:
    result = run("--coverage", "--format", "json", fixture("passing.test.yaml"))
    (shop,) = json.loads(result.stdout)["coverage"]["files"]
    assert shop["file"] == fixture("shop.yaml")
    assert (shop["rules"], shop["steps"], shop["branches"]) == (
        {"covered": 2, "total": 3},
        {"covered": 1, "total": 2},
        {"covered": 2, "total": 2},
    )
    assert shop["percent"] == 71.4
    assert shop["uncovered"] == [
        "rule `review-points` was never exercised",
        "step `order-ladder/2` was never reached",
    ]


def test_a_condition_never_false_leaves_a_branch_uncovered(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "rules: shop.yaml\n"
        "now: 2026-04-01T00:00:00Z\n"
        "cases:\n"
        "  - name: one big order\n"
        "    snapshot:\n"
        "      customer: {id: c1}\n"
        "      activity: [{type: order, id: o1, at: 2026-03-01T10:00:00Z, subtotal: 50}]\n"
        "    expect: {decisions: [order-points/o1, order-ladder/1]}\n",
    )
    result = run("--coverage", "--format", "json", str(path))
    (shop,) = json.loads(result.stdout)["coverage"]["files"]
    assert shop["branches"] == {"covered": 1, "total": 2}
    assert "the `when` of `order-points` was never false" in shop["uncovered"]


def test_fail_under_and_the_coverage_table() -> None:
    ok = run("--fail-under", "70", fixture("passing.test.yaml"))
    assert ok.returncode == 0
    rows = [line.split() for line in ok.stdout.splitlines()]  # --fail-under implies --coverage
    assert ["RULE", "FILE", "RULES", "STEPS", "BRANCHES", "TOTAL"] in rows
    assert [fixture("shop.yaml"), "2/3", "1/2", "2/2", "71.4%"] in rows
    assert ["total", "2/3", "1/2", "2/2", "71.4%"] in rows
    assert last_line(ok) == "3 passed, 0 failed"
    low = run("--fail-under", "75", fixture("passing.test.yaml"))
    assert low.returncode == 1
    assert "coverage 71.4% (5 of 7 items) is under --fail-under 75%" in low.stderr
    assert last_line(low) == "3 passed, 0 failed"
    assert run("--fail-under", "101", fixture("passing.test.yaml")).returncode == 2


def test_the_documented_coverage_of_the_examples_is_the_real_one() -> None:
    docs = (ROOT / "docs" / "rule-tests.md").read_text(encoding="utf-8")
    command = "$ ruleengine test examples/ --coverage\n"
    transcript = docs[docs.index(command) + len(command) :].split("```", 1)[0]
    assert run("examples/", "--coverage").stdout == transcript
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [ln for ln in readme.splitlines() if ln.startswith("ruleengine test examples/ --c")]
    assert run(*line.split("#")[0].split()[2:]).returncode == 0, line  # the README's command


@pytest.mark.parametrize(
    ("covered", "fail_under", "message"),
    [
        # 97 of 103 shows as 94.2% in the table: the message needs the next decimal
        (97, 94.2, "coverage 94.17% (97 of 103 items) is under --fail-under 94.2%"),
        (97, 94.175, "coverage 94.17% (97 of 103 items) is under --fail-under 94.175%"),
        (90, 90, "coverage 87.4% (90 of 103 items) is under --fail-under 90%"),
    ],
)
def test_the_fail_under_message_shows_why_the_run_is_under(
    covered: int, fail_under: float, message: str
) -> None:
    rules = {f"rule-{n}": n < covered for n in range(103)}
    coverage = [testing.RulesetCoverage("rules.yaml", rules, {}, {})]
    assert testing.total_percent(coverage) < fail_under
    assert shortfall_text(coverage, fail_under) == message


# -- the format, strictly ------------------------------------------------------------------------


def write_suite(tmp_path: Path, test_text: str) -> Path:
    shutil.copy(ROOT / FIXTURES / "shop.yaml", tmp_path / "shop.yaml")
    shutil.copytree(ROOT / FIXTURES / "snapshots", tmp_path / "snapshots")
    path = tmp_path / "case.test.yaml"
    path.write_text(test_text, encoding="utf-8")
    return path


def test_yaml_1_2_scalars(tmp_path: Path) -> None:
    # YAML 1.1 would read the name `no` as false and the timestamps as datetimes.
    path = write_suite(
        tmp_path,
        "rules: shop.yaml\n"
        "cases:\n"
        "  - name: no\n"
        "    now: 2026-04-01T00:00:00Z\n"
        "    snapshot: snapshots/ann.json\n"
        "    expect: {decisions: [order-points/o1, order-ladder/1]}\n",
    )
    result = run("-v", str(path))
    assert result.returncode == 0, result.stdout
    assert f"PASS {path}:3: no" in result.stdout


def test_checks_that_need_the_rule_file(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "rules: shop.yaml\n"
        "cases:\n"
        "  - name: a\n"
        "    snapshot: snapshots/ann.json\n"
        "    expect: {decisions: [order-pionts/o1]}\n"
        "  - name: a\n"
        "    now: 2026-04-01T00:00:00Z\n"
        "    snapshot: snapshots/ann.json\n"
        "    expect: {progress: [{rule: review-points}]}\n",
    )
    result = run("--format", "json", str(path))
    assert result.returncode == 1
    (broken,) = json.loads(result.stdout)["file_errors"]
    found = [(d["code"], d["line"], d["column"], d["hint"]) for d in broken["diagnostics"]]
    assert found == [
        ("RE202", 3, 5, "give the case a `now`, or the file a `now` for all of its cases"),
        ("RE204", 5, 26, "did you mean `order-points`?"),
        ("RE205", 6, 11, "case names must differ; `a` is first used on line 3"),
        ("RE204", 9, 32, "the milestones of the rule file: `order-ladder`"),
    ]


def test_snapshot_problems_are_located(tmp_path: Path) -> None:
    (tmp_path / "snapshots").mkdir()
    shutil.copy(ROOT / FIXTURES / "shop.yaml", tmp_path / "shop.yaml")
    (tmp_path / "snapshots" / "bad.json").write_text('{"customer": {"id": "c1",}}\n')
    test_file = tmp_path / "case.test.yaml"
    test_file.write_text(
        "rules: shop.yaml\n"
        "now: 2026-04-01T00:00:00Z\n"
        "cases:\n"
        "  - name: inline\n"
        "    snapshot:\n"
        "      customer: {id: c1}\n"
        "      activity:\n"
        "        - {type: ordr, id: o1, at: 2026-03-01T10:00:00Z}\n"
        "    expect: {decisions: []}\n"
        "  - name: bad json\n"
        "    snapshot: snapshots/bad.json\n"
        "    expect: {decisions: []}\n",
        encoding="utf-8",
    )
    result = run(str(test_file))
    assert result.returncode == 1
    assert f"{test_file}:8:18: error[RE613] $.activity[0].type: unknown activity type" in (
        result.stdout
    )
    bad = tmp_path / "snapshots" / "bad.json"
    assert f"{bad}:1:26: error[RE611] the snapshot is not valid JSON" in result.stdout
    assert last_line(result) == "0 passed, 2 failed"


# -- the pytest plugin ---------------------------------------------------------------------------


# The inner runs need none of the host's other plugins; hypothesis's would import hypothesis
# again for every run (pytester drops modules an inner run imported).
INNER = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")


def _plugins() -> list[object]:
    """The plugin module to register in the inner pytest run, unless its entry point is
    installed and autoloaded (registering it twice would be an error). Passing the imported
    module, rather than `-p`, keeps the inner runs from importing the engine again."""
    installed = any(
        ep.name == "ruleengine" and ep.value == "ruleengine.pytest_plugin"
        for ep in metadata.entry_points(group="pytest11")
    )
    if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    return [pytest_plugin]


@pytest.fixture(scope="module")
def engine_loaded() -> None:
    """Run a rule test in this process before any in-process pytester run. pytester removes
    the modules an inner run imported when it ends; parts of the engine imported lazily there
    (the expression parser, lark) would be imported again by the next run while older objects
    still refer to the first copies, and their classes would no longer match."""
    run = testing.run_tests([ROOT / FIXTURES / "passing.test.yaml"], coverage=True)
    assert run.ok


@pytest.fixture
def suite(pytester: pytest.Pytester, engine_loaded: None) -> pytest.Pytester:
    for name in ("shop.yaml", "passing.test.yaml", "failing.test.yaml"):
        shutil.copy(ROOT / FIXTURES / name, pytester.path / name)
    shutil.copytree(ROOT / FIXTURES / "snapshots", pytester.path / "snapshots")
    return pytester


def test_plugin_collection_is_opt_in(suite: pytest.Pytester) -> None:
    result = suite.runpytest(*INNER, "passing.test.yaml", plugins=_plugins())
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # "not found": nothing collects it


def test_plugin_collects_each_case_as_an_item(suite: pytest.Pytester) -> None:
    result = suite.runpytest(
        *INNER, "--ruleengine-tests", "--collect-only", "-q", plugins=_plugins()
    )
    result.stdout.fnmatch_lines(
        [
            "passing.test.yaml::ann's first orders",
            "passing.test.yaml::ann in detail",
            "passing.test.yaml::an inline snapshot",
        ]
    )
    passed = suite.runpytest(*INNER, "--ruleengine-tests", "passing.test.yaml", plugins=_plugins())
    passed.assert_outcomes(passed=3)


def test_plugin_failure_shows_the_diff(suite: pytest.Pytester) -> None:
    result = suite.runpytest(*INNER, "--ruleengine-tests", "failing.test.yaml", plugins=_plugins())
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FAIL failing.test.yaml:8: wrong points and a missing decision",
            "*decisions differ (- expected, + actual):",
            "*-{key: order-points/o1, points: 26}",
            "*+{key: order-points/o1, points: 25}",
        ]
    )


def test_plugin_ini_option(suite: pytest.Pytester) -> None:
    suite.makeini("[pytest]\nruleengine_tests = true\n")
    result = suite.runpytest(*INNER, "passing.test.yaml", plugins=_plugins())
    result.assert_outcomes(passed=3)


def test_plugin_invalid_file_is_a_collection_error(suite: pytest.Pytester) -> None:
    shutil.copy(ROOT / FIXTURES / "invalid.test.yaml", suite.path / "invalid.test.yaml")
    result = suite.runpytest(*INNER, "--ruleengine-tests", "invalid.test.yaml", plugins=_plugins())
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*invalid.test.yaml:8:7: error[[]RE201[]] unknown key `progres`*"])


def test_rule_files_without_tests_count_as_uncovered(tmp_path: Path) -> None:
    # A folder of three rule files of which only one has a test file: the other two count
    # as 0% (every rule uncovered), not as if they did not exist. A YAML file that is not a
    # rule file (a CI workflow) is not a rule file to cover.
    shop = (ROOT / FIXTURES / "shop.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "rules"
    (folder / "nested").mkdir(parents=True)
    (folder / "shop.yaml").write_text(shop, encoding="utf-8")
    (folder / "other.yaml").write_text(shop.replace("program: ", "program: x"), encoding="utf-8")
    (folder / "nested" / "third.yaml").write_text(shop, encoding="utf-8")
    (folder / "workflow.yml").write_text("on: [push]\njobs: {}\n", encoding="utf-8")
    (folder / "snapshots").mkdir()
    (folder / "snapshots" / "ann.json").write_text(
        (ROOT / FIXTURES / "snapshots" / "ann.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    passing = (ROOT / FIXTURES / "passing.test.yaml").read_text(encoding="utf-8")
    (folder / "shop.test.yaml").write_text(passing, encoding="utf-8")

    result = run("--coverage", "--format", "json", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    coverage = json.loads(result.stdout)["coverage"]
    files = {Path(f["file"]).relative_to(folder).as_posix(): f for f in coverage["files"]}
    assert sorted(files) == ["nested/third.yaml", "other.yaml", "shop.yaml"]
    assert files["shop.yaml"]["percent"] == 71.4 and files["shop.yaml"]["tested"] is True
    for name in ("other.yaml", "nested/third.yaml"):
        untested = files[name]
        assert untested["tested"] is False and untested["percent"] == 0.0
        assert untested["rules"] == {"covered": 0, "total": 3}
        assert untested["uncovered"][0] == "no test file uses this rule file"
    assert coverage["percent"] == round(100 * 5 / 21, 1)

    text = run("--coverage", str(folder))
    assert f"{folder / 'other.yaml'}: no test file uses this rule file" in text.stdout
    assert "fail-under" not in text.stderr
    low = run("--fail-under", "50", str(folder))
    assert low.returncode == 1
    assert "coverage 23.8% (5 of 21 items) is under --fail-under 50%" in low.stderr
