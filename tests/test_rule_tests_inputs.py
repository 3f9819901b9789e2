"""Rule test files with inputs at the edges: timestamps near the calendar's ends in every
timestamp field, snapshot files that never end, numbers written as decimals. Each ends in a
located diagnostic or a result, never an internal error."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.testing import RulesCache, load_test_file, render_case_text, run_case
from test_fuzz_edges import edge_moments
from test_fuzz_engine import EXAMPLES
from test_rule_tests import FIXTURES, ROOT, run, write_suite

CASE = """\
rules: shop.yaml
now: {file_now}
cases:
  - name: ann
    now: {case_now}
    snapshot: snapshots/ann.json
    expect:
      decisions:
        - {{key: order-points/o1, achieved_at: {achieved_at}, available_at: {available_at}}}
      tier: {{since: {since}, period_end: {period_end}}}
"""
FIELDS = ("file_now", "case_now", "achieved_at", "available_at", "since", "period_end")
GOOD = "2026-03-01T10:00:00Z"


def _located(text: str, field: str, value: str) -> tuple[int, int]:
    """The 1-based line and column of the value of `field` in `text`."""
    key = "now" if field.endswith("now") else field
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        at = line.find(f"{key}: {value}")
        if at >= 0 and (field != "case_now" or line.startswith("    ")):
            if field == "file_now" and line.startswith(" "):
                continue
            return number, at + len(key) + 3
    raise AssertionError((field, value))


@pytest.mark.parametrize(
    ("field", "value", "years"),
    [
        ("file_now", "1899-01-01T00:00:00Z", "1900 to 9000"),
        ("case_now", "9000-12-31T23:59:59-12:00", "1900 to 9000"),
        ("achieved_at", "0001-01-01T00:00:00+01:00", "2 to 9998"),
        ("available_at", "0001-01-01T00:00:00+01:00", "2 to 9998"),
        ("since", "0001-01-01T00:00:00+01:00", "2 to 9998"),
        ("period_end", "9999-12-31T23:59:59-01:00", "2 to 9998"),
    ],
)
def test_a_timestamp_outside_the_years_is_a_located_error(
    tmp_path: Path, field: str, value: str, years: str
) -> None:
    values = dict.fromkeys(FIELDS, GOOD) | {field: value}
    text = CASE.format(**values)
    path = write_suite(tmp_path, text)
    result = run(str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    line, column = _located(text, field, value)
    assert f"case.test.yaml:{line}:{column}: error[RE205] `{value}` is outside" in result.stdout
    assert f"the years {years} (in UTC)" in result.stdout


def test_timestamps_at_the_ends_of_the_years_run(tmp_path: Path) -> None:
    text = CASE.format(
        file_now="1900-01-01T00:00:00Z",
        case_now="9000-12-31T23:59:59Z",
        achieved_at="0002-01-01T00:00:00Z",
        available_at="9998-12-31T23:59:59Z",
        since="0002-01-01T00:00:00Z",
        period_end="9998-12-31T23:59:59Z",
    )
    result = run(str(write_suite(tmp_path, text)))
    assert result.returncode == 1 and "0 passed, 1 failed" in result.stdout  # a diff, no crash
    assert "-{key: order-points/o1, achieved_at: 0002-01-01T00:00:00Z" in result.stdout


def _bounded_memory() -> None:  # a reader of /dev/zero without a bound fails, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_snapshot_that_never_ends_is_refused_unread(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        f"rules: shop.yaml\nnow: {GOOD}\ncases:\n"
        "  - name: zero\n    snapshot: /dev/zero\n    expect: {problems: []}\n",
    )
    result = subprocess.run(
        [sys.executable, "-m", "ruleengine", "test", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        preexec_fn=_bounded_memory,
    )
    assert result.returncode == 1, result.stderr
    assert "case.test.yaml:5:15: error[RE614] the snapshot file `/dev/zero` is larger than" in (
        result.stdout
    )


# -- fuzz: timestamps at the limits in every timestamp field -------------------------------


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(
    moments=st.fixed_dictionaries({name: st.none() | edge_moments for name in FIELDS}),
)
def test_timestamps_at_the_limits_anywhere_end_in_a_result_or_a_located_error(
    moments: dict[str, datetime | None],
) -> None:
    with tempfile.TemporaryDirectory() as name:  # no fixture: `python -m tests.fuzz` runs it
        _check_edge_moments(Path(name), moments)


def _check_edge_moments(folder: Path, moments: dict[str, datetime | None]) -> None:
    shutil.copy(ROOT / FIXTURES / "shop.yaml", folder / "shop.yaml")
    shutil.copytree(ROOT / FIXTURES / "snapshots", folder / "snapshots")
    values = {name: GOOD if m is None else m.isoformat() for name, m in moments.items()}
    text = CASE.format(**values)
    path = folder / "case.test.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_test_file(path, RulesCache())
    for diagnostic in loaded.diagnostics:
        assert diagnostic.code == "RE205", diagnostic
        assert diagnostic.line > 1 and diagnostic.column > 1, diagnostic
    for case in loaded.cases:
        render_case_text(run_case(loaded, case))  # the diff formats every expected timestamp


# -- numbers compare by value ----------------------------------------------------------------


@pytest.mark.parametrize("written", ["25", "25.0", "25.000", "2.5E1", "2.5e+1"])
def test_a_whole_valued_decimal_is_the_whole_number(tmp_path: Path, written: str) -> None:
    text = (
        f"rules: shop.yaml\nnow: 2026-04-01T00:00:00Z\ncases:\n  - name: ann\n"
        f"    snapshot: snapshots/ann.json\n"
        f"    expect:\n      decisions: [{{key: order-points/o1, points: {written}}}, "
        f"order-ladder/1]\n      balance: {{active: 30.0, expired: 0.0}}\n"
    )
    result = run(str(write_suite(tmp_path, text)))
    assert result.returncode == 0, result.stdout
    assert result.stdout.rstrip().endswith("1 passed, 0 failed")


@pytest.mark.parametrize("written", ["25.5", "1E+40"])
def test_a_number_with_a_fraction_is_not_a_whole_number(tmp_path: Path, written: str) -> None:
    text = (
        f"rules: shop.yaml\nnow: 2026-04-01T00:00:00Z\ncases:\n  - name: ann\n"
        f"    snapshot: snapshots/ann.json\n"
        f"    expect: {{decisions: [{{key: order-points/o1, points: {written}}}]}}\n"
    )
    result = run(str(write_suite(tmp_path, text)))
    assert result.returncode == 1
    assert (
        f"case.test.yaml:6:57: error[RE203] `points` must be a whole number in case 1, "
        f"decision 1, not the number `{written}`"
    ) in result.stdout
