"""The located YAML tree: scalars, mappings and sequences that keep their spans, and reading
the tree by path (`find_node`, `span_of`, `to_plain`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeAlias

import msgspec

from ruleengine.diagnostics.diagnostic import PathPart
from ruleengine.diagnostics.source import OffsetMap, Span

ScalarValue: TypeAlias = str | int | Decimal | bool | None


TAG = "tag:yaml.org,2002:"


class LocatedScalar(msgspec.Struct, frozen=True):
    """A scalar with its typed value, its text as written, and where it stands in the file."""

    value: ScalarValue
    text: str
    style: str | None  # None (plain), "'", '"', "|" or ">"
    span: Span
    offsets: OffsetMap  # value offsets -> file offsets, for expressions inside the scalar


class LocatedMapping(msgspec.Struct, frozen=True):
    items: tuple[tuple[LocatedScalar, LocatedNode], ...]
    span: Span

    def get(self, key: str) -> tuple[LocatedScalar, LocatedNode] | None:
        for key_node, value in self.items:
            if key_node.text == key:
                return key_node, value
        return None


class LocatedSequence(msgspec.Struct, frozen=True):
    items: tuple[LocatedNode, ...]
    span: Span


LocatedNode: TypeAlias = LocatedScalar | LocatedMapping | LocatedSequence


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
