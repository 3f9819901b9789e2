"""Canonical formatting of rule files: comments and key order kept, expressions normalised.

`ruleengine fmt` round-trips the file with ruamel.yaml (which keeps comments, key order and
flow style), indents mappings by 2 and sequences as `  - item`, and rewrites the spacing of each
single-line expression (`when:`, `points:`): one space around binary operators and keywords,
none inside brackets or around `.`, `, ` between arguments. Tokens are kept as written, so the
author's parentheses and literal spellings stay. Multi-line block expressions are left as written:
their line breaks are the author's layout. A file that is not valid YAML, or whose expression
does not parse, is never rewritten — fmt only formats what `validate` can read.

A formatter changes layout, never what a value says: every plain scalar is loaded as its own
text (no timestamps, floats or booleans), so it is written back exactly as it was read.
`2026-11-27 9:00:00` stays as written (ruamel's timestamp would write `09:00:00`), and a date
that does not exist (`2026-02-30`) is left for `validate` to report. ruamel and our reader
still part on a few corners of YAML; where ruamel's layout would read differently, the
author's layout is kept and only the expressions are respaced, in place (`format_source`).

fmt never loses a comment. ruamel drops those inside `{...}` or `[...]` over several lines and
those on a line between a key and its value; such a node is handed to ruamel as a placeholder
and its text put back as written (moved with its line), and where a comment is still lost the
author's layout is kept (`comments_of` finds them with the scanner of `validate`).
"""

from __future__ import annotations

import bisect
import contextlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml
from lark.exceptions import LarkError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from yaml.reader import Reader

from ruleengine.diagnostics.diagnostic import Diagnostic, make_diagnostic
from ruleengine.diagnostics.source import SourceFile, Span
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.printer import normalise_spacing
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.ruleset import file_too_large
from ruleengine.rules.yaml_compose import plain_scalar_is_text
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedNode, LocatedScalar, LocatedSequence
from ruleengine.rules.yaml_scanner import StrictScanner
from ruleengine.rules.yaml_source import read_document

_EXPRESSION_KEYS = {
    ("earning", "when"),
    ("earning", "points"),
    ("milestones", "when"),
    ("redeeming", "when"),
}


class FormatResult(msgspec.Struct, frozen=True):
    """The formatted text, or why the file was left alone."""

    text: str | None
    error: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()  # located reasons, when the file was left alone

    @property
    def ok(self) -> bool:
        return self.text is not None


class _TextResolver(VersionedResolver):
    """Every non-empty plain scalar is text: loaded as it is written, so it is dumped as it was
    written. The empty scalar stays null, so `key:` is not written back as `key: ''`."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0] and value != "":
            return self.DEFAULT_SCALAR_TAG
        return super().resolve(kind, value, implicit)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Resolver = _TextResolver
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap long lines: the author's line breaks stay
    yaml.preserve_quotes = True
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # `[{points: 5}]`, not `[points: 5]`
    yaml.version = (1, 2)  # `on:` and `yes` stay text, as when validating
    return yaml


def format_text(text: str) -> FormatResult:
    """Format one rule file's text; returns the new text (which may equal the old)."""
    return format_source(SourceFile("<string>", text))


def format_source(source: SourceFile, limits: Limits = DEFAULT_LIMITS) -> FormatResult:
    """Format one rule file; a file the reader of `validate` reports errors in is left alone,
    with those errors, and one that is not a mapping (RE105) is left as it is. The reader
    runs first, so ruamel, whose composer recurses too, never sees a file nested too deeply.

    ruamel lays the file out; where its layout would read differently (ruamel and our reader
    disagree on some corners of YAML: explicit `? key` entries, some block scalars, comments
    it cannot place) or would not format to itself, or ruamel cannot read the file at all,
    fmt keeps the author's layout and only respaces the expressions, in place."""
    if len(source.text) > limits.max_file_bytes:
        return _refused(file_too_large(source, limits))
    text = source.text
    if "\r" in text:
        breaks = text.count("\n")
        if text.count("\r\n") == breaks == text.count("\r"):
            # CRLF throughout: laid out as LF (ruamel writes LF), then given its CRLF back
            lf = _format(SourceFile(source.name, text.replace("\r\n", "\n")), limits, True)
            if lf.text is None:
                return lf
            return FormatResult(lf.text.replace("\n", "\r\n"), lf.error, lf.diagnostics)
        return _format(source, limits, False)  # mixed line breaks: each stays where it is
    return _format(source, limits, True)


