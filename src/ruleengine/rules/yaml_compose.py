"""Composing the located tree: PyYAML's pure-Python composer with the YAML 1.2 core schema and
a depth limit, and a fast path that composes libyaml's events here. Both give the same tree.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader
from yaml.resolver import BaseResolver

from ruleengine.diagnostics.diagnostic import Diagnostic, DiagnosticSink
from ruleengine.diagnostics.source import SourceFile, Span, align_value
from ruleengine.limits import DEFAULT_LIMITS
from ruleengine.rules.yaml_nodes import (
    TAG,
    LocatedMapping,
    LocatedNode,
    LocatedScalar,
    LocatedSequence,
    ScalarValue,
)
from ruleengine.rules.yaml_parser import StrictParser
from ruleengine.rules.yaml_scanner import StrictScanner, UnsupportedYamlError


class _CoreResolver(BaseResolver):
    """Implicit tags of the YAML 1.2 core schema (no timestamps, no yes/no/on/off)."""


_CoreResolver.add_implicit_resolver(
    f"{TAG}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


_CoreResolver.add_implicit_resolver(
    f"{TAG}int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)


_CoreResolver.add_implicit_resolver(
    f"{TAG}float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


_CoreResolver.add_implicit_resolver(
    f"{TAG}null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def plain_scalar_is_text(text: str) -> bool:
    """Whether a plain scalar written as `text` is read as text (not a number, bool or null)."""
    tag = _CoreResolver().resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == f"{TAG}str")


class _TooDeepError(Exception):
    """A list or mapping opens deeper than the limit; `span` is where it opens."""

    def __init__(self, span: Span, limit: int) -> None:
        super().__init__(span, limit)
        self.span = span
        self.limit = limit


class _Depth:
    """How many lists and mappings enclose the node being composed, against the limit. Both
    composers count with it, so the fast and the pure path refuse the same collection."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.current = 0
        self.deepest = 0  # the deepest level opened, and where it opens
        self.deepest_open = Span(0, 0)

    def enter(self, span: Span) -> None:
        self.current += 1
        if self.current > self.deepest:
            self.deepest, self.deepest_open = self.current, span
        if self.current > self.limit:
            raise _TooDeepError(span, self.limit)

    def leave(self) -> None:
        self.current -= 1


class _Loader(Reader, StrictScanner, StrictParser, Composer, _CoreResolver):
    """A composer that records aliases and explicit tags instead of honouring them."""

    def __init__(self, text: str, max_depth: int) -> None:
        Reader.__init__(self, text)
        StrictScanner.__init__(self)
        StrictParser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)
        self.aliases: list[Span] = []
        self.tags: list[tuple[Span, str]] = []
        self.depth = _Depth(max_depth)

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML is untyped here
        span = Span(event.start_mark.index, max(event.start_mark.index, event.end_mark.index))
        if isinstance(event, yaml.AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]
            self.aliases.append(span)
            # A placeholder instead of the anchored node: aliases are never expanded.
            return _placeholder(event)
        tag = getattr(event, "tag", None)
        if tag is not None:  # `!` too: it makes `! 12` text where `12` is a number
            self.tags.append((span, str(tag).replace(TAG, "!!")))
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self.depth.enter(span)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth.leave()


def _placeholder(event: yaml.AliasEvent) -> ScalarNode:
    node = ScalarNode(f"{TAG}null", "")
    node.start_mark, node.end_mark = event.start_mark, event.end_mark
    return node


class _Composed(msgspec.Struct):
    """A composed document: its root node, and the aliases and explicit tags met on the way."""

    root: Node | None
    aliases: list[Span]
    tags: list[tuple[Span, str]]


def _line_ended(text: str) -> str:
    """`text` ending in a line break. Both parsers drop the last line of a block scalar when
    it has spaces and no line break (`foo: |\n  x\n   ` read as `x\n ` instead of `x\n \n`);
    the break they need comes after every offset of the text, so spans stay as they are."""
    return text if not text or text.endswith("\n") else text + "\n"


