"""Parsing expression text into the AST, with syntax errors as diagnostics.

Expressions live inside YAML scalars, so positions are tracked twice: the parser and the AST work
in offsets into the expression text, and `ExpressionSource` maps those to the file through an
`OffsetMap` only when a diagnostic is built. Lark's exceptions are translated here into the
RE30x codes, with messages in words rather than terminal names and hints for the mistakes
people coming from other languages make (`&&`, `=`, `<>`, chained comparisons, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from ruleengine.diagnostics.diagnostic import Diagnostic, PathPart, make_diagnostic
from ruleengine.diagnostics.source import OffsetMap, SourceFile, Span
from ruleengine.expr.ast import Expr
from ruleengine.expr.grammar import expression_parser
from ruleengine.expr.lalr import parse_fast

if TYPE_CHECKING:
    from lark import Token, Tree
    from lark.exceptions import UnexpectedInput, UnexpectedToken

# `lark` and the tree builder are imported inside the functions that parse: modules that only
# need `ExpressionSource` (the checker, the YAML loader) must not pay for importing lark.

MAX_DEPTH = 100
"""Deepest AST accepted. Later phases walk the tree recursively, so the parser rejects trees that
could exhaust Python's recursion limit there. Real rules stay far below: the depth of a chain of
`or`s is its length."""

WHITESPACE = " \t\r\n"
"""The characters the grammar ignores (`WS`); anything else is part of the expression."""


class ExpressionSource(msgspec.Struct, frozen=True):
    """An expression's text plus where it came from, so diagnostics point into the file."""

    text: str
    source: SourceFile
    offsets: OffsetMap
    path: tuple[PathPart, ...] = ()

    def file_span(self, span: Span) -> Span:
        return self.offsets.to_file(span)

    def location_text(self, offset: int, relative_to: int) -> str:
        """`column N` of an expression offset in file terms, with the line when it differs."""
        here = self.source.location(self.file_span(Span(offset, offset + 1)).start)
        other = self.source.location(self.file_span(Span(relative_to, relative_to)).start)
        if here.line == other.line:
            return f"column {here.column}"
        return f"line {here.line}, column {here.column}"

    def report(self, span: Span, code: str, message: str, *, hint: str | None = None) -> Diagnostic:
        return make_diagnostic(
            self.source, self.file_span(span), code, message, hint=hint, path=self.path
        )

    @classmethod
    def standalone(cls, text: str, name: str = "<string>") -> ExpressionSource:
        """An expression that is a file of its own (tests, the REPL, `--expr` on the CLI)."""
        return cls(text, SourceFile(name, text), OffsetMap.identity(len(text)), ())


def parse_expression(src: ExpressionSource) -> tuple[Expr | None, list[Diagnostic]]:
    """The AST of `src.text`, or None and at least one diagnostic; never raises on any text.

    Parsing stops at the first syntax error (an LALR parser has no reliable way to resume), but
    every bad escape in the string literals of an otherwise valid expression is reported.
    """
    text = src.text
    if not text.strip(WHITESPACE):
        return None, [src.report(Span(0, len(text)), "RE306", "expression is empty")]
    try:
        return _parse(src)
    except RecursionError:  # defensive: nothing below recurses with the depth of the input
        return None, [_too_deep_diagnostic(src, Span(0, len(text)))]


def _parse(src: ExpressionSource) -> tuple[Expr | None, list[Diagnostic]]:
    """The generated tables' parser (`lalr.py`) for text that parses cleanly; lark for the
    rest, whose exceptions and parse trees the diagnostics are made from."""
    expr = parse_fast(src.text, MAX_DEPTH)
    if expr is not None:
        return expr, []
    from lark.exceptions import UnexpectedInput

    from ruleengine.expr.build import build_ast

    try:
        tree = expression_parser().parse(src.text)
    except UnexpectedInput as error:
        return None, [_syntax_error(src, error)]
    too_deep = _too_deep(tree)
    if too_deep is not None:
        return None, [_too_deep_diagnostic(src, too_deep)]
    result = build_ast(tree)
    if result.problems:
        return None, [src.report(p.span, p.code, p.message, hint=p.hint) for p in result.problems]
    return result.expr, []


def _too_deep_diagnostic(src: ExpressionSource, span: Span) -> Diagnostic:
    return src.report(
        span,
        "RE301",
        f"expression is nested too deeply (more than {MAX_DEPTH} levels)",
        hint="split it into simpler expressions, or use `in [...]` for long chains of `or`",
    )