def _format(source: SourceFile, limits: Limits, lay_out: bool) -> FormatResult:
    """`format_source` of a text whose line breaks are LF, or, with `lay_out` false, only
    respaced in place (the author's layout, and line breaks, kept)."""
    root, problems = read_document(source, limits)
    blocking = [d for d in problems if d.is_error and d.code != "RE105"]
    if blocking:
        return _refused(*blocking)
    text = source.text
    if root is None:  # not a mapping (RE105): no rule file to lay out, and none to compare
        return FormatResult(text)
    laid_out = _lay_out(text, root) if lay_out else None
    if isinstance(laid_out, _Unparsed):
        return FormatResult(None, laid_out.problem)
    if isinstance(laid_out, str) and laid_out != text:
        again_root, _ = read_document(SourceFile(source.name, laid_out), limits)
        again = _lay_out(laid_out, again_root) if again_root is not None else None
        if (
            again != laid_out
            or _first_change(source, laid_out, limits) is not None
            or not _keeps_comments(text, laid_out)
        ):
            # ruamel would change a value, lay its own output out again, or drop or move a
            # comment
            laid_out = None
    if laid_out is not None:
        return FormatResult(laid_out)
    respaced = _respace_in_place(text, root)
    if isinstance(respaced, _Unparsed):
        return FormatResult(None, respaced.problem)
    if respaced != text and _first_change(source, respaced, limits) is not None:
        return FormatResult(text)
    return FormatResult(respaced)


class _Unparsed(msgspec.Struct, frozen=True):
    """An expression that does not parse: fmt stops and says which."""

    problem: str


# What ruamel writes before the document for `version = (1, 2)`: rule files carry neither a
# directive nor a document marker (a mapping at the top needs neither).
_DOCUMENT_START = re.compile(r"\A(?:%YAML 1\.[12]\n)?(?:---\n|--- (?=[{\[]))?")


def _lay_out(text: str, root: LocatedMapping) -> str | _Unparsed | None:
    """ruamel's layout of `text`, keeping every comment: where ruamel drops one (inside
    `{...}` or `[...]` over several lines, on a line between a key and its value), that
    node's text, from its `:` or `-` on, is kept exactly as written. None when even that loses
    a comment (the caller then keeps the author's layout)."""
    laid_out = _ruamel_layout(text)
    if isinstance(laid_out, str):
        laid_out += _comments_after_end(text, root, laid_out)
        if not _keeps_comments(text, laid_out):
            kept = _kept_nodes(text, root)
            laid_out = _ruamel_layout(text, kept) if kept else None
            if isinstance(laid_out, str):
                laid_out += _comments_after_end(text, root, laid_out)
                if not _keeps_comments(text, laid_out):
                    laid_out = None
    return laid_out


_KEEP = "ruleengine_fmt_kept_{}"  # a plain scalar and a name: no expression respaces it

_NodePath = tuple[str | int, ...]


def _kept_nodes(text: str, root: LocatedMapping) -> list[tuple[_NodePath, str, int]]:
    """The nodes whose comments ruamel cannot place, each with its text as written from just
    after its `:` or `-`: a flow collection holding a comment, a value with a comment
    between it and its key."""
    offsets = comment_offsets(text)
    kept: list[tuple[_NodePath, str, int]] = []

    def has_comment(start: int, end: int) -> bool:
        at = bisect.bisect_left(offsets, start)
        return at < len(offsets) and offsets[at] < end

    def walk(node: LocatedNode, path: _NodePath, after: int) -> None:
        flow = text[node.span.start : node.span.start + 1] in ("{", "[")
        between = isinstance(node, LocatedScalar) and has_comment(after, node.span.start)
        if path and (flow or between) and has_comment(after, node.span.end):
            written = text[after : node.span.end]
            if _is_expression(path) and isinstance(node, LocatedScalar) and node.style is None:
                with contextlib.suppress(LarkError):  # respaced as ruamel's are, if it parses
                    canonical = normalise_spacing(node.text)
                    if "\n" not in node.text and node.text == text[node.span.start : node.span.end]:
                        written = text[after : node.span.start] + canonical
            line_start = text.rfind("\n", 0, after) + 1
            line = text[line_start:after]
            kept.append((path, written, len(line) - len(line.lstrip(" "))))
            return
        if flow:
            return
        if isinstance(node, LocatedMapping):
            for key, value in node.items:
                colon = text.find(":", key.span.end)
                if colon >= 0 and isinstance(key.value, str):
                    walk(value, (*path, key.value), colon + 1)
        elif isinstance(node, LocatedSequence):
            for index, item in enumerate(node.items):
                dash = text.rfind("-", node.span.start, item.span.start + 1)
                if dash >= 0:
                    walk(item, (*path, index), dash + 1)

    walk(root, (), 0)
    return kept


