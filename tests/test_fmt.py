"""`ruleengine fmt`: canonical layout, comments kept, idempotent, atomic, and --check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseio import example_rule_files
from ruleengine.diagnostics.source import SourceFile
from ruleengine.limits import Limits
from ruleengine.rules.formatter import format_source, format_text, normalise_spacing
from ruleengine.rules.ruleset import check_source
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedNode, LocatedSequence
from ruleengine.rules.yaml_source import read_document
from test_cli import VALID as VALID_CLI
from test_cli import run, write
from test_fuzz_engine import EXAMPLES, rulesets

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


# -- a formatter changes layout, never what a scalar says ---------------------------------------
#
# ruamel's round-trip loader resolves plain scalars to timestamps, floats and booleans and writes
# them back in its own spelling (`9:00:00` became `09:00:00`), or fails on a date that does not
# exist (`2026-02-30`). These tests hold every scalar's text through fmt.

VALUES = [
    "2026-02-30",
    "2026-11-31",
    "2026-13-01",
    "2026-00-10",
    "2026-11-27",
    "T25:00:00",
    "2026-11-27 9:00:00",
    "2026-11-27t10:00:00.5Z",
    "2026-11-27T10:00:00.123456789+05:30",
    "2026-11-27 10:00:00 -5",
    "2026-02-29T24:61:61",
    "10:30",
    "1:30:00",
    "1e3",
    "1E-3",
    "-.5",
    "+1",
    ".inf",
    "-.Inf",
    ".NaN",
    "0x1F",
    "0o17",
    "0b101",
    "017",
    "1_000",
    "1.50",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "~",
    "null",
    "True",
]


@st.composite
def plain_scalars(draw: Any) -> str:
    """Plain scalars that look like dates, times, numbers or booleans to some YAML schema."""
    if draw(st.booleans()):
        return draw(st.sampled_from(VALUES))
    year = draw(st.integers(1, 9999))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    text = f"{year:04}-{month:02}-{day:02}"
    if draw(st.booleans()):
        separator = draw(st.sampled_from(["T", "t", " ", "  "]))
        hour = draw(st.integers(0, 25))
        text += f"{separator}{hour if draw(st.booleans()) else f'{hour:02}'}"
        text += f":{draw(st.integers(0, 61)):02}:{draw(st.integers(0, 61)):02}"
        text += draw(st.sampled_from(["", ".5", ".000001", ".1234567"]))
        text += draw(st.sampled_from(["", "Z", "+05:30", " -5", " Z"]))
    return text


@st.composite
def rulesets_with_plain_scalars(draw: Any) -> str:
    """Valid fuzzed rule files whose names, descriptions and windows hold tricky scalars."""
    lines = draw(rulesets()).splitlines()
    result: list[str] = []
    for line in lines:
        result.append(line)
        if line.lstrip().startswith("name: ") and draw(st.booleans()):
            indent = line[: len(line) - len(line.lstrip())]
            result[-1] = f"{indent}name: {draw(plain_scalars())}"
            result.append(f"{indent}description: {draw(plain_scalars())}")
        if line.startswith("    active: ") and draw(st.booleans()):
            result[-1] = f"    active: {{from: {draw(plain_scalars())}}}"
    return "\n".join(result) + "\n"


@st.composite
def rulesets_with_respaced_expressions(draw: Any) -> str:
    """Valid fuzzed rule files whose expressions are spaced as people type them: `x!= null`,
    `floor( order.subtotal*5 )` (issue 17, item 14: respacing changed `ruleset_hash`)."""
    result: list[str] = []
    for line in draw(rulesets()).splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("when: '", "points: '")) and line.endswith("'"):
            key, _, quoted = line.partition(": ")
            words = quoted[1:-1].split(" ")
            text = "".join(w + draw(st.sampled_from([" ", " ", "  "])) for w in words).rstrip()
            for op in ("==", "!=", ">=", "*", "/", ","):
                if draw(st.booleans()):
                    text = text.replace(f" {op} ", op).replace(f"{op} ", op)
            if draw(st.booleans()):
                text = text.replace("(", "( ").replace(")", " )")
            line = f"{key}: '{text}'"
        result.append(line)
    return "\n".join(result) + "\n"


def _said(text: str) -> Any:
    """What the file says, as validate reads it: each scalar's text (expressions with canonical
    spacing; an empty value and `null` are both null)."""
    root, problems = read_document(SourceFile("t.yaml", text))
    assert root is not None, problems

    def walk(node: LocatedNode, key: object) -> Any:
        if isinstance(node, LocatedMapping):
            return {k.text: walk(v, k.text) for k, v in node.items}
        if isinstance(node, LocatedSequence):
            return [walk(item, None) for item in node.items]
        if node.value is None:
            return None
        if key in ("when", "points") and node.style is None and isinstance(node.value, str):
            return normalise_spacing(node.text)
        if key in ("when", "points") and node.style in ("'", '"') and "\n" not in node.text:
            return (node.style, normalise_spacing(node.text))  # fmt respaces these too
        return (node.style, node.text)

    return walk(root, None)


def _assert_formats_faithfully(text: str) -> None:
    result = format_text(text)
    assert result.text is not None, result.error
    assert _said(result.text) == _said(text)
    assert format_text(result.text).text == result.text  # idempotent
    before = check_source(SourceFile("t.yaml", text))
    if before.ruleset is not None:
        after = check_source(SourceFile("t.yaml", result.text))
        assert after.ruleset is not None, after.diagnostics
        assert after.ruleset.hash == before.ruleset.hash


@pytest.mark.parametrize("value", VALUES)
def test_fmt_keeps_plain_scalar_text(value: str) -> None:
    text = MESSY.replace("name: Points", f"name: {value}") + f"description: {value}\n"
    result = format_text(text)
    assert result.text is not None, result.error
    assert f"name: {value}\n" in result.text
    assert result.text.endswith(f"description: {value}\n")
    _assert_formats_faithfully(text)


def test_fmt_keeps_an_impossible_window_date_for_validate_to_report() -> None:
    text = MESSY.replace("  reward: {", "  active: {from: 2026-11-31}\n  reward: {")
    result = format_text(text)
    assert result.text is not None and "active: {from: 2026-11-31}" in result.text


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(rules=rulesets_with_plain_scalars())
def test_fmt_keeps_every_scalar_of_fuzzed_rule_files(rules: str) -> None:
    _assert_formats_faithfully(rules)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(rules=rulesets_with_respaced_expressions())
def test_fmt_never_changes_the_hash_of_respaced_expressions(rules: str) -> None:
    _assert_formats_faithfully(rules)


@st.composite
def rulesets_with_empty_flow_values(draw: Any) -> str:
    """Valid fuzzed rule files whose flow mappings hold entries with empty values, in the
    places the two YAML libraries read differently (issue 17, item 12: `{..., description:}`
    became the key `description:` after fmt)."""
    result: list[str] = []
    for line in draw(rulesets()).splitlines():
        if "- {" in line and line.endswith("}") and draw(st.booleans()):
            where = draw(st.sampled_from(["first", "last", "spaced"]))
            if where == "first":
                line = line.replace("- {", "- {description:, ", 1)
            elif where == "last":
                line = line[:-1] + ", description:}"
            else:
                line = line[:-1] + ", description: }"
        result.append(line)
    return "\n".join(result) + "\n"


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(rules=rulesets_with_empty_flow_values())
def test_fmt_keeps_empty_flow_values(rules: str) -> None:
    _assert_formats_faithfully(rules)


HEADER = "version: 1\nprogram: corner\ncurrency: EUR\ntimezone: Europe/Berlin\nearning:\n"
SPACED_RULE = "  - id: spend\n    name: Spend\n    on: order\n    points: floor( order.subtotal )\n"

# Corners where ruamel's layout would read differently than validate reads the file (each
# written here for this test; the YAML test suite found the classes): fmt keeps the author's
# layout and still respaces the expressions.
RUAMEL_CORNERS = {
    "empty value in a flow mapping": "  - {id: b, name: B, on: order, points: 2, description:}\n",
    "an explicit key with no value": "  - id: b\n    name: B\n    on: order\n    points: 2\n"
    "    ? description\n    # reviewed in March\n    : Earn twice.\n",
    "folded text with a trailing space and a tab-led line": (
        "  - id: b\n    name: B\n    on: order\n    points: 2\n"
        "    description: >\n      Earn \n      \n      \t twice\n\n      more\n"
    ),
    "a comment below folded text, less indented than the text": (
        "  - id: b\n    name: B\n    on: order\n    points: 2\n"
        "    description: >\n        Earn twice\n\n      # reviewed in March\n"
    ),
    "literal text starting with lines of spaces": (
        "  - id: b\n    name: B\n    on: order\n    points: 2\n"
        "    description: |\n     \n\n      Earn twice.\n      \n     \n      Twice.\n"
    ),
}


@st.composite
def rulesets_with_yaml_corners(draw: Any) -> str:
    """A rule file whose description is written the ways ruamel and our reader part on:
    block scalars of any header with lines of spaces, tabs, blank lines, more indented lines
    and comments at any indentation after them; explicit `? key` entries with comments
    between key and value; a `%YAML` directive and a document marker on top."""
    head = draw(st.sampled_from(["", "%YAML 1.2\n---\n", "---\n", "%YAML 1.1\n---\n"]))
    kind = draw(st.sampled_from(["block", "explicit"]))
    if kind == "explicit":
        between = draw(st.sampled_from(["", "    # why\n", "\n", "    # why\n\n"]))
        value = draw(st.sampled_from([": Earn twice.\n", ":\n", "", ": >\n      folded\n"]))
        corner = f"    ? description\n{between}{'    ' + value if value else ''}"
    else:
        header = draw(st.sampled_from([">", "|", ">-", "|+", ">2", "|-"]))
        line = st.one_of(
            st.sampled_from(["", " ", "  ", "\t x", "  * item", "# not a comment"]),
            st.text(alphabet="ab \t", min_size=1, max_size=6),
        )
        lines = draw(st.lists(line, max_size=6))
        body = "".join(f"      {text}\n" if text else "\n" for text in ["Earn", *lines])
        tail = draw(st.sampled_from(["", "\n# note\n", "  # note\n", "\n      # note\n"]))
        corner = f"    description: {header}\n{body}{tail}"
    rule = "  - id: b\n    name: B\n    on: order\n    points: 2\n"
    return head + HEADER + SPACED_RULE + rule + corner


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(rules=rulesets_with_yaml_corners())
def test_fmt_keeps_what_yaml_corners_say(rules: str) -> None:
    read = check_source(SourceFile("t.yaml", rules))
    if any(d.code.startswith("RE1") for d in read.diagnostics):
        assert format_text(rules).text is None  # what validate cannot read, fmt leaves alone
        return
    _assert_formats_faithfully(rules)


@pytest.mark.parametrize("corner", RUAMEL_CORNERS.values(), ids=list(RUAMEL_CORNERS))
def test_fmt_keeps_the_layout_where_ruamel_would_change_a_value(corner: str) -> None:
    text = HEADER + SPACED_RULE + corner
    assert check_source(SourceFile("t.yaml", text)).ok
    result = format_text(text)
    assert result.text is not None, result.error
    assert result.text == text.replace("floor( order.subtotal )", "floor(order.subtotal)")
    _assert_formats_faithfully(text)


@pytest.mark.parametrize("directive", ["%YAML 1.2\n---\n", "%YAML 1.2\n--- ", "%YAML 1.1\n---\n"])
def test_fmt_drops_the_yaml_directive_whatever_follows_it(directive: str) -> None:
    body = "{version: 1, program: corner, currency: EUR, earning: []}\n"
    if directive.endswith("\n"):
        body = HEADER + SPACED_RULE
    result = format_text(directive + body)
    assert result.text is not None, result.error
    assert not result.text.startswith(("%", "---")), result.text
    _assert_formats_faithfully(directive + body)


def test_respacing_an_expression_keeps_ruleset_hash() -> None:
    text = VALID_CLI.replace("points: floor(order.subtotal)", "points: floor( order.subtotal )")
    before = check_source(SourceFile("t.yaml", VALID_CLI)).ruleset
    after = check_source(SourceFile("t.yaml", text)).ruleset
    assert before is not None and after is not None
    assert after.hash == before.hash
    formatted = format_text(MESSY).text
    assert formatted is not None and formatted != MESSY
    messy, tidy = (check_source(SourceFile("t.yaml", t)).ruleset for t in (MESSY, formatted))
    assert messy is not None and tidy is not None
    assert messy.hash == tidy.hash


def test_fmt_reports_a_file_that_is_not_utf8_as_validate_does(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID_CLI.replace("Points", "Pr\xe9mio").encode("latin-1"))
    validate = run("validate", str(path))
    fmt = run("fmt", str(path))
    assert (fmt.returncode, validate.returncode) == (1, 1)
    assert "error[RE106] invalid UTF-8 byte 0xe9" in validate.stdout
    first = next(line for line in validate.stdout.splitlines() if "error[RE106]" in line)
    assert first in fmt.stderr
    assert "codec" not in fmt.stderr


# -- whatever ruamel raises is a located diagnostic, never exit 101 -------------------------------


def test_fmt_keeps_the_layout_of_a_file_ruamel_cannot_read(tmp_path: Path) -> None:
    text = "%YAML 1.3\n---\n" + HEADER + SPACED_RULE
    path = write(tmp_path, "v13.yaml", text)
    result = run("fmt", str(path))
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8") == text.replace(
        "( order.subtotal )", "(order.subtotal)"
    )
    assert run("fmt", "--check", str(path)).returncode == 0


@pytest.mark.parametrize(
    "error",
    [
        TypeError("unhashable type: 'CommentedSeq'"),
        AssertionError(),
        NotImplementedError("merge keys"),
        RecursionError("maximum recursion depth exceeded"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_whatever_ruamel_raises_the_layout_stays(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    import ruleengine.rules.formatter as formatter

    class Refusing:
        def load(self, text: str) -> Any:
            raise error

    monkeypatch.setattr(formatter, "_yaml", Refusing)
    result = format_text(MESSY)
    assert result.text is not None, result.error
    respaced = MESSY.replace("floor( order.subtotal*5 )", "floor(order.subtotal * 5)")
    respaced = respaced.replace(
        '>=20 and order.channel in["online","pos"]', ' >= 20 and order.channel in ["online", "pos"]'
    )
    respaced = respaced.replace('not("wholesale"', 'not ("wholesale"')
    assert result.text == respaced


def test_fmt_applies_the_file_size_limit_before_parsing(tmp_path: Path) -> None:
    text = VALID_CLI + "# " + "x" * 2000 + "\n"
    result = format_source(SourceFile("big.yaml", text), Limits(max_file_bytes=1000))
    assert [d.code for d in result.diagnostics] == ["RE108"]
    path = write(tmp_path, "big.yaml", VALID_CLI + "#" * 1_100_000 + "\n")
    fmt, validate = run("fmt", str(path)), run("validate", str(path))
    assert (fmt.returncode, validate.returncode) == (1, 1)
    assert f"{path}:1:1: error[RE108] the file is larger than 1,048,576 bytes" in fmt.stderr


LEDGER = """\
version: 1
program: acme
currency: USD
timezone: UTC
points:
  expiry:
    policy: rolling # restarts with every award
    after: 12mo
    warn_before: [30d, 7d]
