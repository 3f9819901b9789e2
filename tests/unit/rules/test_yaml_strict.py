"""The reader reads YAML as 1.2 says, or refuses it with a located diagnostic: never a third
reading, and the same on the libyaml and the pure-Python path (`rules.yaml_scanner`).

Each input is written here, in a rule file's own words; the classes were found by running the
YAML test suite (`python -m tests.yaml_suite`).
"""

from __future__ import annotations

from typing import Any

import pytest

from ruleengine.diagnostics.diagnostic import DiagnosticSink
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
    "a comment glued to an opening bracket": (HEAD + "tags: [#note\n  b]\n", (3, 8)),
    "a comment glued to an opening brace": (HEAD + "tags: {#note\n  b: 1}\n", (3, 8)),
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


RULE = "earning:\n  - id: a\n    name: A\n    on: signup\n"


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
@pytest.mark.parametrize(
    ("text", "line", "column"),
    [  # YAML 1.1 read a rule `b`, a disabled rule and a name of two lines out of these
        (RULE + "    points: 1\n# c{}  - id: b\n", 8, 4),
        (RULE + "    points: 1 # c{}    enabled: false\n", 7, 18),
        (RULE + "    points: 1\n    description: a{}b\n", 8, 19),
        (RULE + '    points: 1\n    description: "a{}b"\n', 8, 20),
    ],
)
def test_a_line_break_only_to_yaml_1_1_is_re111_where_it_is(
    char: str, text: str, line: int, column: int
) -> None:
    text = HEAD + text.format(char)
    root, located = read_both(text)
    assert root is None and located == [("RE111", line, column)]
    refused = format_text(text)
    assert refused.text is None and [d.code for d in refused.diagnostics] == ["RE111"]


def test_a_line_separator_written_as_an_escape_is_text() -> None:
    root, located = read_both(HEAD + 'description: "a\\u2028b"\n')
    assert located == [] and root["description"] == "a\u2028b"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("attributes: {lifetime_value: decimal?}\n", {"lifetime_value": "decimal?"}),
        ("attributes: {vip?: bool, region: string?}\n", {"vip?": "bool", "region": "string?"}),
        ("attributes: [a?b, c ? d, e?]\n", ["a?b", "c ? d", "e?"]),
    ],
)
def test_a_question_mark_inside_flow_text_is_text(text: str, value: Any) -> None:
    root, located = read_both(HEAD + text)
    assert located == [] and root["attributes"] == value
    formatted = format_text(HEAD + text)
    assert formatted.text == HEAD + text


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


# YAML 1.2 separates with tabs inside a line, on blank lines and after a line's indentation:
# these used to be refused (RE101, "a tab character where YAML expects indentation").
TABS_THAT_SEPARATE = {
    "after a key's colon": (HEAD + "name:\tSpring sale\n", {"name": "Spring sale"}),
    "after a list dash": (HEAD + "tags:\n  -\tvip\n  - gold\n", {"tags": ["vip", "gold"]}),
    "after a comma": (HEAD + "tags: [vip,\tgold]\n", {"tags": ["vip", "gold"]}),
    "before a comment": (HEAD + "points: 5\t# per euro\n", {"points": 5}),
    "at the end of a line": (HEAD + "currency: EUR\t\n", {"currency": "EUR"}),
    "on a blank line": (HEAD + "currency: EUR\n\t\nname: Spring\n", {"name": "Spring"}),
    "inside plain text": (HEAD + "name: Spring\tsale\n", {"name": "Spring\tsale"}),
    "after the indentation of a value": (HEAD + "name:\n  \tSpring\n", {"name": "Spring"}),
    "after the indentation of a continued line": (
        HEAD + "name: Spring\n  \tsale\n",
        {"name": "Spring sale"},
    ),
}


@pytest.mark.parametrize(
    ("text", "expected"), TABS_THAT_SEPARATE.values(), ids=list(TABS_THAT_SEPARATE)
)
def test_a_tab_that_separates_reads_as_a_space(text: str, expected: dict[str, Any]) -> None:
    root, located = read_both(text)
    assert located == [], located
    assert root is not None and expected.items() <= root.items(), root