def compose_pure(source: SourceFile, sink: DiagnosticSink, max_depth: int) -> _Composed | None:
    """Compose with PyYAML's pure-Python parser; syntax errors become diagnostics (and None)."""
    from ruleengine.rules.yaml_wording import (  # the words for YAML errors: only on this path
        first_line,
        report_reader_error,
        report_too_deep,
        report_yaml_error,
    )

    try:
        # The Reader checks the whole text for characters YAML forbids as it is constructed.
        loader = _Loader(_line_ended(source.text), max_depth)
    except yaml.reader.ReaderError as error:
        report_reader_error(sink, error)
        return None
    try:
        root = loader.get_single_node()
    except _TooDeepError as error:
        report_too_deep(sink, error.span, error.limit)
        return None
    except RecursionError:
        # A host's limit above what Python's stack holds: refused where the stack ran out.
        report_too_deep(sink, loader.depth.deepest_open, max(1, loader.depth.deepest - 1))
        return None
    except yaml.composer.ComposerError as error:
        report_yaml_error(sink, error, code="RE107")
        return None
    except UnsupportedYamlError as error:
        report_yaml_error(sink, error, code="RE111")
        return None
    except yaml.MarkedYAMLError as error:
        report_yaml_error(sink, error)
        return None
    except yaml.reader.ReaderError as error:
        report_reader_error(sink, error)
        return None
    except yaml.YAMLError as error:
        sink.report(Span(0, min(1, len(source.text))), "RE101", first_line(str(error)))
        return None
    finally:
        loader.dispose()
    if loader.late:
        report_yaml_error(sink, loader.late[0])
        return None
    if loader.unused:  # valid YAML 1.2, and nothing else wrong: refused in its own words
        report_yaml_error(sink, loader.unused[0], code="RE112")
        return None
    return _Composed(root, loader.aliases, loader.tags)


FAST_PATH: bool = bool(getattr(yaml, "__with_libyaml__", False))


class _DeclinedError(Exception):
    """The fast path declines the text; the pure-Python path decides what it is."""


# Where libyaml (0.2.5) and the pure parser part ways, so the pure path decides: tabs (libyaml
# takes a tab as a separator in places the pure scanner refuses it), line breaks other than
# `\n` and a byte-order mark inside the text.
_DECLINE = re.compile("[\t\r\x85\u2028\u2029\ufeff]")


# A block scalar's header as the pure scanner reads it: indicators, then a space or line break.
_BLOCK_HEADER = re.compile(r"[|>](?:[-+][1-9]?|[1-9][-+]?)?(?:[ \n]|\Z)")


# Where libyaml is as lenient as PyYAML's own scanner and `yaml_scanner.StrictScanner` is
# not: a comment right after a quoted value or a flow indicator (`"a"#x`, `[#x`, `]#x`), directives.
_DECLINE_STRICT = re.compile(r"[\"'\[\]{},]#|^%", re.MULTILINE)


def compose_fast(text: str, max_depth: int = DEFAULT_LIMITS.max_nesting_depth) -> _Composed | None:
    """Compose `text` with libyaml, or None when the pure-Python path must decide."""
    if Reader.NON_PRINTABLE.search(text) or _DECLINE.search(text):
        return None
    if _DECLINE_STRICT.search(text):
        return None
    try:
        return _EventComposer(_line_ended(text), max_depth).compose()
    except Exception:  # any surprise: the pure path is the reference
        return None


