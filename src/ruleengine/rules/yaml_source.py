"""Text -> located YAML tree: every node keeps its span, so later phases can point at it.

The loader is PyYAML's pure-Python composer with two changes that matter for rule files:

* scalars resolve by the YAML 1.2 core schema, so `on`, `off`, `yes` and `no` stay text (YAML
  1.1 reads `on: signup` as `{True: "signup"}`), dates stay text until the models parse them,
  and decimals become `Decimal` from their own text, never through a float;
* aliases, explicit tags, duplicate keys and extra documents are diagnostics, not behaviour.
  Aliases are never expanded, so an alias bomb costs nothing;
* lists and mappings nested deeper than `Limits.max_nesting_depth` are refused (RE109) where
  the limit is crossed: composing recurses once per level, so without the limit a kilobyte of
  `[[[[...` would exhaust Python's stack.
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

from ruleengine.diagnostics.diagnostic import Diagnostic, DiagnosticSink, PathPart, make_diagnostic
from ruleengine.diagnostics.source import OffsetMap, SourceFile, Span, align_value
from ruleengine.limits import DEFAULT_LIMITS, Limits

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


def plain_scalar_is_text(text: str) -> bool:
    """Whether a plain scalar written as `text` is read as text (not a number, bool or null)."""
    tag = _CoreResolver().resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == f"{_TAG}str")


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


class _Loader(Reader, Scanner, Parser, Composer, _CoreResolver):
    """A composer that records aliases and explicit tags instead of honouring them."""

    def __init__(self, text: str, max_depth: int) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
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
        if tag not in (None, "!"):
            self.tags.append((span, str(tag).replace(_TAG, "!!")))
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self.depth.enter(span)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth.leave()


def _placeholder(event: yaml.AliasEvent) -> ScalarNode:
    node = ScalarNode(f"{_TAG}null", "")
    node.start_mark, node.end_mark = event.start_mark, event.end_mark
    return node


@dataclass(slots=True)
class _Composed:
    """A composed document: its root node, and the aliases and explicit tags met on the way."""

    root: Node | None
    aliases: list[Span]
    tags: list[tuple[Span, str]]


def read_document(
    source: SourceFile, limits: Limits = DEFAULT_LIMITS
) -> tuple[LocatedMapping | None, list[Diagnostic]]:
    """Compose `source` into a located tree; the root must be a mapping.

    Returns the tree (None when the text is not usable YAML) and every diagnostic found.
    """
    sink = DiagnosticSink(source)
    max_depth = limits.max_nesting_depth
    composed = _compose_fast(source.text, max_depth) if _FAST_PATH else None
    if composed is None:
        composed = _compose_pure(source, sink, max_depth)
        if composed is None:
            return None, sink.diagnostics
    return _finish(composed, source, sink)


def _compose_pure(source: SourceFile, sink: DiagnosticSink, max_depth: int) -> _Composed | None:
    """Compose with PyYAML's pure-Python parser; syntax errors become diagnostics (and None)."""
    try:
        # The Reader checks the whole text for characters YAML forbids as it is constructed.
        loader = _Loader(source.text, max_depth)
    except yaml.reader.ReaderError as error:
        _report_reader_error(sink, error)
        return None
    try:
        root = loader.get_single_node()
    except _TooDeepError as error:
        _report_too_deep(sink, error.span, error.limit)
        return None
    except RecursionError:
        # A host's limit above what Python's stack holds: refused where the stack ran out.
        _report_too_deep(sink, loader.depth.deepest_open, max(1, loader.depth.deepest - 1))
        return None
    except yaml.composer.ComposerError as error:
        _report_yaml_error(sink, error, code="RE107")
        return None
    except yaml.MarkedYAMLError as error:
        _report_yaml_error(sink, error)
        return None
    except yaml.reader.ReaderError as error:
        _report_reader_error(sink, error)
        return None
    except yaml.YAMLError as error:
        sink.report(Span(0, min(1, len(source.text))), "RE101", _first_line(str(error)))
        return None
    finally:
        loader.dispose()
    return _Composed(root, loader.aliases, loader.tags)


# -- the fast path: libyaml's event parser, composed here -----------------------------------------
#
# libyaml's C parser is much faster than the pure-Python one, and its events carry the same
# marks (character offsets into the text, non-ASCII included), so the nodes composed from them
# below are the ones `_Loader` composes. Only a text libyaml reads as exactly one well-formed
# document takes this path. On any error, a second document, a duplicate anchor, an explicit
# tag, a character the pure Reader refuses or one of the known places where libyaml and the pure
# parser disagree, `read_document` composes again with the pure parser, whose error messages the
# diagnostics above are written against. tests/unit/test_yaml_fast_path.py holds the two paths
# to the same trees and diagnostics.

