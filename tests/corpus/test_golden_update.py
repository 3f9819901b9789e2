"""`RULEENGINE_UPDATE_GOLDEN=1` rewrites a differing expectation in every kind of case file the
case loader reads (block cases and one-line cases alike), and nothing else in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

import caseio
from caseio import KINDS, expect_golden, golden_file, load_cases

BLOCK = """\
# Hand-written cases: this comment stays.
- name: refund_reverses_points
  rules: |
    version: 1
  decisions:
    - earn/o1
  # a note inside the case stays too

- name: birthday_in_a_leap_year
  decisions: [birthday/2028]
"""

ONE_LINE = """\
# Expression -> type.
- {name: money_times_int, expr: order.subtotal * 5, type: money}
- {name: null_literal, expr: "null", type: "null"}
"""


@pytest.fixture
def cases_root(tmp_path: Path) -> Path:
    for kind in KINDS:
        (tmp_path / kind).mkdir()
    (tmp_path / "evaluate" / "refunds.yaml").write_text(BLOCK, encoding="utf-8")
    (tmp_path / "types" / "typing.yaml").write_text(ONE_LINE, encoding="utf-8")
    return tmp_path


def test_without_the_switch_a_difference_fails(cases_root: Path) -> None:
    with pytest.raises(AssertionError, match="refund_reverses_points"):
        expect_golden(
            "evaluate", "refund_reverses_points", "decisions", ["x"], ["earn/o1"], root=cases_root
        )
    expect_golden("types", "null_literal", "type", "null", "null", root=cases_root)


def test_the_switch_rewrites_only_the_differing_key_of_a_block_case(
    cases_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caseio, "UPDATE_GOLDEN", True)
    path = cases_root / "evaluate" / "refunds.yaml"
    actual = ["earn/o1", "earn/o1/reversal"]
    expect_golden("evaluate", "refund_reverses_points", "decisions", actual, [], root=cases_root)
    expect_golden("evaluate", "refund_reverses_points", "problems", ["RE615"], [], root=cases_root)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Hand-written cases: this comment stays.\n")
    assert "  # a note inside the case stays too\n" in text
    first, second = load_cases(path)
    assert first["decisions"] == actual and first["problems"] == ["RE615"]
    assert first["rules"] == "version: 1\n"
    assert second == {"name": "birthday_in_a_leap_year", "decisions": ["birthday/2028"]}


def test_the_switch_rewrites_a_one_line_case_on_its_line(
    cases_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caseio, "UPDATE_GOLDEN", True)
    path = cases_root / "types" / "typing.yaml"
    expect_golden("types", "money_times_int", "type", "decimal", "money", root=cases_root)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "# Expression -> type." and lines[2] == ONE_LINE.split("\n")[2]
    assert lines[1].startswith("- {") and len(lines) == len(ONE_LINE.split("\n"))
    assert load_cases(path)[0] == {
        "name": "money_times_int",
        "expr": "order.subtotal * 5",
        "type": "decimal",
    }


def test_a_strict_xfail_case_is_never_rewritten(
    cases_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caseio, "UPDATE_GOLDEN", True)
    with pytest.raises(AssertionError):
        expect_golden(
            "types", "null_literal", "type", "nothing", "null", root=cases_root, update=False
        )
    assert (cases_root / "types" / "typing.yaml").read_text(encoding="utf-8") == ONE_LINE


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_of_case_is_found_by_name(kind: str) -> None:
    """The switch finds each case of every kind the loader reads by its name alone."""
    first = caseio.case_files(kind)[0]
    cases = load_cases(first)
    assert golden_file(kind, cases[0]["name"]) == first