redeeming:
- id: five-off
  name: $5 off
  cost: 500
  reward: {discount_amount: 5}
  when: customer.tier in["gold","platinum"]
  limit: {times: 1, per: month}
- id: dollars-off
  name: $1 off per 100 points
  points_per: 100
  min_points: 200
  max_points: 5000
  reward: {discount_amount: 1}
"""


def test_fmt_keeps_expiry_and_redeeming() -> None:
    """The ledger's sections survive `fmt`: every key and comment, and the redeeming
    condition is spaced like any other expression."""
    result = format_text(LEDGER)
    assert result.text is not None
    expected = (
        LEDGER.replace("\n- ", "\n  - ")
        .replace("\n  name:", "\n    name:")
        .replace("\n  cost:", "\n    cost:")
        .replace("\n  reward:", "\n    reward:")
        .replace("\n  limit:", "\n    limit:")
        .replace("\n  points_per:", "\n    points_per:")
        .replace("\n  min_points:", "\n    min_points:")
        .replace("\n  max_points:", "\n    max_points:")
        .replace(
            '\n  when: customer.tier in["gold","platinum"]',
            '\n    when: customer.tier in ["gold", "platinum"]',
        )
    )
    assert result.text == expected
    assert check_source(SourceFile("acme.yaml", result.text)).ok


TIERS = """\
version: 1
program: acme
currency: USD
timezone: Europe/Paris
tiers:
  basis: amount_spent    # the "VIP point"
  period: calendar_year
  downgrade: end_of_period
  order_requirements: {min_subtotal: 10}
  levels:
  - {id: member, name: Member, threshold: 0}
  - id: gold
    name: Gold
    threshold: 500.50
    reward: {rewards: [{points: 200}]}