# Where a tab stands for indentation, YAML 1.2 refuses it too: still RE101, at the tab or at
# the list or mapping it would indent.
TABS_THAT_INDENT = {
    "indenting a value": (HEAD + "name:\n\tSpring\n", (4, 1)),
    "indenting a list item": (HEAD + "tags:\n\t- vip\n", (4, 1)),
    "before a nested list on its line": (HEAD + "tags:\n  -\t- vip\n", (4, 5)),
    "before a nested mapping on its line": (HEAD + "limits:\n  -\tmax: 5\n", (4, 5)),
    "on a blank line below block text": (HEAD + "description: |\n\t\ncurrency: EUR\n", (4, 1)),
    "before an empty key that would start a mapping": (HEAD + "limits:\n  \t: 5\n", (4, 4)),
}


@pytest.mark.parametrize(("text", "where"), TABS_THAT_INDENT.values(), ids=list(TABS_THAT_INDENT))
def test_a_tab_that_would_indent_is_still_refused(text: str, where: tuple[int, int]) -> None:
    root, located = read_both(text)
    assert root is None
    assert located[0][0] == "RE101" and located[0][1:] == where, located


# An empty key is valid YAML 1.2 that no rule file can hold: refused by name (RE112) at its
# `:`, where it used to be a syntax error (RE101) that said nothing about keys.
EMPTY_KEYS = {
    "in a block mapping": (HEAD + "limits:\n  max: 5\n  : 6\n", (5, 3)),
    "as the only key of a list item": (HEAD + "tags:\n  - :\n", (4, 5)),
    "in a flow mapping": (HEAD + "limits: {max: 5, : 6}\n", (3, 18)),
    "in a flow list": (HEAD + "tags: [vip, : gold]\n", (3, 13)),
    "as an explicit key's content": (HEAD + "limits:\n  ? : x\n", (4, 5)),
}


@pytest.mark.parametrize(("text", "where"), EMPTY_KEYS.values(), ids=list(EMPTY_KEYS))
def test_an_empty_key_is_refused_by_name(text: str, where: tuple[int, int]) -> None:
    root, located = read_both(text)
    assert root is None
    assert located == [("RE112", *where)], located
    _, diagnostics = read_document(SourceFile("t.yaml", text))
    assert "empty key" in diagnostics[0].message and "give the key a name" in diagnostics[0].message


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "limits:\n  : 5\nname: [Spring\n",  # an unclosed `[` below the empty key
        HEAD + "limits: : 5\n",  # a mapping cannot start after `limits:` on its line
    ],
)
def test_re112_is_not_said_of_text_broken_otherwise(text: str) -> None:
    root, located = read_both(text)
    assert root is None and located and located[0][0] == "RE101", located


# In `[...]` and `{...}`, a `:` glued to the text after it starts text in YAML 1.2, unless it
# follows a quoted key or a bracket: these used to be RE101 ("expected the node content").
GLUED_COLONS = {
    "starting a list item": (HEAD + "tags: [:vip]\n", {"tags": [":vip"]}),
    "starting a value": (HEAD + "limits: {max: :5}\n", {"limits": {"max": ":5"}}),
    "twice": (HEAD + "tags: [ ::vip, gold ]\n", {"tags": ["::vip", "gold"]}),
    "after a quoted key": (HEAD + 'limits: {"max":5}\n', {"limits": {"max": 5}}),
    "after a quoted key, then text": (HEAD + 'limits: {"max"::5}\n', {"limits": {"max": ":5"}}),
}


@pytest.mark.parametrize(("text", "expected"), GLUED_COLONS.values(), ids=list(GLUED_COLONS))
def test_a_colon_glued_to_text_in_a_flow_collection(text: str, expected: dict[str, Any]) -> None:
    root, located = read_both(text)
    assert located == [], located
    assert root is not None and expected.items() <= root.items(), root


@pytest.mark.parametrize("text", ["...\n", "# no rules yet\n...\n"])
def test_a_document_end_with_no_document_is_no_document(text: str) -> None:
    """A stream of only `...` (and comments) holds no document in YAML 1.2: RE105, as an
    empty file is, where it used to be RE101 ("expected the node content")."""
    root, located = read_both(text)
    assert root is None and [code for code, _, _ in located] == ["RE105"], located


def test_a_document_end_before_the_first_document_is_skipped() -> None:
    root, located = read_both("...\n---\n" + HEAD)
    assert located == [] and root == {"version": 1, "program": "strict"}


# Inside `{...}` a key may span lines and its `:` may stand on a later line (YAML 1.2); PyYAML
# holds every key to one line, so these were RE101 ("not closed before the next key").
KEYS_OVER_LINES = {
    "a quoted key, its `:` below": (HEAD + 'limits: {"max"\n  : 5}\n', {"max": 5}),
    "a plain key, its `:` below": (HEAD + "limits: {max\n  : 5}\n", {"max": 5}),
    "a plain key over two lines": (HEAD + "limits: {spring\n  sale: 5}\n", {"spring sale": 5}),
    "a comment between key and `:`": (HEAD + 'limits: {"max" # cap\n  : 5}\n', {"max": 5}),
}