def _too_deep(tree: Tree[Token]) -> Span | None:
    """The span of the first subtree below `MAX_DEPTH`, found without recursion.

    Every tree node becomes exactly one AST node (pass-through rules are inlined, and argument
    lists are spliced into their call), so tree depth is AST depth.
    """
    from lark import Tree

    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return Span(node.meta.start_pos, node.meta.end_pos)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return None


# Syntax errors

# Terminals that can start an operand, and those that continue one (binary operators and the
# postfix `.`, `[`, `(`). `-`, `(`, `[` and `not` are in both.
_STARTERS = frozenset(
    {"NUMBER", "DURATION", "STRING", "NAME", "TRUE", "FALSE", "NULL", "_IF", "NOT", "MINUS"}
    | {"_LPAR", "_LSQB"}
)
_OPERATORS = frozenset(
    {"OR", "AND", "NOT", "IN", "EQ", "NE", "LT", "LE", "GT", "GE", "PLUS", "MINUS", "STAR"}
    | {"SLASH", "PERCENT", "_DOT", "_LSQB", "_LPAR"}
)
_BINARY_ONLY = _OPERATORS - _STARTERS
# Tokens after which an expression must follow, for "unexpected end" hints.
_NEEDS_OPERAND = (_BINARY_ONLY - {"_DOT"}) | {"NOT", "MINUS", "_IF", "_THEN", "_ELSE"}
_COMPARISONS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE", "IN", "NOT"})
_KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "true", "false", "null"})
# Terminals named on their own in "expected ..." lists, in the order they are listed.
_PUNCTUATION = {
    "_RPAR": "`)`",
    "_RSQB": "`]`",
    "_COMMA": "`,`",
    "_THEN": "`then`",
    "_ELSE": "`else`",
}
_WORD_OPERATORS = frozenset({"and", "or", "not", "in", "if", "then", "else"})
_OPENERS = {"_LPAR": "(", "_LSQB": "["}
_CLOSERS = {"_RPAR": "_LPAR", "_RSQB": "_LSQB"}

# Characters outside the language that have an obvious intended meaning.
_CHARACTER_HINTS = {
    "&&": "use `and`",
    "&": "use `and`",
    "||": "use `or`",
    "|": "use `or`",
    "=>": "use `>=`",
    "=<": "use `<=`",
    "=": "use `==` to compare",
    "!": "use `not`",
    "#": "expressions have no comments",
    "\u00a0": "a no-break space (word processors and web pages type them): write a space",
    "\u202f": "a narrow no-break space: write a space",
    "\u201c": "use straight quotes, `\"` or `'`",
    "\u201d": "use straight quotes, `\"` or `'`",
    "\u2018": "use straight quotes, `\"` or `'`",
    "\u2019": "use straight quotes, `\"` or `'`",
}


def _syntax_error(src: ExpressionSource, error: UnexpectedInput) -> Diagnostic:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream
        return _unexpected_character(src, pos if pos is not None else 0)
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return _unexpected_end(src, error)
        return _unexpected_token(src, error)
    # Other lark errors (UnexpectedEOF) do not occur with LALR, but must not escape.
    at = _end_offset(src.text)
    return src.report(Span(at, at), "RE301", "expression is not valid")


def _unexpected_character(src: ExpressionSource, pos: int) -> Diagnostic:
    text = src.text
    char = text[pos]
    if char in "\"'":
        # The STRING pattern failed at its opening quote: no closing quote on this line. A
        # quote later on the line can only be an escaped one.
        line, _, later_lines = text[pos + 1 :].partition("\n")
        if char in line:
            hint = f"`\\{char}` is an escaped quote; write `\\\\` for a backslash at the end"
        elif char in later_lines:
            hint = f"strings cannot span lines; close it with `{char}` on the same line"
        else:
            hint = f"close it with `{char}`"
        return src.report(Span(pos, pos + 1), "RE304", "unterminated string", hint=hint)
    shown = f"`{char}`" if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
    for chars, hint in _CHARACTER_HINTS.items():  # two-character entries come first
        if text.startswith(chars, pos):
            span = Span(pos, pos + len(chars))
            what = f"`{chars}`" if len(chars) > 1 else shown
            return src.report(span, "RE302", f"unexpected {what}", hint=hint)
    return src.report(Span(pos, pos + 1), "RE302", f"unexpected character {shown}")