class _EventComposer:
    """`_Loader`'s composing over libyaml: aliases recorded, not expanded; tags left to the
    pure path."""

    def __init__(self, text: str, max_depth: int) -> None:
        from yaml._yaml import CParser  # only imported when libyaml is there

        self._parser = CParser(text)
        self._text = text
        self._resolver = _CoreResolver()
        self._anchors: set[str] = set()
        self._flow = 0  # how many `[...]` and `{...}` enclose the current node
        self._blocks: list[int] = []  # the columns of the block collections around the node
        self._lines = text.split("\n")
        self._depth = _Depth(max_depth)  # too deep: the pure path reports it (RE109)
        self.aliases: list[Span] = []
        self.tags: list[tuple[Span, str]] = []  # always empty: a tag declines the fast path

    def compose(self) -> _Composed:
        try:
            self._expect(yaml.StreamStartEvent)
            root = None
            if not isinstance(self._peek(), yaml.StreamEndEvent):
                self._expect(yaml.DocumentStartEvent)
                root = self._node()
                self._expect(yaml.DocumentEndEvent)
            self._expect(yaml.StreamEndEvent)  # a second document is for the pure path
            return _Composed(root, self.aliases, self.tags)
        finally:
            self._parser.dispose()

    def _peek(self) -> yaml.Event:
        event = self._parser.peek_event()
        if event is None:
            raise _DeclinedError("the events ended early")
        return event

    def _next(self) -> yaml.Event:
        event = self._parser.get_event()
        if event is None:
            raise _DeclinedError("the events ended early")
        return event

    def _expect(self, kind: type[yaml.Event]) -> yaml.Event:
        event = self._next()
        if not isinstance(event, kind):
            raise _DeclinedError(f"expected {kind.__name__}, found {type(event).__name__}")
        return event

    def _node(self) -> Node:
        # Any: libyaml's marks are `yaml._yaml.Mark`, which the node stubs do not name.
        event: Any = self._next()
        start, end = event.start_mark, event.end_mark
        span = Span(start.index, max(start.index, end.index))
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            after = start.index + 1 + len(anchor)  # libyaml ends `&an:chor` at the `:`
            if after < len(self._text) and self._text[after] not in " \n,[]{}":
                raise _DeclinedError("an anchor name the strict scanner reads further")
        if isinstance(event, yaml.AliasEvent):
            self.aliases.append(span)
            return _placeholder(event)
        if not isinstance(event, yaml.NodeEvent):
            raise _DeclinedError(f"expected a node, found {type(event).__name__}")
        if anchor is not None:
            if anchor in self._anchors:  # the pure Composer's error: let it report it
                raise _DeclinedError("duplicate anchor")
            self._anchors.add(anchor)
        tag = getattr(event, "tag", None)
        if tag is not None:
            # libyaml ends a tag at a flow indicator (`[!1, 2]` is tagged `!1`), the pure scanner
            # does not (`!1,`). Tags are errors in rule files anyway: the pure path reports them.
            raise _DeclinedError("an explicit tag")
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(event)
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            self._depth.enter(span)
            collection = self._collection(event)
            self._depth.leave()
            return collection
        raise _DeclinedError(f"unexpected {type(event).__name__}")

    def _scalar(self, event: Any) -> ScalarNode:
        style = event.style or None  # libyaml writes a plain scalar's style as "", PyYAML None
        if self._flow and style is None and ("?" in event.value or not event.value):
            # libyaml reads `{a: int?}` as a value `int?`; the pure scanner, as YAML 1.1 does,
            # as a key indicator after `int` (an error the diagnostics explain). And libyaml
            # puts the empty value of `{a: , b: 1}` at the `,`, the pure parser after the `:`.
            raise _DeclinedError("`?` or an empty plain scalar inside a flow collection")
        start, end = event.start_mark, event.end_mark
        if (
            self._flow
            and style is None
            and (event.value == "-" or self._text[start.index - 1] == "?")
        ):
            raise _DeclinedError("`[-]` or `{?foo}`: the strict scanner refuses them")
        if style in ("'", '"') and start.line != end.line:
            self._check_lines(start.line, end.line, "")
        if style in ("|", ">") and not self._blocks and not self._flow:
            # libyaml wants block text at the top of a document indented (`--- >` then
            # `# x` is "" to it); YAML 1.2, and the strict scanner, let it start in column 0.
            raise _DeclinedError("block text at the top of a document")
        if style in ("|", ">") and _spaces_above_text(self._text, start.index):
            raise _DeclinedError("lines of spaces above a block scalar's text")
        if style in ("|", ">") and not _BLOCK_HEADER.match(self._text, event.start_mark.index):
            # libyaml takes `|#` as a block header and a comment; the pure scanner wants a space
            # between them.
            raise _DeclinedError("a block scalar header the pure scanner refuses")
        tag = self._resolver.resolve(  # type: ignore[no-untyped-call]
            ScalarNode, event.value, event.implicit
        )
        return ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=style)

    def _check_lines(self, first: int, last: int, exempt: str) -> None:
        """Decline a flow collection or quoted text whose lines after the first start at or
        left of the enclosing block's column (the strict scanner refuses them; a line that
        starts with a character of `exempt` it lets pass)."""
        indent = self._blocks[-1] if self._blocks else -1
        for line in self._lines[first + 1 : last + 1]:
            text = line.lstrip(" ")
            if text and text[0] not in exempt and len(line) - len(text) <= indent:
                raise _DeclinedError("a line left of its block: the strict scanner refuses it")

    def _collection(self, event: Any) -> Node:
        mapping = isinstance(event, yaml.MappingStartEvent)
        kind = MappingNode if mapping else SequenceNode
        tag = self._resolver.resolve(kind, None, event.implicit)  # type: ignore[no-untyped-call]
        end_kind = yaml.MappingEndEvent if mapping else yaml.SequenceEndEvent
        items: list[Node] = []
        self._flow += bool(event.flow_style)
        if not event.flow_style:
            self._blocks.append(event.start_mark.column)
        while not isinstance(self._peek(), end_kind):
            items.append(self._node())
        if not event.flow_style:
            self._blocks.pop()
        self._flow -= bool(event.flow_style)
        closed: Any = self._next()
        if event.flow_style and not self._flow:
            self._check_lines(event.start_mark.line, closed.end_mark.line, "]}#")
        if mapping:
            pairs = list(zip(items[::2], items[1::2], strict=True))
            return MappingNode(tag, pairs, event.start_mark, closed.end_mark, event.flow_style)
        return SequenceNode(tag, items, event.start_mark, closed.end_mark, event.flow_style)