_FAST_PATH: bool = bool(getattr(yaml, "__with_libyaml__", False))


class _DeclinedError(Exception):
    """The fast path declines the text; the pure-Python path decides what it is."""


# Where libyaml (0.2.5) and the pure parser part ways, so the pure path decides: tabs (libyaml
# takes a tab as a separator in places the pure scanner refuses it), line breaks other than
# `\n` and a byte-order mark inside the text.
_DECLINE = re.compile("[\t\r\x85\u2028\u2029\ufeff]")
# A block scalar's header as the pure scanner reads it: indicators, then a space or line break.
_BLOCK_HEADER = re.compile(r"[|>](?:[-+][1-9]?|[1-9][-+]?)?(?:[ \n]|\Z)")


def _compose_fast(text: str, max_depth: int = DEFAULT_LIMITS.max_nesting_depth) -> _Composed | None:
    """Compose `text` with libyaml, or None when the pure-Python path must decide."""
    if Reader.NON_PRINTABLE.search(text) or _DECLINE.search(text):
        return None
    try:
        return _EventComposer(text, max_depth).compose()
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
        if isinstance(event, yaml.AliasEvent):
            self.aliases.append(span)
            return _placeholder(event)
        if not isinstance(event, yaml.NodeEvent):
            raise _DeclinedError(f"expected a node, found {type(event).__name__}")
        anchor = event.anchor
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
        if style in ("|", ">") and not _BLOCK_HEADER.match(self._text, event.start_mark.index):
            # libyaml takes `|#` as a block header and a comment; the pure scanner wants a space
            # between them.
            raise _DeclinedError("a block scalar header the pure scanner refuses")
        tag = self._resolver.resolve(  # type: ignore[no-untyped-call]
            ScalarNode, event.value, event.implicit
        )
        return ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=style)

    def _collection(self, event: Any) -> Node:
        mapping = isinstance(event, yaml.MappingStartEvent)
        kind = MappingNode if mapping else SequenceNode
        tag = self._resolver.resolve(kind, None, event.implicit)  # type: ignore[no-untyped-call]
        end_kind = yaml.MappingEndEvent if mapping else yaml.SequenceEndEvent
        items: list[Node] = []
        self._flow += bool(event.flow_style)
        while not isinstance(self._peek(), end_kind):
            items.append(self._node())
        self._flow -= bool(event.flow_style)
        closed: Any = self._next()
        if mapping:
            pairs = list(zip(items[::2], items[1::2], strict=True))
            return MappingNode(tag, pairs, event.start_mark, closed.end_mark, event.flow_style)
        return SequenceNode(tag, items, event.start_mark, closed.end_mark, event.flow_style)