@pytest.mark.parametrize(("text", "expected"), KEYS_OVER_LINES.values(), ids=list(KEYS_OVER_LINES))
def test_a_key_in_braces_may_span_lines(text: str, expected: dict[str, Any]) -> None:
    root, located = read_both(text)
    assert located == [], located
    assert root is not None and root["limits"] == expected, root


def test_a_key_in_brackets_still_has_its_colon_on_its_line() -> None:
    """`[a: b]` holds a one-pair mapping whose key is one line long, in YAML 1.2 too."""
    root, located = read_both(HEAD + "tags: [vip\n  : gold]\n")
    assert root is None and located[0][0] == "RE101", located


def test_a_tab_separates_a_yaml_directive_from_its_version() -> None:
    root, located = read_both("%YAML \t1.2\n---\n" + HEAD)
    assert located == [] and root == {"version": 1, "program": "strict"}


# After `...` any document may follow in YAML 1.2: a bare one (no `---`), or one with
# directives. PyYAML wanted `---` there, so these were RE101 ("does not line up"). A rule file
# is one document, so a second one is RE107, as it is after `---`; the first still reads.
STREAMS = {
    "a bare document after `...`": (HEAD + "...\nprogram: other\n", (4, 1)),
    "a bare document after `...` and comments": (HEAD + "...\n# next\n\nmore: 1\n", (6, 1)),
    "a bare document after two `...`": (HEAD + "...\n...\nmore: 1\n", (5, 1)),
    "a directive after `...`": (HEAD + "...\n%YAML 1.2\n---\nmore: 1\n", (4, 1)),
    "`---` after `...`": (HEAD + "...\n---\nmore: 1\n", (4, 1)),
}


@pytest.mark.parametrize(("text", "where"), STREAMS.values(), ids=list(STREAMS))
def test_a_document_after_a_document_end_is_a_second_document(
    text: str, where: tuple[int, int]
) -> None:
    root, located = read_both(text)
    assert root is None and located == [("RE107", *where)], located
    assert format_text(text).text is None
    hint = read_document(SourceFile("t.yaml", text))[1][0].hint
    marker = "`---` line" if text.splitlines()[where[0] - 1] == "---" else "what follows `...`"
    assert hint is not None and marker in hint, hint


@pytest.mark.parametrize(
    "text", [HEAD + "... more: 1\n", "--- |\n  text\n... %YAML 1.2\n"], ids=["a key", "a directive"]
)
def test_nothing_but_a_comment_follows_a_document_end_on_its_line(text: str) -> None:
    root, located = read_both(text)
    line = text.count("\n")
    assert root is None and located == [("RE101", line, 5)], located


def test_a_comment_may_follow_a_document_end() -> None:
    root, located = read_both(HEAD + "... # the end\n# more notes\n")
    assert located == [] and root == {"version": 1, "program": "strict"}


def test_a_bare_document_after_a_leading_document_end_is_the_document() -> None:
    root, located = read_both("...\n" + HEAD)
    assert located == [] and root == {"version": 1, "program": "strict"}


def test_a_document_with_only_an_end_marker_still_reads() -> None:
    text = "%YAML 1.2\n---\n" + HEAD + "...\n# the end\n"
    root, located = read_both(text)
    assert located == [] and root == {"version": 1, "program": "strict"}
    assert format_text(text).text is not None


@pytest.mark.parametrize(
    "text",
    [HEAD + "%YAML 1.2\n---\nmore: 1\n", "--- |\n  text\n%YAML 1.2\n---\nmore: 1\n"],
    ids=["after a mapping", "after block text"],
)
def test_a_directive_without_a_document_end_above_it_is_refused_there(text: str) -> None:
    """YAML 1.2 lets directives follow only `...` (or start the file)."""
    root, located = read_both(text)
    line = text[: text.index("%")].count("\n") + 1
    assert root is None and located == [("RE101", line, 1)], located


