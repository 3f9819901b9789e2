"""Offsets -> line/column, snippets, and the alignment of YAML scalar values with file text."""

from __future__ import annotations

import pytest

from ruleengine.diagnostics.source import OffsetMap, SourceFile, Span, align_value


def test_location_is_one_based_and_counts_characters() -> None:
    source = SourceFile("f.yaml", "ab\ncdé\nf")
    assert (source.location(0).line, source.location(0).column) == (1, 1)
    assert (source.location(3).line, source.location(3).column) == (2, 1)
    assert (source.location(6).line, source.location(6).column) == (2, 4)  # after `é`
    assert (source.location(7).line, source.location(7).column) == (3, 1)


def test_location_clamps_to_text() -> None:
    source = SourceFile("f", "abc")
    assert source.location(99).column == 4
    assert source.location(-5).column == 1


def test_snippet_is_the_whole_lines_a_span_touches() -> None:
    source = SourceFile("f", "one\ntwo\nthree\n")
    assert source.snippet(Span(5, 6)) == "two"
    assert source.snippet(Span(1, 10)) == "one\ntwo\nthree"


def test_span_rejects_reversed_ranges() -> None:
    with pytest.raises(ValueError):
        Span(3, 2)


def test_identity_map_translates_offsets_by_base() -> None:
    offsets = OffsetMap.identity(5, base=10)
    assert offsets.to_file(Span(1, 3)) == Span(11, 13)


def test_plain_scalar_aligns_one_to_one() -> None:
    text = "when: a >= 1\n"
    offsets = align_value("a >= 1", text[6:12], 6)
    assert offsets.to_file(Span(5, 6)) == Span(11, 12)


def test_literal_block_skips_header_and_indentation() -> None:
    text = "when: |\n  a\n  and b\n"
    raw = text[6:]
    value = "a\nand b\n"
    offsets = align_value(value, raw, 6)
    b_at = value.index("b")
    assert text[offsets.to_file(Span(b_at, b_at + 1)).start] == "b"
    assert offsets.exact


def test_folded_plain_scalar_maps_space_to_line_break() -> None:
    text = "when: a and\n  b\n"
    raw = text[6:15]
    value = "a and b"
    offsets = align_value(value, raw, 6)
    assert text[offsets.to_file(Span(6, 7)).start] == "b"


def test_double_quoted_scalar_skips_the_quote() -> None:
    text = 'when: "x == 1"'
    offsets = align_value("x == 1", text[6:], 6)
    assert offsets.to_file(Span(0, 1)) == Span(7, 8)


def test_escape_in_double_quoted_scalar_maps_to_the_whole_sequence() -> None:
    text = 'when: "a\\tb"'
    offsets = align_value("a\tb", text[6:], 6)
    assert offsets.exact
    assert offsets.to_file(Span(1, 2)) == Span(8, 10)  # `\t`
    assert offsets.to_file(Span(2, 3)) == Span(10, 11)  # `b`, after the escape
    assert offsets.to_file(Span(0, 3)) == Span(7, 11)


@pytest.mark.parametrize(
    ("escape", "decoded"),
    [
        ('\\"', '"'),
        ("\\\\", "\\"),
        ("\\n", "\n"),
        ("\\/", "/"),
        ("\\x41", "A"),
        ("\\u00e9", "\u00e9"),
        ("\\U0001F600", "\U0001f600"),
    ],
)
def test_escapes_are_aligned_and_later_characters_keep_their_position(
    escape: str, decoded: str
) -> None:
    text = f'when: "x == {escape} && y"'
    value = f"x == {decoded} && y"
    offsets = align_value(value, text[6:], 6)
    assert offsets.exact
    at = value.index(decoded)
    escaped = offsets.to_file(Span(at, at + 1))
    assert text[escaped.start : escaped.end] == escape
    amp = value.index("&&")
    operator = offsets.to_file(Span(amp, amp + 2))
    assert text[operator.start : operator.end] == "&&"


def test_escaped_line_break_joins_lines_without_a_character() -> None:
    text = 'when: "a and\\\n    b"'
    offsets = align_value("a andb", text[6:], 6)
    assert offsets.exact
    assert text[offsets.to_file(Span(5, 6)).start] == "b"


def test_unmatched_value_falls_back_to_the_whole_scalar() -> None:
    text = 'when: "a\\qb"'  # not a YAML escape; the value cannot be found in the text
    offsets = align_value("a?b", text[6:], 6)
    assert not offsets.exact
    assert offsets.to_file(Span(2, 3)) == Span(6, len(text))


def test_empty_block_scalar_points_at_its_indicator() -> None:
    text = "when: |\npoints: 5\n"
    offsets = align_value("", text[6:8], 6)
    assert offsets.to_file(Span(0, 0)) == Span(6, 6)