"""


def test_fmt_keeps_tiers() -> None:
    """The tiers section survives `fmt` with its comments and exact thresholds (`500.50`
    stays as written); only the list indentation becomes canonical."""
    result = format_text(TIERS)
    assert result.text is not None
    expected = (
        TIERS.replace("\n  - ", "\n    - ")
        .replace("\n    name: Gold", "\n      name: Gold")
        .replace("\n    threshold: 500.50", "\n      threshold: 500.50")
        .replace("\n    reward:", "\n      reward:")
    )
    assert result.text == expected
    assert check_source(SourceFile("acme.yaml", result.text)).ok
    assert format_text(result.text).text == result.text


@pytest.mark.parametrize(
    ("end", "kept"),
    [("...\n# archived below\n", "# archived below\n"), ("...\n", ""), ("... # end\n", "# end\n")],
    ids=["a comment below `...`", "no comment", "a comment on the `...` line"],
)
def test_fmt_keeps_the_comments_below_a_document_end(end: str, kept: str) -> None:
    """ruamel drops a `...` marker and every comment below it; fmt drops the marker (as it
    drops `---` on top) and keeps the comments."""
    formatted = format_text(MESSY + end).text
    assert formatted == str(format_text(MESSY).text) + kept, formatted
    assert format_text(formatted).text == formatted


def test_fmt_keeps_a_document_end_ruamel_cannot_read_as_written() -> None:
    end = "... # the end\n\n# archived\n...\n"
    formatted = format_text(MESSY + end).text
    assert formatted is not None and formatted.endswith("\n" + end), formatted
    assert format_text(formatted).text == formatted
