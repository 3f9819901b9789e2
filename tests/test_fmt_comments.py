"""`fmt` never loses a comment: it keeps each where ruamel can place it; where ruamel cannot
(inside `{...}` or `[...]` over several lines, between a key and its value), that node's text
is kept as written, moved with its line, and the rest of the file is laid out; where even that
loses a comment, the author's layout is kept and only the expressions are respaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.rules.formatter import comments_of, format_text
from test_cli import run, write
from test_fmt import _assert_formats_faithfully
from test_fuzz_engine import EXAMPLES

HEAD = "version: 1\nprogram: p\ncurrency: USD\ntimezone: UTC\n"

# (the file as the tester wrote it, what fmt makes of it)
PLACES = {
    "flow mapping": (
        "earning:\n  - {id: b, # keep me\n     name: B, on: signup, points: 5}\n",
        "earning:\n  - {id: b, # keep me\n     name: B, on: signup, points: 5}\n",
    ),
    "flow sequence": (
        "earning:\n  - id: b\n    name: B\n    on: signup\n    points: 5\n"
        "    channels: [online, # web\n      pos]\n",
        "earning:\n  - id: b\n    name: B\n    on: signup\n    points: 5\n"
        "    channels: [online, # web\n      pos]\n",
    ),
    "between a key and its value": (
        "earning:\n  - id: b\n    name: B\n    on: signup\n    points:\n"
        "      # before value\n      1+1\n",
        "earning:\n  - id: b\n    name: B\n    on: signup\n    points:\n"
        "      # before value\n      1 + 1\n",
    ),
}


@pytest.mark.parametrize(("written", "formatted"), PLACES.values(), ids=list(PLACES))
def test_fmt_keeps_a_comment_ruamel_cannot_place(written: str, formatted: str) -> None:
    result = format_text(HEAD + written)
    assert result.text == HEAD + formatted
    _assert_formats_faithfully(HEAD + written)


def test_the_rest_of_the_file_is_laid_out_around_the_nodes_kept_as_written() -> None:
    written = (
        "earning:\n- {id: b, # keep me\n   name: B, on: signup, points: 5}\n"
        "- id: a\n  name: A\n  on: order\n  points:\n    # before value\n    1+1\n"
        "  channels: [online, # web\n    pos]\n  when: order.subtotal>=5\n"
    )
    formatted = (
        "earning:\n  - {id: b, # keep me\n     name: B, on: signup, points: 5}\n"
        "  - id: a\n    name: A\n    on: order\n    points:\n      # before value\n"
        "      1 + 1\n    channels: [online, # web\n      pos]\n"
        "    when: order.subtotal >= 5\n"
    )
    assert format_text(HEAD + written).text == HEAD + formatted
    _assert_formats_faithfully(HEAD + written)


def test_fmt_check_accepts_a_comment_it_keeps_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", HEAD + PLACES["flow mapping"][0])
    check = run("fmt", "--check", str(path))
    assert check.returncode == 0, check.stderr
    assert run("fmt", str(path)).returncode == 0
    assert path.read_text(encoding="utf-8") == HEAD + PLACES["flow mapping"][0]


def test_comments_are_found_outside_tokens_only() -> None:
    text = HEAD + 'description: "a # b" # c\nnote: |\n  # d\n# e\ntags: [x, #f\n  y]\n'
    assert comments_of(text) == ["# c", "# e", "#f"]


# Every place a comment can stand in a rule file: `{}` marks a slot that may get a comment at
# the end of its line (`E`) or a comment on a line of its own (`L`, with its indentation).
TEMPLATE = [
    ("", "L0"),
    ("version: 1", "E"),
    ("program: p", "E"),
    ("currency: USD", "E"),
    ("timezone: UTC", "E"),
    ("earning:", "E"),
    ("", "L2"),
    ("  - {id: b,", "E"),
    ("     name: B, on: signup,", "E"),
    ("     points: 5}", "E"),
    ("  - id: a", "E"),
    ("    name: A", "E"),
    ("", "L4"),
    ("    on: order", "E"),
    ("    when:", "E"),
    ("", "L6"),
    ("      order.subtotal>=20", "E"),
    ("    points: floor( order.subtotal*5 )", "E"),
    ("    channels: [", "E"),
    ("      online,", "E"),
    ("      pos]", "E"),
    ("milestones:", "E"),
    ("  - id: third", "E"),
    ("    name: Third", "E"),
    ("    type: orders_count", "E"),
    ("    target: 3", "E"),
    ("    reward: {rewards: [{points: 500}]}", "E"),
    ("", "L0"),
]


@st.composite
def commented_rule_files(draw: Any) -> str:
    """A valid rule file with comments in any of the places above (each with its own text)."""
    lines: list[str] = []
    tabs = draw(st.booleans())  # ruamel cannot read a tab before a comment: the author's layout
    for number, (line, slot) in enumerate(TEMPLATE):
        comment = draw(st.sampled_from(["", f"#c{number}", f"# note {number}", "#"]))
        if slot == "E":
            gap = draw(st.sampled_from([" ", "  ", "\t"] if tabs else [" ", "  "]))
            lines.append(line + (gap + comment if comment else ""))
        elif comment:
            lines.append(" " * int(slot[1:]) + comment)
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):  # sequences at their key's column: fmt indents them by 2
        text = "\n".join(
            line[2:] if line.startswith("  ") and not line.startswith("   - ") else line
            for line in text.split("\n")
        )
    return text


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(text=commented_rule_files())
def test_fmt_keeps_every_comment_wherever_it_stands(text: str) -> None:
    result = format_text(text)
    assert result.text is not None, result.error
    assert comments_of(result.text) == comments_of(text), (text, result.text)
    _assert_formats_faithfully(text)  # same meaning, same hash, idempotent
