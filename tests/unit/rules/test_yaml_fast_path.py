"""The libyaml fast path composes exactly the tree, and reports exactly the diagnostics, of the
pure-Python path it stands in for."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from caseio import ROOT
from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules import yaml_compose
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedNode, LocatedScalar, to_plain
from ruleengine.rules.yaml_source import read_document

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")

TESTS = ROOT / "tests"
CASES = TESTS / "cases" / "check"

# tests/caseio.py, loaded by path: tests/ is not on sys.path when this file runs alone.
_spec = importlib.util.spec_from_file_location("caseio", TESTS / "caseio.py")
assert _spec is not None and _spec.loader is not None
caseio = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(caseio)
load_cases = caseio.load_cases
example_rule_files = caseio.example_rule_files


def _case_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in load_cases(path):
            if isinstance(case.get("rules"), str):
                texts.append((f"{path.stem}::{case['name']}", case["rules"]))
    return texts


def _example_texts() -> list[tuple[str, str]]:
    return [(path.name, path.read_text(encoding="utf-8")) for path in example_rule_files()]


HEAD = "version: 1\nprogram: p\n"

EDGE_TEXTS = {
    "non_ascii": HEAD
    + "name: Café 😀 中文字\nnote: 'é😀' # ünïcode comment\nx: \"\\u00e9 \\U0001F600\"\n",
    "non_ascii_keys": "é: 1\n😀: [中, 文]\n字: {ü: é}\n",
    "literal_block": HEAD + "a: |\n  line 1 é\n   indented\n\n  😀 last\nb: 1\n",
    "literal_keep": HEAD + "a: |+\n  kept\n\n\nb: 1\n",
    "literal_strip": HEAD + "a: |-\n  stripped\n\nb: 1\n",
    "literal_indent_indicator": HEAD + "a: |2\n    four\n  two\nb: 1\n",
    "folded": HEAD + "a: >\n  folded\n  text é\n\n  para\n    more\nb: 1\n",
    "folded_strip_indent": HEAD + "a: >-2\n   x\n  y\nb: >+\n  z\n\n",
    "block_at_end": HEAD + "a: |\n  last line without break",
    "double_quoted_escapes": HEAD + 'a: "tab\\tnew\\nline \\"q\\" \\\\ \\x41 \\u263A"\n',
    "double_quoted_folded": HEAD + 'a: "one\n  two\n\n  three \\\n  four"\n',
    "single_quoted": HEAD + "a: 'it''s é'\nb: 'multi\n  line'\n",
    "plain_multiline": HEAD + "a: one\n  two\n\n  three\nb: x # c\n",
    "flow": HEAD + "a: [1, 2.50, 'x', \"y\", {k: v, n: null}, [], {}]\n",
    "flow_nested_value": HEAD + "b: {a: b: c}\n",
    "flow_empty_values": HEAD + "a: {k: , j: 1}\nb: {k: }\nc: [k: ]\nd: {k}\n",
    "flow_multiline": HEAD + "a: [\n  1,\n  2,\n]\nb: {x: 1,\n  y: 2}\n",
    "flow_colon": HEAD + "a: [http://x.y, a:b]\n",
    "flow_question": HEAD + "a: {score: int, topic: string?}\n",
    "flow_question_quoted": HEAD + "a: {topic: 'string?'}\n",
    "block_question": HEAD + "a: why?\nb: - x?y\n",
    "empty": "",
    "only_comment": "# nothing here\n",
    "only_document_start": "---\n",
    "document_start_end": "---\na: 1\n...\n",
    "document_end_only": "a: 1\n...\n",
    "two_documents": "a: 1\n---\nb: 2\n",
    "scalar_root": "just text\n",
    "list_root": "- a\n- b\n",
    "comments": "# head\nversion: 1 # one\n\n# between\nprogram: p\n  # indented comment\n",
    "trailing_spaces": HEAD + "a: x   \nb:   \nc:\n",
    "null_values": HEAD + "a:\nb: ~\nc: null\nd: Null\ne: ''\n",
    "numbers": HEAD + "a: 0x1F\nb: 0o17\nc: -12\nd: +1.5e3\ne: .5\nf: 1.\ng: 012\nh: 1_000\n",
    "bools": HEAD + "a: true\nb: False\nc: on\nd: yes\ne: TRUE\n",
    "dates": HEAD + "a: 2026-01-01\nb: 2026-01-01T10:00:00Z\n",
    "anchors_aliases": HEAD + "a: &x {k: 1}\nb: *x\nc: [*x, *x]\n",
    "undefined_alias": HEAD + "a: *nowhere\n",
    "duplicate_anchor": HEAD + "a: &x 1\nb: &x 2\n",
    "alias_key": HEAD + "a: &k key\n*k : 2\n",
    "tags": HEAD + "a: !!int 12\nb: !!str 12\nc: !custom x\nd: ! 12\ne: !!int abc\n",
    "tagged_collections": HEAD + "a: !!map {k: v}\nb: !!seq [1]\nc: !<tag:x> y\n",
    "tag_directive": "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "yaml_directive": "%YAML 1.1\n---\na: 1\n",
    "duplicate_keys": HEAD + "a: 1\nb: 2\na: 3\nx: {k: 1, k: 2}\n",
    "non_scalar_key": HEAD + "? [a, b]\n: 1\n? {k: v}\n: 2\n",
    "explicit_key": HEAD + "? a\n: 1\n? b\n",
    "nested": HEAD + "a:\n  - b:\n      - c: [1, {d: e}]\n    f: g\n  -\n  - - x\n",
    "tab": HEAD + "a:\tb\n",
    "tab_in_quotes": HEAD + "a: 'x\ty'\n",
    "lone_cr": HEAD + "a: b\rc: d\n",
    "line_separator": HEAD + "a: b\u2028c\n",
    "next_line": HEAD + "a: b\x85c\n",
    "bom_inside": HEAD + "a: \ufeffb\n",
    "control_character": HEAD + "a: b\x07\n",
    "syntax_error": HEAD + "a: [1, 2\nb: 3\n",
    "unclosed_quote": HEAD + 'a: "x\nb: 2\n',
    "long_key": HEAD + "k" * 2000 + ": 1\n",
}


def _read(text: str, *, fast: bool) -> tuple[LocatedMapping | None, list[Diagnostic]]:
    saved = yaml_compose.FAST_PATH
    yaml_compose.FAST_PATH = fast
    try:
        return read_document(SourceFile("t.yaml", text))
    finally:
        yaml_compose.FAST_PATH = saved


def _shape(node: LocatedNode) -> object:
    """Every field of every node, the scalar values with their exact type and digits."""
    if isinstance(node, LocatedScalar):
        value = (type(node.value).__name__, repr(node.value))
        return ("scalar", value, node.text, node.style, node.span, node.offsets)
    if isinstance(node, LocatedMapping):
        items = [(_shape(key), _shape(value)) for key, value in node.items]
        return ("mapping", node.span, items)
    return ("sequence", node.span, [_shape(item) for item in node.items])


def assert_same(text: str) -> None:
    fast_root, fast_diagnostics = _read(text, fast=True)
    pure_root, pure_diagnostics = _read(text, fast=False)
    assert fast_diagnostics == pure_diagnostics
    if pure_root is None:
        assert fast_root is None
        return
    assert fast_root is not None
    assert to_plain(fast_root) == to_plain(pure_root)
    assert _shape(fast_root) == _shape(pure_root)
    assert fast_root == pure_root


ALL_TEXTS = _case_texts() + _example_texts() + sorted(EDGE_TEXTS.items())


@pytest.mark.parametrize(("name", "text"), ALL_TEXTS, ids=[name for name, _ in ALL_TEXTS])
def test_fast_path_matches_pure_path(name: str, text: str) -> None:
    assert_same(text)


@pytest.mark.parametrize(("name", "text"), _example_texts(), ids=[n for n, _ in _example_texts()])
def test_example_files_take_the_fast_path(name: str, text: str) -> None:
    assert yaml_compose.compose_fast(text) is not None


def test_the_fast_path_is_on_with_libyaml() -> None:
    assert yaml_compose.FAST_PATH


@pytest.mark.parametrize(
    "name",
    ["non_ascii", "literal_block", "folded", "double_quoted_escapes", "flow", "anchors_aliases"],
)
def test_well_formed_edge_texts_take_the_fast_path(name: str) -> None:
    assert yaml_compose.compose_fast(EDGE_TEXTS[name]) is not None


@pytest.mark.parametrize(
    "name",
    [
        "two_documents",
        "tags",
        "tagged_collections",
        "duplicate_anchor",
        "tab",
        "lone_cr",
        "line_separator",
        "bom_inside",
        "control_character",
        "flow_question",
        "flow_empty_values",
        "syntax_error",
        "unclosed_quote",
    ],
)
def test_the_fast_path_declines_what_the_pure_path_decides(name: str) -> None:
    assert yaml_compose.compose_fast(EDGE_TEXTS[name]) is None


def test_mutated_texts_match() -> None:
    """Every one-character deletion and a few insertions in a small rule file: the fast path
    either composes what the pure path composes or leaves the text to it."""
    base = (
        'version: 1\nprogram: p\nearning:\n  - id: a\n    when: "x > 1"\n'
        "    points: [1, 'é', {k: v}]\n    note: |\n      text\n"
    )
    for at in range(len(base) + 1):
        assert_same(base[:at] + base[at + 1 :])
        for extra in (" ", ":", "-", "#", "'", "[", "{", "?", "&", "*", "!", "\n"):
            assert_same(base[:at] + extra + base[at:])
