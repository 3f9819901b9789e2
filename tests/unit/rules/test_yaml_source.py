"""The located YAML reader: YAML 1.2 scalars, spans, and what it refuses."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedScalar, find_node, span_of, to_plain
from ruleengine.rules.yaml_source import decode_source, read_document


def read(text: str) -> tuple[LocatedMapping | None, list[Diagnostic]]:
    return read_document(SourceFile("t.yaml", text))


def codes(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in read(text)[1]]


def test_on_yes_no_stay_text_as_in_yaml_1_2() -> None:
    root, problems = read("on: signup\nyes: no\noff: ON\n")
    assert problems == []
    assert root is not None
    assert to_plain(root) == {"on": "signup", "yes": "no", "off": "ON"}


def test_numbers_are_exact_and_dates_stay_text() -> None:
    root, _ = read("a: 300.30\nb: 12\nc: 2026-01-01\nd: true\ne: null\nf: 0x1f\n")
    assert root is not None
    plain = to_plain(root)
    assert plain["a"] == Decimal("300.30") and str(plain["a"]) == "300.30"
    assert plain["b"] == 12 and isinstance(plain["b"], int)
    assert plain["c"] == "2026-01-01"
    assert plain["d"] is True and plain["e"] is None and plain["f"] == 31


def test_spans_point_at_keys_and_values() -> None:
    text = "earning:\n  - id: first\n    points: 5\n"
    root, _ = read(text)
    assert root is not None
    value = find_node(root, ("earning", 0, "points"))
    assert isinstance(value, LocatedScalar) and value.value == 5
    assert text[value.span.start : value.span.end] == "5"
    key_span = span_of(root, ("earning", 0, "points"), key=True)
    assert text[key_span.start : key_span.end] == "points"


def test_duplicate_key_points_at_the_second_and_names_the_first() -> None:
    _, problems = read("a: 1\nb: 2\na: 3\n")
    assert [(d.code, d.line, d.column, d.hint) for d in problems] == [
        ("RE102", 3, 1, "`a` is first set on line 1")
    ]


def test_aliases_are_reported_and_never_expanded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    root, problems = read(bomb)
    assert root is not None
    assert {d.code for d in problems} == {"RE103"}
    assert len(problems) == 24
    assert len(str(to_plain(root))) < 1000  # not 3**8 copies


def test_explicit_tags_are_refused() -> None:
    assert codes("a: !!python/object:os.system echo\n") == [("RE104", 1, 4)]


def test_empty_file_and_non_mapping_roots() -> None:
    assert codes("") == [("RE105", 1, 1)]
    assert codes("# only a comment\n") == [("RE105", 1, 1)]
    assert codes("- a\n- b\n") == [("RE105", 1, 1)]


def test_more_than_one_document() -> None:
    assert [c for c, _, _ in codes("a: 1\n---\nb: 2\n")] == ["RE107"]


def test_syntax_error_is_located_with_a_hint_for_tabs() -> None:
    root, problems = read("a:\n\tb: 1\n")
    assert root is None
    assert [(d.code, d.line) for d in problems] == [("RE101", 2)]
    assert problems[0].hint == "YAML does not allow tabs for indentation; use spaces"


def test_unclosed_quote_is_a_syntax_error() -> None:
    _, problems = read('a: "open\nb: 1\n')
    assert [d.code for d in problems] == ["RE101"]


def test_decode_accepts_utf8_with_bom_and_normalises_line_ends() -> None:
    source = decode_source("f", b"\xef\xbb\xbfa: 1\r\nb: 2\r\n")
    assert isinstance(source, SourceFile)
    assert source.text == "a: 1\nb: 2\n"


def test_decode_refuses_utf16_and_locates_invalid_bytes() -> None:
    utf16 = decode_source("f", "a: 1".encode("utf-16"))
    assert isinstance(utf16, Diagnostic) and utf16.code == "RE106"
    latin = decode_source("f", "a: 1\nb: caf\xe9\n".encode("latin-1"))
    assert isinstance(latin, Diagnostic)
    assert (latin.code, latin.line, latin.column) == ("RE106", 2, 7)


@st.composite
def under_indented_items(draw: st.DrawFn) -> tuple[str, int, int, int]:
    """A list whose last item starts left of the others (but right of the key above): the text,
    the list's column, the item's column and the item's line (all 1-based)."""
    depth = draw(st.integers(0, 3))  # keys above the list, each nested one more step
    lines = [f"{' ' * (2 * level)}k{level}:" for level in range(depth + 1)]
    key_indent = 2 * depth
    list_indent = key_indent + draw(st.integers(2, 6))
    for index in range(draw(st.integers(1, 3))):
        lines.append(f"{' ' * list_indent}- id: item{index}")
        if draw(st.booleans()):
            lines.append(f"{' ' * (list_indent + 2)}more: {index}")
    item_indent = draw(st.integers(key_indent + 1, list_indent - 1))
    lines.append(f"{' ' * item_indent}- stray")
    return "\n".join(lines) + "\n", list_indent + 1, item_indent + 1, len(lines)


@settings(max_examples=100, deadline=None, database=None)
@given(case=under_indented_items())
def test_an_under_indented_list_item_is_named(case: tuple[str, int, int, int]) -> None:
    text, list_column, item_column, item_line = case
    _, problems = read(text)
    assert [(d.code, d.line, d.column) for d in problems] == [("RE101", item_line, item_column)]
    assert problems[0].message == "expected the end of the block, but found a list"
    assert problems[0].hint is not None
    assert problems[0].hint.startswith(
        f"this list item starts in column {item_column}, but the items of the list above"
    )
    assert f"start in column {list_column}; indent" in problems[0].hint