def _spaces_above_text(text: str, header: int) -> bool:
    """Whether a block scalar whose header is at `header` starts with a line of spaces."""
    end = text.find("\n", header)
    return end >= 0 and text.startswith(" ", end + 1) and text[end + 1 :].lstrip(" ")[:1] in "\n"


def finish_compose(
    composed: _Composed, source: SourceFile, sink: DiagnosticSink
) -> tuple[LocatedMapping | None, list[Diagnostic]]:
    """Report the aliases and tags, and locate the composed tree."""
    root = composed.root
    for span in composed.aliases:
        sink.report(
            span,
            "RE103",
            "aliases are not allowed in rule files",
            hint="write the value out in full",
        )
    for span, tag in composed.tags:
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def _node_span(node: Node, source: SourceFile) -> Span:
    # Clamped: the line break `_line_ended` adds lies past the text, and so may an empty value.
    start = min(node.start_mark.index, len(source.text))
    end = min(max(start, node.end_mark.index), len(source.text))
    while end > start and source.text[end - 1] in " \t\r\n":
        end -= 1
    return Span(start, end)


def _locate(node: Node, source: SourceFile, sink: DiagnosticSink) -> LocatedNode:
    span = _node_span(node, source)
    if isinstance(node, ScalarNode):
        surrogate = _SURROGATE.search(node.value)
        if surrogate is not None:  # only an escape (`"\\uD800"`) makes one; no encoding holds it
            sink.report(
                span,
                "RE106",
                f"`\\u{ord(surrogate.group()):04X}` is half of a surrogate pair, not a character",
                hint="write the character itself, or both halves of the pair",
            )
            node.value = _SURROGATE.sub("\ufffd", node.value)
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
            where = f"line {first.line}"
            if first.line == source.location(key.span.start).line:
                where += f", column {first.column}"
            sink.report(
                key.span,
                "RE102",
                f"duplicate key `{key.text}`",
                hint=f"`{key.text}` is first set on {where}",
            )
            continue
        seen[key.text] = key
        items.append((key, _locate(value_node, source, sink)))
    return LocatedMapping(tuple(items), span)


def _locate_scalar(node: ScalarNode, span: Span, source: SourceFile) -> LocatedScalar:
    text: str = node.value
    value = _scalar_value(text, node.tag)
    raw = source.text[node.start_mark.index : node.end_mark.index]
    offsets = align_value(text, raw, node.start_mark.index)
    return LocatedScalar(value, text, node.style, span, offsets)


def _scalar_value(text: str, tag: str) -> ScalarValue:
    """The typed value of a scalar. An explicit tag (`!!int abc`, already reported as RE104)
    can put any text under any tag; what does not convert stays text."""
    try:
        if tag == f"{TAG}null":
            return None
        if tag == f"{TAG}bool":
            return text.lower() == "true"
        if tag == f"{TAG}int":
            return (
                int(text[2:], 8) if text.startswith("0o") else int(text, 0 if "x" in text else 10)
            )
        if tag == f"{TAG}float":
            return Decimal(text)
    except (ValueError, ArithmeticError):
        pass
    return text