# The text of a block scalar at the top of a document may start in column 0 (YAML 1.2; PyYAML
# and libyaml want column 1 and read `--- |\nline` as an empty text, then fail on `line`).
# Such a file is no mapping (RE105), but it must be read as 1.2 says, never another way.
TOP_BLOCK_TEXT = {
    "literal": ("--- |\nline one\n  line two\n", "line one\n  line two\n"),
    "folded, with a `#` line": ("--- >\nline one\n# not a comment\n", "line one # not a comment\n"),
    "ended by `...`": ("--- |\nline\n...\n", "line\n"),
    "ended by `---`": ("--- |\nline\n---\nkey: 1\n", None),  # two documents: RE107
    "a `%` line is text": ("--- |\n%text\n", "%text\n"),
    "explicit indentation 1 means column 0": ("--- |1\n text\n", " text\n"),
    "indented as usual": ("--- |\n  text\n", "text\n"),
    "nothing": ("--- |\n...\n", ""),
}


@pytest.mark.parametrize(("text", "value"), TOP_BLOCK_TEXT.values(), ids=list(TOP_BLOCK_TEXT))
def test_block_text_at_the_top_may_start_in_column_zero(text: str, value: str | None) -> None:
    root, located = read_both(text)
    assert root is None
    assert [code for code, _, _ in located] == (["RE105"] if value is not None else ["RE107"])
    if value is not None:
        assert read_value(text) == value
    assert format_text(text).text == (text if value is not None else None)


def test_spaces_above_top_block_text_are_no_longer_than_its_indentation() -> None:
    root, located = read_both("--- |\n  \nline\n")
    assert root is None and located == [("RE101", 3, 1)], located


def read_value(text: str) -> Any:
    """The value at the root of `text`, whatever it is (the reader only keeps mappings)."""
    source = SourceFile("t.yaml", text)
    sink = DiagnosticSink(source)
    composed = yaml_compose.compose_pure(source, sink, 64)
    assert composed is not None and composed.root is not None, sink.diagnostics
    return composed.root.value


# A tag's name ends at a flow indicator (YAML 1.2 `ns-tag-char`), so a tag with no value may
# stand before `,`, `]` or `}` (PyYAML read `!!str,` as the tag `str,`). Tags are refused
# (RE104) either way, but at the tag, and with the rest of the file read as 1.2 reads it.
EMPTY_TAGGED = {
    "a value in braces": (HEAD + "limits: {max: !!str, min: 1}\n", [(3, 15)]),
    "a key in braces": (HEAD + "limits: {!!str : 5, max: 1}\n", [(3, 10)]),
    "before a closing brace": (HEAD + "limits: {max: !!str}\n", [(3, 15)]),
    "items in brackets": (HEAD + "tags: [!!str, !a,!b]\n", [(3, 8), (3, 15), (3, 18)]),
    "a non-specific tag in brackets": (HEAD + "tags: [!, vip]\n", [(3, 8)]),
    "over lines": (HEAD + "limits: {\n  max : !!str,\n  !!str : bar,\n}\n", [(4, 9), (5, 3)]),
    "a block value": (HEAD + "name: !!str\n", [(3, 7)]),
    "a block list item": (HEAD + "tags:\n  - !!str\n  - vip\n", [(4, 5)]),
    "a tab after the tag": (HEAD + "name: !!str\tSpring\n", [(3, 7)]),
}


@pytest.mark.parametrize(("text", "tags"), EMPTY_TAGGED.values(), ids=list(EMPTY_TAGGED))
def test_a_tag_with_no_value_is_refused_as_a_tag(text: str, tags: list[tuple[int, int]]) -> None:
    _, located = read_both(text)
    assert located == [("RE104", *where) for where in tags], located
    assert format_text(text).text is None


@pytest.mark.parametrize(
    ("text", "where"),
    [(HEAD + "name: !a,b Spring\n", (3, 9)), (HEAD + "tags: [!a[b]]\n", (3, 10))],
    ids=["a comma in a block tag", "a bracket after a tag in brackets"],
)
def test_a_flow_indicator_glued_to_a_tag_is_not_part_of_it(
    text: str, where: tuple[int, int]
) -> None:
    root, located = read_both(text)
    assert root is None and located[0] == ("RE101", *where), located


@pytest.mark.parametrize(
    ("text", "value"),
    [("--- >\n# not a comment\n", "# not a comment\n"), ("--- |1\n  text\n", "  text\n")],
    ids=["a `#` line", "an indentation indicator"],
)
def test_top_block_text_is_read_by_the_strict_scanner_on_both_paths(text: str, value: str) -> None:
    """libyaml reads these without an error, but as 1.1 would (`""`, `" text"`)."""
    assert yaml_compose.compose_fast(text) is None
    assert read_value(text) == value