def _unexpected_end(src: ExpressionSource, error: UnexpectedToken) -> Diagnostic:
    text = src.text
    at = _end_offset(text)
    message = "unexpected end of expression"
    accepted = _accepted(error)
    expected = _expected_words(accepted)
    if expected:
        message += f"; expected {expected}"
    tokens = _tokens_before(text, at)
    hint = _trailing_point_hint(tokens)
    if hint is None and tokens and "NAME" in accepted and tokens[-1].type in _NEEDS_OPERAND:
        hint = f"`{tokens[-1]}` needs an expression after it"
    if hint is None:
        unclosed = _unclosed(tokens)
        if unclosed is not None:
            where = src.location_text(unclosed.start_pos or 0, at)
            hint = f"the `{unclosed}` at {where} is not closed"
    return src.report(Span(at, at), "RE303", message, hint=hint)


def _unexpected_token(src: ExpressionSource, error: UnexpectedToken) -> Diagnostic:
    token: Token = error.token
    span = _token_span(token)
    accepted = _accepted(error)
    message = f"unexpected `{_display(str(token))}`"
    expected = _expected_words(accepted)
    if expected:
        message += f"; expected {expected}"
    tokens = _tokens_before(src.text, span.start)
    previous = tokens[-1] if tokens else None
    if (
        previous is not None
        and previous.type == "LT"
        and token.type == "GT"
        and previous.end_pos == token.start_pos
    ):
        # `<>` lexes as `<` then `>`: the mistake starts at the `<`, which was accepted.
        span = Span(_token_span(previous).start, span.end)
        return src.report(span, "RE301", "unexpected `<>`", hint="use `!=` for not equal")
    return src.report(span, "RE301", message, hint=_token_hint(src, token, accepted, tokens))


def _keyword_case_hint(token: Token, previous: Token | None) -> str | None:
    """`a AND b`, `NOT a`: a keyword in capitals is read as a name, misplaced or before one."""
    for word in (token, previous):
        text = str(word) if word is not None and word.type == "NAME" else ""
        if text.lower() in _WORD_OPERATORS and text != text.lower():
            return f"keywords are written in lower case: `{text.lower()}`"
    return None


def _token_hint(
    src: ExpressionSource, token: Token, accepted: frozenset[str], before: Sequence[Token]
) -> str | None:
    """A hint for the common mistakes that show up as a misplaced token."""
    previous = before[-1] if before else None
    adjacent = previous is not None and previous.end_pos == token.start_pos
    after_operand = "NAME" not in accepted
    case_hint = _keyword_case_hint(token, previous)
    if case_hint is not None:
        return case_hint
    if previous is not None and previous.type == "NUMBER" and token.type == "NAME":
        number_hint = _number_hint(src, previous, token, adjacent=adjacent)
        if number_hint is not None:
            return number_hint
    point_hint = _trailing_point_hint(before)
    if point_hint is not None:
        return point_hint
    if token.type in _COMPARISONS and after_operand and accepted and "EQ" not in accepted:
        return "comparisons do not chain; combine them with `and`, as in `a < b and b < c`"
    if token.type in {"_IF", "NOT"} and "NAME" in accepted and token.type not in accepted:
        return f"put the `{token} ...` expression in parentheses"
    if token.type == "_IF" and after_operand:
        return "a conditional is written `if condition then value else other`"
    if token.type == "_LPAR" and len(before) >= 2 and before[-2].type == "_DOT":
        return "only functions can be called, with the value as argument: `lower(customer.tier)`"
    if (
        token.type == "NAME"
        and previous is not None
        and previous.type == "NUMBER"
        and adjacent
        and str(token)[0] in "smhdwy"
    ):
        return "a duration is a whole number and a unit: `s`, `min`, `h`, `d`, `w`, `mo` or `y`"
    end = _token_span(token).end
    next_char = src.text[end : end + 1]
    if token.type == "_DOT" and "NAME" in accepted and next_char.isdigit():
        return "write a leading zero, as in `0.5`"
    if str(token) in _KEYWORDS and accepted == {"NAME"}:
        return f"`{token}` is a keyword and cannot be used as a name"
    if token.type in _CLOSERS and _unclosed(before) is None:
        return f"there is no open `{_OPENERS[_CLOSERS[token.type]]}` for it to close"
    return None


# Long names of duration units (`90 days`), for the hint to write the short unit.
_LONG_UNITS = {
    "second": "s",
    "seconds": "s",
    "sec": "s",
    "secs": "s",
    "minute": "min",
    "minutes": "min",
    "mins": "min",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "day": "d",
    "days": "d",
    "week": "w",
    "weeks": "w",
    "month": "mo",
    "months": "mo",
    "year": "y",
    "years": "y",
}
_SHORT_UNITS = frozenset(_LONG_UNITS.values())
_EXPONENT = re.compile(r"[0-9]+(?:\.[0-9]+)?[eE][+-]?(?P<power>[0-9]+)")
_SEPARATED = re.compile(r"[0-9]+(?:_[0-9]+)+(?:\.[0-9_]+)?")
_MAX_SHOWN_EXPONENT = 30


