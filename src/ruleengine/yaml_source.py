"""Text -> located YAML tree: every node keeps its span, so later phases can point at it.

The loader is PyYAML's pure-Python composer with two changes that matter for rule files:

* scalars resolve by the YAML 1.2 core schema, so `on`, `off`, `yes` and `no` stay text (YAML
  1.1 reads `on: signup` as `{True: "signup"}`), dates stay text until the models parse them,
  and decimals become `Decimal` from their own text, never through a float;
* aliases, explicit tags, duplicate keys and extra documents are diagnostics, not behaviour.
  Aliases are never expanded, so an alias bomb costs nothing.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from ruleengine.diagnostics import Diagnostic, DiagnosticSink, PathPart, make_diagnostic
from ruleengine.source import OffsetMap, SourceFile, Span, align_value

ScalarValue: TypeAlias = str | int | Decimal | bool | None

_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True, slots=True)
class LocatedScalar:
    """A scalar with its typed value, its text as written, and where it stands in the file."""

    value: ScalarValue
    text: str
    style: str | None  # None (plain), "'", '"', "|" or ">"
    span: Span
    offsets: OffsetMap  # value offsets -> file offsets, for expressions inside the scalar


@dataclass(frozen=True, slots=True)
class LocatedMapping:
    items: tuple[tuple[LocatedScalar, LocatedNode], ...]
    span: Span

    def get(self, key: str) -> tuple[LocatedScalar, LocatedNode] | None:
        for key_node, value in self.items:
            if key_node.text == key:
                return key_node, value
        return None


@dataclass(frozen=True, slots=True)
class LocatedSequence:
    items: tuple[LocatedNode, ...]
    span: Span


LocatedNode: TypeAlias = LocatedScalar | LocatedMapping | LocatedSequence


# -- decoding -------------------------------------------------------------------------------


def decode_source(name: str, data: bytes) -> SourceFile | Diagnostic:
    """Decode a rule file's bytes as UTF-8 (a UTF-8 byte-order mark is allowed)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _encoding_error(name, "", 0, "the file is UTF-16 encoded; rule files are UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        good = data[: error.start].decode("utf-8-sig", errors="replace")
        return _encoding_error(
            name,
            good + "\ufffd",
            len(good),
            f"invalid UTF-8 byte 0x{data[error.start]:02x}; rule files are UTF-8",
        )
    return SourceFile(name, text.replace("\r\n", "\n"))


def _encoding_error(name: str, text: str, offset: int, message: str) -> Diagnostic:
    source = SourceFile(name, text)
    return make_diagnostic(
        source,
        Span(offset, min(offset + 1, len(text))),
        "RE106",
        message,
        hint="save the file as UTF-8",
    )


# -- the loader ---------------------------------------------------------------------------------


class _CoreResolver(BaseResolver):
    """Implicit tags of the YAML 1.2 core schema (no timestamps, no yes/no/on/off)."""


