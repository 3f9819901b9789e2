"""`ruleengine fmt`: canonical layout, comments kept, idempotent, atomic, and --check."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseio import example_rule_files
from ruleengine.rules.formatter import format_text, normalise_spacing
from test_cli import run, write

MESSY = """\
# Acme rules: keep this comment
version: 1
program: acme
currency: USD
timezone: UTC
earning:
- id: order-points   # per dollar
  name: Points
  on: order
  when: order.subtotal>=20 and order.channel in["online","pos"]
  points: floor( order.subtotal*5 )
milestones:
- id: third
  name: Third order
  type: orders_count
  target: 3
  when: not("wholesale" in customer.tags)
  reward: {rewards: [{points: 500}]}
"""

FORMATTED = """\
# Acme rules: keep this comment
version: 1
program: acme
currency: USD
timezone: UTC
earning:
  - id: order-points # per dollar
    name: Points
    on: order
    when: order.subtotal >= 20 and order.channel in ["online", "pos"]
    points: floor(order.subtotal * 5)
milestones:
  - id: third
    name: Third order
    type: orders_count
    target: 3
    when: not ("wholesale" in customer.tags)
    reward: {rewards: [{points: 500}]}
"""


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("a>=3 and  b>500", "a >= 3 and b > 500"),
        ('not("w" in customer.tags)', 'not ("w" in customer.tags)'),
        ("f(x,y ,z)", "f(x, y, z)"),
        ("a - -5", "a - -5"),
        ("-(a)", "-(a)"),
        ("x in[1,2]", "x in [1, 2]"),
        ("order.items[ 0 ].price", "order.items[0].price"),
        ("if a then-1 else 2", "if a then -1 else 2"),
        ("count(order.items,item.quantity>1)", "count(order.items, item.quantity > 1)"),
    ],
)
def test_expression_spacing(written: str, canonical: str) -> None:
    assert normalise_spacing(written) == canonical
    assert normalise_spacing(canonical) == canonical


def test_format_keeps_comments_and_normalises() -> None:
    result = format_text(MESSY)
    assert result.text == FORMATTED
    assert format_text(FORMATTED).text == FORMATTED  # idempotent


@pytest.mark.parametrize("path", example_rule_files(), ids=lambda p: p.name)
def test_examples_are_already_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_text(text).text == text


def test_block_expressions_are_left_as_written() -> None:
    text = MESSY.replace(
        "  points: floor( order.subtotal*5 )\n", "  points: |\n    floor(order.subtotal*5)\n"
    )
    formatted = format_text(text).text
    assert formatted is not None and "floor(order.subtotal*5)" in formatted


def test_broken_files_are_never_rewritten(tmp_path: Path) -> None:
    bad_yaml = write(tmp_path, "bad.yaml", "version: 1\nprogram: [\n")
    bad_expr = write(tmp_path, "expr.yaml", MESSY.replace("floor( order", "floor(( order"))
    before = (bad_yaml.read_text(), bad_expr.read_text())
    result = run("fmt", str(tmp_path))
    assert result.returncode == 1
    assert "not formatted" in result.stderr
    assert (bad_yaml.read_text(), bad_expr.read_text()) == before


def test_fmt_rewrites_in_place_and_check_reports(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", MESSY)
    check = run("fmt", "--check", str(path))
    assert check.returncode == 1 and f"would reformat {path}" in check.stderr
    assert path.read_text() == MESSY  # --check changes nothing
    diff = run("fmt", "--diff", str(path))
    assert "+    points: floor(order.subtotal * 5)" in diff.stdout
    assert run("fmt", str(path)).returncode == 0
    assert path.read_text() == FORMATTED
    assert run("fmt", "--check", str(path)).returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["rules.yaml"]  # no temporary left behind


def test_fmt_check_on_examples_passes() -> None:
    assert run("fmt", "--check", "examples/rules/").returncode == 0