def _number_hint(
    src: ExpressionSource, number: Token, name: Token, *, adjacent: bool
) -> str | None:
    """A number followed by a name: an exponent (`1e3`), digit separators (`1_000`), or a
    duration written with a space (`90 d`, `90 days`)."""
    start = number.start_pos or 0
    word = str(name)
    if adjacent:
        exponent = _EXPONENT.match(src.text, start)
        if exponent is not None:
            power = exponent.group("power")
            if (
                len(power) <= len(str(_MAX_SHOWN_EXPONENT))
                and int(power) <= _MAX_SHOWN_EXPONENT
                and len(exponent.group()) <= _MAX_SHOWN_EXPONENT
            ):
                return f"numbers have no exponent: write `{Decimal(exponent.group()):f}`"
            return "numbers have no exponent: write the digits out"
        separated = _SEPARATED.match(src.text, start)
        if separated is not None:
            digits = separated.group().replace("_", "")
            return f"numbers have no digit separators: write `{digits}`"
        return None
    between = src.text[number.end_pos : name.start_pos]
    if between.strip(WHITESPACE) or not number.isdigit():
        return None
    unit = _LONG_UNITS.get(word.lower(), word if word in _SHORT_UNITS else None)
    if unit is None:
        return None
    return f"a duration is written without a space, with a short unit: `{number}{unit}`"


def _trailing_point_hint(tokens: Sequence[Token]) -> str | None:
    """`1.`: a number, then a point with nothing (or no field name) after it."""
    if len(tokens) < 2 or tokens[-1].type != "_DOT" or tokens[-2].type != "NUMBER":
        return None
    number, point = tokens[-2], tokens[-1]
    if number.end_pos != point.start_pos or "." in str(number):
        return None
    return f"a decimal needs digits after the point: write `{number}.0`, or `{number}`"


def _token_span(token: Token) -> Span:
    start = token.start_pos or 0
    return Span(start, token.end_pos if token.end_pos is not None else start)


def _display(text: str, limit: int = 30) -> str:
    """Source text for a one-line message: shortened, and without raw control characters."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def _accepted(error: UnexpectedToken) -> frozenset[str]:
    """The terminals that could have come instead of the unexpected token.

    `accepts` tries each terminal on a copy of the parser, so unlike `expected` it is exact: an
    LALR state merged from several contexts would otherwise offer `]` inside a call or `then`
    outside any `if`.
    """
    # `accepts` is None when lark has no interactive parser to try terminals on.
    return frozenset(error.accepts or error.expected)


def _expected_words(accepted: frozenset[str]) -> str:
    """`accepted` in words: "`)`, `,` or an operator", "an expression", "a field name"."""
    if accepted == {"NAME"}:
        return "a field name"
    if accepted == {"IN"}:
        return "`in`"
    words = [word for terminal, word in _PUNCTUATION.items() if terminal in accepted]
    if "NAME" in accepted:
        words.append("an expression")
    elif accepted & _BINARY_ONLY:
        words.append("an operator")
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _tokens_before(text: str, end: int) -> list[Token]:
    """The tokens that start before offset `end`; lexing is cheap and only done for errors.

    Lexing cannot fail before `end`, because the parser got that far (its lexer already read
    those tokens), but the text after it may hold anything.
    """
    from lark.exceptions import UnexpectedInput

    tokens: list[Token] = []
    lexed: Iterator[Token] = expression_parser().lex(text)
    try:
        for token in lexed:
            if token.start_pos is None or token.start_pos >= end:
                break
            tokens.append(token)
    except UnexpectedInput:
        pass
    return tokens


def _unclosed(tokens: Sequence[Token]) -> Token | None:
    """The innermost `(` or `[` left open by `tokens`, which are a valid prefix."""
    stack: list[Token] = []
    for token in tokens:
        if token.type in _OPENERS:
            stack.append(token)
        elif token.type in _CLOSERS and stack:
            stack.pop()
    return stack[-1] if stack else None


def _end_offset(text: str) -> int:
    """Where an unexpected end is reported: just past the last character that is not blank,
    so a block scalar's trailing line break does not push the position onto the next line."""
    return len(text.rstrip(WHITESPACE))