def _shift_lines(written: str, by: int) -> str | None:
    """`written` with every line after its first moved `by` columns (left when negative), as
    the line it starts on moved; None when a line has too few spaces to move left."""
    first, *rest = written.split("\n")
    lines = [first]
    for line in rest:
        if not line.strip():
            lines.append(line)
        elif by >= 0:
            lines.append(" " * by + line)
        elif line[:-by].strip(" "):
            return None
        else:
            lines.append(line[-by:])
    return "\n".join(lines)


def _is_expression(path: _NodePath) -> bool:
    return len(path) == 3 and (path[0], path[2]) in _EXPRESSION_KEYS


def _ruamel_layout(
    text: str, kept: Sequence[tuple[_NodePath, str, int]] = ()
) -> str | _Unparsed | None:
    """ruamel's layout of `text` with expressions respaced, and the `kept` nodes as written;
    None when ruamel cannot read or write it."""
    yaml = _yaml()
    try:
        document = yaml.load(text)
    except Exception:  # ruamel raises more than YAMLError (TypeError, AssertionError)
        return None
    if document is None:
        return text
    for number, (path, _, _) in enumerate(kept):
        parent = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            _ = parent[path[-1]]  # the node is there, or this layout is not made
            parent[path[-1]] = _KEEP.format(number)
        except (KeyError, IndexError, TypeError):
            return None
    problem = _normalise_expressions(document)
    if problem is not None:
        return _Unparsed(problem)
    out = io.StringIO()
    try:
        yaml.dump(document, out)
    except Exception:  # what ruamel loaded, it should dump; if not, the layout stays
        return None
    formatted = _DOCUMENT_START.sub("", out.getvalue(), count=1)
    for number, (_, written, indent) in enumerate(kept):
        placeholder = " " + _KEEP.format(number)
        at = formatted.find(placeholder)
        if at < 0 or formatted.count(placeholder) != 1:
            return None
        line = formatted[formatted.rfind("\n", 0, at) + 1 : at]
        shifted = _shift_lines(written, len(line) - len(line.lstrip(" ")) - indent)
        if shifted is None:
            return None
        formatted = formatted[:at] + shifted + formatted[at + len(placeholder) :]
    return formatted.rstrip("\n") + "\n"


# A `...` line (a document end marker) in column 0; in a rule file, whose root is a mapping,
# every such line is a marker (block text there is indented).
_DOCUMENT_END = re.compile(r"^\.\.\.(?=[ \t]|$)", re.MULTILINE)


def _comments_after_end(text: str, root: LocatedMapping, laid_out: str) -> str:
    """The comments below the `...` that ends the document, which ruamel drops with the
    marker: kept, in column 0, below the laid-out document (as the `---` on top, the marker
    goes)."""
    end = _DOCUMENT_END.search(text, root.span.end)
    if end is None:
        return ""
    comments = []
    for line in text[end.start() :].split("\n"):
        body = (line[3:] if _DOCUMENT_END.match(line) else line).strip()
        if body.startswith("#"):
            comments.append(body + "\n")
    kept = "".join(comments)
    return "" if laid_out.endswith(kept) else kept


def _respace_in_place(text: str, root: LocatedMapping | None) -> str | _Unparsed:
    """`text` with each plain single-line expression respaced where it stands, and nothing
    else changed: the layout of a file ruamel would lay out wrongly."""
    if root is None:
        return text
    edits: list[tuple[Span, str]] = []
    for section, key in sorted(_EXPRESSION_KEYS):
        found = root.get(section)
        rules = found[1] if found is not None else None
        if not isinstance(rules, LocatedSequence):
            continue
        for index, rule in enumerate(rules.items):
            entry = rule.get(key) if isinstance(rule, LocatedMapping) else None
            value = entry[1] if entry is not None else None
            if not isinstance(value, LocatedScalar) or not isinstance(value.value, str):
                continue
            if value.style is not None or "\n" in value.text:
                continue  # quoted and block expressions keep their text
            expr, problems = parse_expression(ExpressionSource.standalone(value.value))
            if expr is None:
                detail = problems[0].message if problems else "does not parse"
                return _Unparsed(f"{section}[{index}].{key}: {detail}; fix it before formatting")
            canonical = normalise_spacing(value.value)
            if canonical != value.value and text[value.span.start : value.span.end] == value.text:
                edits.append((value.span, canonical))
    for span, canonical in sorted(edits, key=lambda edit: -edit[0].start):
        text = text[: span.start] + canonical + text[span.end :]
    return text


def comment_offsets(text: str) -> list[int]:
    """Where the comments of a YAML text start (each `#`), in order; [] when it does not
    scan."""
    return [start for start, _ in _comments(text) or ()]


def comments_of(text: str) -> list[str] | None:
    """The comments of a YAML text, in order, each `#...` without the spaces after it; None
    when the text does not scan. A comment is a `#` outside every token (a `#` inside a
    scalar, quoted or block text is text), so the scanner of `validate` finds them."""
    found = _comments(text)
    return None if found is None else [comment for _, comment in found]


