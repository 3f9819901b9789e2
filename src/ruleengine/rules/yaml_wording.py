"""YAML errors in words: PyYAML's and libyaml's messages, and what the text around the error
shows, turned into located RE1xx diagnostics that say what to change.
"""

from __future__ import annotations

import re
from typing import TypeAlias

import msgspec
import yaml

from ruleengine.diagnostics.diagnostic import Diagnostic, DiagnosticSink, make_diagnostic
from ruleengine.diagnostics.source import SourceFile, Span


def encoding_error(name: str, text: str, offset: int, message: str) -> Diagnostic:
    source = SourceFile(name, text)
    return make_diagnostic(
        source,
        Span(offset, min(offset + 1, len(text))),
        "RE106",
        message,
        hint="save the file as UTF-8",
    )


_BREAK_NAMES = {"\x85": "U+0085 (NEXT LINE)", "\u2028": "U+2028 (LINE SEPARATOR)"}


def report_version_breaks(sink: DiagnosticSink) -> None:
    """RE111 at each U+0085, U+2028 and U+2029 of the file: YAML 1.1 (PyYAML, libyaml, and
    ruamel in comments) ends a line there, YAML 1.2 reads an ordinary character."""
    for offset, ch in enumerate(sink.source.text):
        if ch in "\x85\u2028\u2029":
            name = _BREAK_NAMES.get(ch, "U+2029 (PARAGRAPH SEPARATOR)")
            sink.report(
                Span(offset, offset + 1),
                "RE111",
                f"the character {name} is a line break to YAML 1.1 and text to YAML 1.2",
                hint=f"to keep it in text, write it inside double quotes as "
                f"`\\u{ord(ch):04x}`; otherwise delete it or use an ordinary line break",
            )


def report_yaml_error(
    sink: DiagnosticSink, error: yaml.MarkedYAMLError, code: str = "RE101"
) -> None:
    mark = error.problem_mark or error.context_mark
    offset = max(0, min(mark.index if mark is not None else 0, len(sink.source.text)))
    if code == "RE107":
        if sink.source.text.startswith("---", offset):
            remove = "a rule file is one document: remove the `---` line and what follows it"
        else:  # a bare document or a directive after `...`, which ends the one above
            remove = "a rule file is one document, and `...` ends it: remove what follows `...`"
        sink.report(
            _char_span(sink.source, offset),
            code,
            "the file has more than one YAML document",
            hint=f"{remove}, or move the other document to a file of its own",
        )
        return
    explained = _explain_yaml_error(sink.source, error, offset)
    if explained is None:
        explained = _plain_yaml_error(sink.source, error, offset)
    span, message, hint = explained
    sink.report(span, code, message, hint=hint)


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


class _QuotedToken(msgspec.Struct, frozen=True):
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


def report_too_deep(sink: DiagnosticSink, span: Span, limit: int) -> None:
    start = span.start
    sink.report(
        _char_span(sink.source, start),
        "RE109",
        f"lists and mappings are nested more than {limit} levels deep",
        hint="rule files need a few levels; flatten the structure, or raise "
        "`Limits.max_nesting_depth`",
    )


def report_reader_error(sink: DiagnosticSink, error: yaml.reader.ReaderError) -> None:
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


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid YAML"