_CoreResolver.add_implicit_resolver(
    f"{_TAG}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_CoreResolver.add_implicit_resolver(
    f"{_TAG}int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_CoreResolver.add_implicit_resolver(
    f"{_TAG}float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
_CoreResolver.add_implicit_resolver(
    f"{_TAG}null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


class _Loader(Reader, Scanner, Parser, Composer, _CoreResolver):
    """A composer that records aliases and explicit tags instead of honouring them."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)
        self.aliases: list[Span] = []
        self.tags: list[tuple[Span, str]] = []

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML is untyped here
        span = Span(event.start_mark.index, max(event.start_mark.index, event.end_mark.index))
        if isinstance(event, yaml.AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]
            self.aliases.append(span)
            # A placeholder instead of the anchored node: aliases are never expanded.
            return _placeholder(event)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            self.tags.append((span, str(tag).replace(_TAG, "!!")))
        return super().compose_node(parent, index)


def _placeholder(event: yaml.AliasEvent) -> ScalarNode:
    node = ScalarNode(f"{_TAG}null", "")
    node.start_mark, node.end_mark = event.start_mark, event.end_mark
    return node


def read_document(source: SourceFile) -> tuple[LocatedMapping | None, list[Diagnostic]]:
    """Compose `source` into a located tree; the root must be a mapping.

    Returns the tree (None when the text is not usable YAML) and every diagnostic found.
    """
    sink = DiagnosticSink(source)
    try:
        # The Reader checks the whole text for characters YAML forbids as it is constructed.
        loader = _Loader(source.text)
    except yaml.reader.ReaderError as error:
        _report_reader_error(sink, error)
        return None, sink.diagnostics
    try:
        root = loader.get_single_node()
    except yaml.composer.ComposerError as error:
        _report_yaml_error(sink, error, code="RE107")
        return None, sink.diagnostics
    except yaml.MarkedYAMLError as error:
        _report_yaml_error(sink, error)
        return None, sink.diagnostics
    except yaml.reader.ReaderError as error:
        _report_reader_error(sink, error)
        return None, sink.diagnostics
    except yaml.YAMLError as error:
        sink.report(Span(0, min(1, len(source.text))), "RE101", _first_line(str(error)))
        return None, sink.diagnostics
    finally:
        loader.dispose()
    for span in loader.aliases:
        sink.report(
            span,
            "RE103",
            "aliases are not allowed in rule files",
            hint="write the value out in full",
        )
    for span, tag in loader.tags:
        sink.report(
            span,
            "RE104",
            f"explicit tag `{tag}` is not allowed",
            hint="remove the tag; rule files use plain YAML values",
        )
    if root is None:
        sink.report(
            Span(0, 0),
            "RE105",
            "the file is empty",
            hint="a rule file starts with `version: 1` and `program: <id>`",
        )
        return None, sink.diagnostics
    located = _locate(root, source, sink)
    if not isinstance(located, LocatedMapping):
        sink.report(
            located.span,
            "RE105",
            "a rule file must be a mapping of keys to values",
            hint="a rule file starts with `version: 1` and `program: <id>`",
        )
        return None, sink.diagnostics
    return located, sink.diagnostics


def _report_yaml_error(
    sink: DiagnosticSink, error: yaml.MarkedYAMLError, code: str = "RE101"
) -> None:
    mark = error.problem_mark or error.context_mark
    offset = mark.index if mark is not None else 0
    problem = error.problem or error.context or "invalid YAML"
    hint = None
    if "\\t" in problem or "'\\t'" in problem:
        hint = "YAML does not allow tabs for indentation; use spaces"
    elif error.context and error.context_mark is not None and error.context_mark is not mark:
        where = sink.source.location(error.context_mark.index)
        hint = f"{error.context} at line {where.line}, column {where.column}"
    message = "the file has more than one YAML document" if code == "RE107" else problem
    sink.report(Span(offset, min(offset + 1, len(sink.source.text))), code, message, hint=hint)


def _report_reader_error(sink: DiagnosticSink, error: yaml.reader.ReaderError) -> None:
    """A character YAML does not allow anywhere in a file (a control character, say)."""
    position = max(0, min(int(error.position), len(sink.source.text)))
    character = error.character
    if isinstance(character, int):
        message = f"the file contains U+{character:04X}, a character YAML does not allow"
    else:
        message = "the file contains a character YAML does not allow"
    sink.report(
        Span(position, min(position + 1, len(sink.source.text))),
        "RE101",
        message,
        hint="remove the character (it is invisible in most editors)",
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid YAML"


def _node_span(node: Node, source: SourceFile) -> Span:
    start, end = node.start_mark.index, node.end_mark.index
    while end > start and source.text[end - 1] in " \t\r\n":
        end -= 1
    return Span(start, end)


def _locate(node: Node, source: SourceFile, sink: DiagnosticSink) -> LocatedNode:
    span = _node_span(node, source)
    if isinstance(node, ScalarNode):
        return _locate_scalar(node, span, source)
    if isinstance(node, SequenceNode):
        return LocatedSequence(tuple(_locate(item, source, sink) for item in node.value), span)
    assert isinstance(node, MappingNode)
    items: list[tuple[LocatedScalar, LocatedNode]] = []
    seen: dict[str, LocatedScalar] = {}
    for key_node, value_node in node.value:
        key = _locate(key_node, source, sink)
        if not isinstance(key, LocatedScalar):
            sink.report(key.span, "RE203", "mapping keys must be plain text")
            continue
        if key.text in seen:
            first = source.location(seen[key.text].span.start)
            sink.report(
                key.span,
                "RE102",
                f"duplicate key `{key.text}`",
                hint=f"`{key.text}` is first set on line {first.line}",
            )
            continue
        seen[key.text] = key
        items.append((key, _locate(value_node, source, sink)))
    return LocatedMapping(tuple(items), span)


def _locate_scalar(node: ScalarNode, span: Span, source: SourceFile) -> LocatedScalar:
    text: str = node.value
    tag: str = node.tag
    value: ScalarValue = text
    if tag == f"{_TAG}null":
        value = None
    elif tag == f"{_TAG}bool":
        value = text.lower() == "true"
    elif tag == f"{_TAG}int":
        value = int(text[2:], 8) if text.startswith("0o") else int(text, 0 if "x" in text else 10)
    elif tag == f"{_TAG}float":
        value = Decimal(text)
    raw = source.text[node.start_mark.index : node.end_mark.index]
    offsets = align_value(text, raw, node.start_mark.index)
    return LocatedScalar(value, text, node.style, span, offsets)


# -- reading the tree -----------------------------------------------------------------------------


def to_plain(node: LocatedNode) -> Any:
    """The tree as plain Python data (dicts, lists, scalars), for model validation."""
    if isinstance(node, LocatedScalar):
        return node.value
    if isinstance(node, LocatedSequence):
        return [to_plain(item) for item in node.items]
    return {key.text: to_plain(value) for key, value in node.items}


def walk_path(
    root: LocatedNode, path: Sequence[PathPart]
) -> Iterator[tuple[PathPart, LocatedNode, LocatedScalar | None]]:
    """Follow `path` from `root`, yielding (part, node, key node) for each step that exists."""
    node = root
    for part in path:
        if isinstance(node, LocatedMapping) and isinstance(part, str):
            entry = node.get(part)
            if entry is None:
                return
            key, node = entry
            yield part, node, key
        elif isinstance(node, LocatedSequence) and isinstance(part, int):
            if not 0 <= part < len(node.items):
                return
            node = node.items[part]
            yield part, node, None
        else:
            return


def find_node(root: LocatedNode, path: Sequence[PathPart]) -> LocatedNode | None:
    """The node at `path`, or None when the path does not exist in the tree."""
    steps = list(walk_path(root, path))
    if len(steps) != len(path):
        return None
    return steps[-1][1] if steps else root


def span_of(root: LocatedNode, path: Sequence[PathPart], *, key: bool = False) -> Span:
    """The span of the deepest node on `path` that exists (its key's span when `key` is set
    and the whole path exists)."""
    steps = list(walk_path(root, path))
    if not steps:
        return _head_span(root)
    _, node, key_node = steps[-1]
    if key and key_node is not None and len(steps) == len(path):
        return key_node.span
    if len(steps) < len(path) or isinstance(node, LocatedMapping):
        # A missing key, or an error about a whole mapping: point at the mapping's first key
        # rather than underlining a block of many lines.
        return _head_span(node) if len(steps) == len(path) or key_node is None else key_node.span
    return node.span


def _head_span(node: LocatedNode) -> Span:
    if isinstance(node, LocatedMapping) and node.items:
        return node.items[0][0].span
    if isinstance(node, LocatedSequence) and node.items:
        return _head_span(node.items[0])
    return node.span
