"""The reader reads YAML as 1.2 says, or refuses it with a located diagnostic: never a third
reading, and the same on the libyaml and the pure-Python path (`rules.yaml_scanner`).

Each input is written here, in a rule file's own words; the classes were found by running the
YAML test suite (`python -m tests.yaml_suite`).
"""

from __future__ import annotations

from typing import Any

import pytest

from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules import yaml_compose
from ruleengine.rules.formatter import format_text
from ruleengine.rules.yaml_nodes import to_plain
from ruleengine.rules.yaml_source import read_document

HEAD = "version: 1\nprogram: strict\n"


def read_both(text: str) -> tuple[Any, list[tuple[str, int, int]]]:
    """What the reader says on the pure path, checked equal to what the fast path says."""
    answers = []
    for fast in (False, True):
        before = yaml_compose.FAST_PATH
        yaml_compose.FAST_PATH = fast and before
        try:
            root, diagnostics = read_document(SourceFile("t.yaml", text))
        finally:
            yaml_compose.FAST_PATH = before
        located = [(d.code, d.line, d.column) for d in diagnostics if d.is_error]
        answers.append((None if root is None else to_plain(root), located))
    assert answers[0] == answers[1], answers
    return answers[0]


# Invalid YAML that both parsers used to read without a word: now RE101 at the spot.
INVALID = {
    "a comment glued to a quoted value": (HEAD + 'currency: "EUR"# euros\n', (3, 16)),
    "a comment glued to a flow list": (HEAD + "tags: [a, b]#note\n", (3, 13)),
    "a comment glued to a comma": (HEAD + "tags: [a,#note\n  b]\n", (3, 10)),
    "a flow list line at the key's column": (HEAD + "tags: [vip,\ngold]\n", (4, 1)),
    "quoted text continued at the key's column": (HEAD + 'name: "Spring\nsale"\n', (4, 1)),
    "quoted text continued after a tab": (HEAD + 'name: "Spring\n\tsale"\n', (4, 1)),
    "spaces above block text, longer than its indentation": (
        HEAD + "description: >\n    \n  Earn twice\n",
        (5, 3),
    ),
    "a lone dash in a flow list": (HEAD + "tags: [-, vip]\n", (3, 8)),
}


@pytest.mark.parametrize(("text", "where"), INVALID.values(), ids=list(INVALID))
def test_invalid_yaml_is_refused_where_it_goes_wrong(text: str, where: tuple[int, int]) -> None:
    root, located = read_both(text)
    assert root is None
    assert located[0][0] == "RE101" and located[0][1:] == where, located
    assert format_text(text).text is None


def test_a_question_mark_glued_to_a_flow_key_is_re111_not_a_guess() -> None:
    root, located = read_both(HEAD + "limits: {?max: 5}\n")
    assert root is None
    assert located == [("RE111", 3, 10)]


def test_a_spaced_question_mark_in_a_flow_mapping_is_still_a_key() -> None:
    root, located = read_both(HEAD + "limits: {? max : 5}\n")
    assert located == [] and root["limits"] == {"max": 5}


def test_an_anchor_name_runs_to_the_next_space() -> None:
    root, located = read_both(HEAD + "name: &spring:sale Spring sale\n")
    assert located == [] and root["name"] == "Spring sale"


def test_a_non_specific_tag_is_a_tag() -> None:
    _, located = read_both(HEAD + "points: ! 12\n")
    assert [code for code, _, _ in located] == ["RE104"]


def test_a_last_line_of_spaces_without_a_line_break_stays_in_block_text() -> None:
    root, located = read_both(HEAD + "description: |\n  Earn twice\n   ")
    assert located == [] and root["description"] == "Earn twice\n \n"


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "tags: [vip,\n  gold]\n",  # flow lines indented under their key
        HEAD + "tags: [\n  vip,\n]\n",  # a closing bracket at the key's column
        HEAD + 'name: "Spring\n  sale"\n',
        HEAD + "description: >\n  \n  Earn twice\n",  # a line of spaces no longer than text
        HEAD + "tags: [-vip, a-b]\n",
        HEAD + "color: '#fff' # a comment after a space\n",
        HEAD + "description: |\n  Earn twice",
    ],
)
def test_valid_yaml_near_those_corners_still_reads(text: str) -> None:
    root, located = read_both(text)
    assert located == [] and root is not None


@pytest.mark.skipif(not yaml_compose.FAST_PATH, reason="PyYAML built without libyaml")
def test_well_indented_flow_lists_and_quoted_text_over_lines_keep_the_fast_path() -> None:
    """Rule test files write snapshots as flow mappings over many lines: the fast path checks
    their indentation itself instead of leaving every such file to the pure path."""
    text = HEAD + "tags: [vip,\n  gold,\n]\nname: 'Spring\n  sale'\n"
    assert yaml_compose.compose_fast(text) is not None
    assert yaml_compose.compose_fast(HEAD + "tags: [vip,\ngold]\n") is None