def _comments(text: str) -> list[tuple[int, str]] | None:
    if "#" not in text:
        return []
    scanner = _TokenScanner(text if text.endswith("\n") else text + "\n")
    gaps: list[tuple[int, str]] = []
    at = 0
    try:
        while not scanner.check_token(yaml.StreamEndToken):
            token = scanner.get_token()  # type: ignore[no-untyped-call]  # PyYAML is untyped here
            gaps.append((at, text[at : token.start_mark.index]))
            at = max(at, token.end_mark.index)
    except yaml.YAMLError:
        return None
    gaps.append((at, text[at:]))
    return [
        (start + match.start(), match.group(0).rstrip())
        for start, gap in gaps
        for match in re.finditer(r"#[^\r\n]*", gap)
    ]


class _TokenScanner(Reader, StrictScanner):
    """The scanner of `validate`, on its own: the tokens of a text, with where they stand."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        StrictScanner.__init__(self)


def _keeps_comments(text: str, formatted: str) -> bool:
    """Whether `formatted` holds every comment of `text`, in the same order: fmt never
    drops a comment, and never moves one past another."""
    before = comments_of(text)
    return before == [] or (before is not None and before == comments_of(formatted))


def _first_change(source: SourceFile, formatted: str, limits: Limits) -> Diagnostic | None:
    """RE101 at the first value the formatted text would read differently (by the reader of
    `validate`), or None when it says the same. ruamel and our reader disagree on some
    corners (`{description:}` is an empty value to us, the key `description:` to ruamel), and
    fmt must never change what a file means: such a file is left alone."""
    before, _ = read_document(source, limits)
    after, _ = read_document(SourceFile(source.name, formatted), limits)
    pairs: list[tuple[LocatedNode | None, LocatedNode | None, str | None]] = [(before, after, None)]
    while pairs:
        old, new, key = pairs.pop()
        span = old.span if old is not None else Span(0, 0)
        if isinstance(old, LocatedMapping) and isinstance(new, LocatedMapping):
            if [k.text for k, _ in old.items] == [k.text for k, _ in new.items]:
                pairs.extend(
                    (a, b, k.text) for (k, a), (_, b) in zip(old.items, new.items, strict=True)
                )
                continue
        elif isinstance(old, LocatedSequence) and isinstance(new, LocatedSequence):
            if len(old.items) == len(new.items):
                pairs.extend((a, b, key) for a, b in zip(old.items, new.items, strict=True))
                continue
        elif isinstance(old, LocatedScalar) and isinstance(new, LocatedScalar):
            if _said(old, key) == _said(new, key):
                continue
        elif old is None and new is None:
            continue
        return make_diagnostic(
            source,
            span,
            "RE101",
            "the formatter would change what this value says; the file is left as it is",
            hint="`validate` reads it; write the value out plainly (`key: null`, quoted text)",
        )
    return None


def _said(node: LocatedScalar, key: str | None) -> object:
    """A scalar's meaning: its value, an expression in canonical spacing."""
    if key in ("when", "points") and isinstance(node.value, str) and node.style not in ("|", ">"):
        with contextlib.suppress(LarkError):
            return normalise_spacing(node.value)
    return node.value


def _refused(*diagnostics: Diagnostic) -> FormatResult:
    first = diagnostics[0]
    reason = f"{first.code} at line {first.line}, column {first.column}: {first.message}"
    return FormatResult(None, reason, diagnostics)


def _normalise_expressions(document: Any) -> str | None:
    """Rewrite single-line expressions in place; the first expression that does not parse
    stops formatting (returns why)."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    if not isinstance(document, dict):
        return None
    for section, key in sorted(_EXPRESSION_KEYS):
        rules = document.get(section)
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict) or key not in rule:
                continue
            value = rule[key]
            if isinstance(value, LiteralScalarString | FoldedScalarString) or not isinstance(
                value, str
            ):
                continue  # block layout is the author's
            if type(value) is str and not plain_scalar_is_text(value):
                continue  # a plain number, boolean or null (`points: 1e3`) is not respaced
            if "\n" in value:
                continue
            expr, problems = parse_expression(ExpressionSource.standalone(value))
            if expr is None:
                detail = problems[0].message if problems else "does not parse"
                return f"{section}[{index}].{key}: {detail}; fix it before formatting"
            canonical = normalise_spacing(value)
            if canonical != value:
                rule[key] = canonical
    return None


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never
    half of one: write a temporary file beside it, flush it to disk, then rename over. A
    symbolic link is written through: its target gets the text, and the link stays."""
    path = path.resolve() if path.is_symlink() else path
    directory = path.parent
    mode = path.stat().st_mode if path.exists() else None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