def _finish(
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


def _report_yaml_error(
    sink: DiagnosticSink, error: yaml.MarkedYAMLError, code: str = "RE101"
) -> None:
    mark = error.problem_mark or error.context_mark
    offset = max(0, min(mark.index if mark is not None else 0, len(sink.source.text)))
    if code == "RE107":
        sink.report(
            _char_span(sink.source, offset),
            code,
            "the file has more than one YAML document",
            hint="a rule file is one document: remove the `---` line and what follows it, "
            "or move the other document to a file of its own",
        )
        return
    explained = _explain_yaml_error(sink.source, error, offset)
    if explained is None:
        explained = _plain_yaml_error(sink.source, error, offset)
    span, message, hint = explained
    sink.report(span, code, message, hint=hint)


# -- YAML errors in words ---------------------------------------------------------------------
#
# PyYAML describes an error in parser terms ("expected <block end>, but found '<scalar>'") at
# the place where parsing failed, which is often after the mistake. The common mistakes in rule
# files are recognised here and described in the file's own terms; anything else keeps
# PyYAML's message with its jargon translated.

_Explained: TypeAlias = tuple[Span, str, str | None]

_JARGON = (  # quoted forms first: "expected <block end>, but found '<block end>'"
    ("'<block end>'", "the end of the block"),
    ("<block end>", "the end of the block"),
    ("'<block mapping start>'", "a key"),
    ("'<block sequence start>'", "a list"),
    ("'<scalar>'", "a value"),
    ("'<stream end>'", "the end of the file"),
    ("found '?'", "found a key"),
    ("while scanning a double-quoted scalar", "in the quoted value that starts"),
    ("while scanning an alias", "in the alias that starts"),
    ("while parsing a block mapping", "in the mapping that starts"),
    ("while parsing a block collection", "in the block that starts"),
    ("while parsing a flow mapping", "in the `{...}` that starts"),
    ("while parsing a flow sequence", "in the `[...]` that starts"),
    ("while scanning a quoted scalar", "in the quoted value that starts"),
    ("while scanning a simple key", "in the key that starts"),
    ("while scanning a block scalar", "in the block value that starts"),
)


def _plain(text: str) -> str:
    for jargon, words in _JARGON:
        text = text.replace(jargon, words)
    return text


def _plain_yaml_error(source: SourceFile, error: yaml.MarkedYAMLError, offset: int) -> _Explained:
    problem = _plain(error.problem or error.context or "invalid YAML")
    hint = None
    if error.context and error.context_mark is not None and error.problem_mark is not None:
        where = source.location(error.context_mark.index)
        hint = f"{_plain(error.context)} at line {where.line}, column {where.column}"
    return _char_span(source, offset), problem, hint


def _explain_yaml_error(
    source: SourceFile, error: yaml.MarkedYAMLError, offset: int
) -> _Explained | None:
    """The common mistakes, in words, at the place the author has to change."""
    problem = error.problem or ""
    context = error.context or ""
    if "'\\t'" in problem:
        return (
            _char_span(source, offset),
            "a tab character where YAML expects indentation or a value",
            "YAML does not allow tabs for indentation; use spaces",
        )
    if context == "while scanning a quoted scalar" and error.context_mark is not None:
        return _unclosed_quote(source, error.context_mark.index)
    if problem.startswith("found character") and "cannot start any token" in problem:
        return _reserved_start(source, offset)
    if problem.startswith("found unknown escape character"):
        escape = source.text[max(0, offset - 1) : offset + 1]
        return (
            Span(max(0, offset - 1), min(offset + 1, len(source.text))),
            f"`{escape}` is not an escape sequence in a double-quoted value",
            "write `\\\\` for a backslash, or use single quotes, in which `\\` is an ordinary "
            "character",
        )
    if problem.endswith(("'<scalar>'", "'<block mapping start>'", "'-'")):
        scalar = _scalar_before(source.text, offset)
        if scalar is not None:
            return _text_after_quoted_value(source, scalar, offset)
        if _starts_line(source.text, offset):
            return _misaligned_line(source, offset)
    if problem.endswith("'<block sequence start>'") and _starts_line(source.text, offset):
        hint = _list_item_hint(source, offset)
        if hint is not None:
            return _char_span(source, offset), _plain(problem), hint
    if problem == "mapping values are not allowed here":
        return _colon_in_value(source, offset)
    if problem == "could not find expected ':'" and error.context_mark is not None:
        start = error.context_mark.index
        line_start, line = _line_of(source.text, start)
        end = line_start + len(line.split(" #", 1)[0].rstrip())
        return (
            Span(start, max(start + 1, end)),
            "expected `key: value` on this line",
            "add the `:` after the key, or, to continue the value above, quote that value or "
            "write it as a block with `|`",
        )
    if problem.startswith(("expected ',' or '}'", "expected ',' or ']'")):
        return _flow_problem(source, error, offset)
    return None


def _char_span(source: SourceFile, offset: int) -> Span:
    return Span(offset, min(offset + 1, len(source.text)))


def _line_of(text: str, offset: int) -> tuple[int, str]:
    """The start offset and text (without the line break) of the line holding `offset`."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, text[start : end if end >= 0 else len(text)]


def _starts_line(text: str, offset: int) -> bool:
    start, _ = _line_of(text, offset)
    return not text[start:offset].strip()


def _quoted(value: str) -> str | None:
    """`value` as a quoted YAML scalar, when one style of quotes can hold it as written."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value and "\\" not in value:
        return f'"{value}"'
    return None


def _unclosed_quote(source: SourceFile, start: int) -> _Explained:
    quote = source.text[start : start + 1] or '"'
    return (
        _char_span(source, start),
        f"the quote `{quote}` that starts this value is never closed",
        f"close it with `{quote}` at the end of the value",
    )


def _reserved_start(source: SourceFile, offset: int) -> _Explained:
    char = source.text[offset : offset + 1]
    line_start, line = _line_of(source.text, offset)
    value = line[offset - line_start :].split(" #", 1)[0].rstrip()
    quoted = _quoted(value)
    if "`" in value:
        # Markdown-style code quotes: the hint cannot show the value inside backticks.
        start = "a backtick" if char == "`" else f"`{char}`"
        return (
            _char_span(source, offset),
            f"a plain value cannot start with {start}",
            "quote the value with `'` or `\"`; backticks are not quotes in YAML",
        )
    key = re.fullmatch(r"\s*(?:-\s+)*([^\s:#][^:#]*):\s+", line[: offset - line_start])
    example = f"{key.group(1)}: {quoted}" if key and quoted else quoted
    return (
        _char_span(source, offset),
        f"a plain value cannot start with `{char}`",
        f"quote the value: `{example}`" if example else "quote the value",
    )


@dataclass(frozen=True, slots=True)
class _QuotedToken:
    start: int
    end: int
    quote: str
    after_key: str | None  # the key when the scalar is a mapping value


def _scalar_before(text: str, offset: int) -> _QuotedToken | None:
    """The quoted scalar that ends just before `offset` (only blanks between), if any."""
    previous: list[yaml.Token] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= offset:
                break
            previous.append(token)
    except yaml.YAMLError:
        pass
    if not previous:
        return None
    last = previous[-1]
    if not isinstance(last, yaml.ScalarToken) or last.style not in ('"', "'"):
        return None
    if text[last.end_mark.index : offset].strip():
        return None
    key = None
    if len(previous) >= 3 and isinstance(previous[-2], yaml.ValueToken):
        key_token = previous[-3]
        if isinstance(key_token, yaml.ScalarToken):
            key = str(key_token.value)
    return _QuotedToken(last.start_mark.index, last.end_mark.index, str(last.style), key)


def _text_after_quoted_value(source: SourceFile, scalar: _QuotedToken, offset: int) -> _Explained:
    text = source.text
    quote = scalar.quote
    opened = source.location(scalar.start)
    if opened.line != source.location(scalar.end).line:
        # The quote was not closed on its line: the value ran on to a later quote.
        return (
            _char_span(source, scalar.start),
            f"the quote `{quote}` that starts this value is not closed on its line",
            f"close it with `{quote}` on line {opened.line}; the value runs on to the next "
            f"`{quote}`, on line {source.location(scalar.end).line}",
        )
    line_start, line = _line_of(text, scalar.start)
    rest = line[scalar.start - line_start :].split(" #", 1)[0].rstrip()
    span = Span(scalar.start, scalar.start + len(rest))
    message = "a value that starts with a quote ends at the closing quote, but text follows it"
    quoted = _quoted(rest)
    if scalar.after_key is not None and quoted is not None and not rest.endswith(("}", "]")):
        what = "expression" if scalar.after_key in ("when", "points") else "value"
        return span, message, f"quote the whole {what}: `{scalar.after_key}: {quoted}`"
    return span, message, "quote the whole value, or write it as a block with `|`"


def _misaligned_line(source: SourceFile, offset: int) -> _Explained:
    """A line whose indentation does not fit the structure above it."""
    text = source.text
    line_start, line = _line_of(text, offset)
    word = line.strip().split(":", 1)[0]
    message = "this line does not line up with the lines above it"
    if line.strip() == "-" or line.strip().startswith("- "):
        return (
            _char_span(source, offset),
            message,
            "a list item (`- ...`) goes under a key with no value of its own, as in "
            "`earning:` followed by `  - id: a`",
        )
    cursor = line_start - 1
    while cursor > 0:
        previous_start, previous = _line_of(text, cursor - 1)
        content = previous.strip()
        if content and not content.startswith("#"):
            body = previous.lstrip(" ")
            indent = len(previous) - len(body)
            while body.startswith("- "):
                stripped = body[2:].lstrip(" ")
                indent += len(body) - len(stripped)
                body = stripped
            where = source.location(previous_start)
            other = body.split(":", 1)[0]
            return (
                _char_span(source, offset),
                message,
                f"`{other}` on line {where.line} starts in column {indent + 1}; keys of one "
                f"mapping start in the same column, so indent `{word}` to match or to nest it",
            )
        cursor = previous_start - 1
    return _char_span(source, offset), message, None


def _list_item_hint(source: SourceFile, offset: int) -> str | None:
    """A list item indented less than the list above it: the parser only says it expected the
    end of the block. Names the nearest item above that starts further right."""
    text = source.text
    line_start, _ = _line_of(text, offset)
    column = offset - line_start
    cursor = line_start - 1
    while cursor > 0:
        previous_start, previous = _line_of(text, cursor - 1)
        body = previous.lstrip(" ")
        indent = len(previous) - len(body)
        if (body == "-" or body.startswith("- ")) and indent > column:
            where = source.location(previous_start)
            return (
                f"this list item starts in column {column + 1}, but the items of the list above "
                f"(line {where.line}) start in column {indent + 1}; indent `- ` to column "
                f"{indent + 1} to add it to that list"
            )
        cursor = previous_start - 1
    return None


def _colon_in_value(source: SourceFile, offset: int) -> _Explained:
    """`name: Buy: get 5` (a `: ` inside a plain value), or a line indented too far."""
    text = source.text
    line_start, line = _line_of(text, offset)
    before = line[: offset - line_start]
    body = before.lstrip(" -")
    key, separator, value = body.partition(": ")
    if separator and value.strip():
        value_start = line_start + len(before) - len(value)
        whole = line[value_start - line_start :].split(" #", 1)[0].rstrip()
        quoted = _quoted(whole)
        return (
            Span(offset, offset + 1),
            "a plain value cannot contain `: `",
            f"quote the value: `{key}: {quoted}`" if quoted else "quote the value",
        )
    if body.strip() and " " not in body.strip():
        # A key alone at the start of its line, read as more of the value above: the line is
        # indented deeper than the structure allows.
        return _misaligned_line(source, line_start + len(line) - len(line.lstrip(" ")))
    return (
        _char_span(source, offset),
        "a `:` cannot start a key here, inside a value",
        "check the indentation, or quote the value if it contains `: `",
    )


def _flow_problem(source: SourceFile, error: yaml.MarkedYAMLError, offset: int) -> _Explained:
    """`{...}` and `[...]`: a `?` in a value, a missing comma, or no closing bracket."""
    problem = error.problem or ""
    closer = "}" if "'}'" in problem else "]"
    opener = "{" if closer == "}" else "["
    opened = error.context_mark.index if error.context_mark is not None else offset
    where = source.location(opened)
    at = f"line {where.line}, column {where.column}"
    found = problem.rsplit("but got ", 1)[-1]
    if found == "'?'":
        line_start, line = _line_of(source.text, offset)
        word = re.split(r"[\s,{}\[\]:]", line[: offset - line_start])[-1]
        return (
            _char_span(source, offset),
            f"`?` cannot end a value inside `{opener}...{closer}` unless the value is quoted",
            f'quote it: `"{word}?"`' if word else "quote the value",
        )
    if found == "'['" and source.text[offset - 1 : offset].isalnum():
        # `{tags: list[string]}`: inside brackets, `[` starts a list, even after a word.
        line_start, line = _line_of(source.text, offset)
        word = re.split(r"[\s,{}\[\]:]", line[: offset - line_start])[-1]
        close = line.find("]", offset - line_start)
        value = word + line[offset - line_start : close + 1] if close >= 0 else word + "[...]"
        return (
            Span(offset - len(word), offset + len(value) - len(word)),
            f"`{value}` must be quoted inside `{opener}...{closer}`",
            f'quote it: `"{value}"`',
        )
    if found == "'<stream end>'":
        return (
            _char_span(source, offset),
            f"the `{opener}` at {at} is never closed",
            f"add the closing `{closer}`",
        )
    if found == "':'":
        line_start, line = _line_of(source.text, offset)
        before = line[: offset - line_start]
        word = re.split(r"[\s,{}\[\]]", before)[-1]
        prefix = before[: len(before) - len(word)]
        if not prefix.strip():  # a key at the start of a line: the bracket was left open
            return (
                _char_span(source, offset - len(word)),
                f"the `{opener}` at {at} is not closed before the next key",
                f"add the closing `{closer}`",
            )
        if word and not prefix.rstrip().endswith(("{", "[", ",")):
            return (
                Span(offset - len(word), offset),
                f"a `,` is missing before `{word}`",
                f"separate the entries of `{opener}...{closer}` with `,`",
            )
    return (
        _char_span(source, offset),
        f"expected `,` or `{closer}` in the `{opener}...{closer}` that starts at {at}",
        f"separate the entries with `,`, and close the `{opener}` with `{closer}`",
    )


def _report_too_deep(sink: DiagnosticSink, span: Span, limit: int) -> None:
    start = span.start
    sink.report(
        _char_span(sink.source, start),
        "RE109",
        f"lists and mappings are nested more than {limit} levels deep",
        hint="rule files need a few levels; flatten the structure, or raise "
        "`Limits.max_nesting_depth`",
    )


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
        if tag == f"{_TAG}null":
            return None
        if tag == f"{_TAG}bool":
            return text.lower() == "true"
        if tag == f"{_TAG}int":
            return (
                int(text[2:], 8) if text.startswith("0o") else int(text, 0 if "x" in text else 10)
            )
        if tag == f"{_TAG}float":
            return Decimal(text)
    except (ValueError, ArithmeticError):
        pass
    return text


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
