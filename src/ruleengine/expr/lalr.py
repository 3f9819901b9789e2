"""Expression text to AST on the generated LALR(1) tables, without lark.

Lark builds its tables when a process first parses (~40 ms), then parses through a general
tree builder and a transformer: most of the time it took to compile a condition. This module
runs the same tables (`parse_tables`, generated from the grammar by lark itself) in one small
loop that builds AST nodes directly in each reduction, with lark's rules for what a rule keeps
(tokens named `_...` dropped, rules named `_...` spliced, `?` rules with one child passed
through) and for spans (a node spans its first to its last child, parentheses included).

It only ever answers for text that parses cleanly. On anything else (a character no terminal
matches, a token the table has no action for, a literal that does not decode, a tree deeper
than the limit) it returns None and `parser.py` runs lark, which words the diagnostic exactly
as it always did. `tests/unit/expr/test_lalr.py` requires both to give the same AST, spans
and constant types included, or both to reject, on the corpora and fuzzed mutations of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from ruleengine.diagnostics.source import Span
from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Call,
    Conditional,
    Constant,
    Expr,
    FieldAccess,
    Index,
    ListExpr,
    Name,
    UnaryOp,
    UnaryOperator,
)
from ruleengine.expr.parse_tables import (
    END_STATE,
    IGNORED,
    KEYWORDS,
    RULES,
    START_STATE,
    STATES,
    TERMINALS,
)
from ruleengine.expr.values import Duration

# Ignored text (whitespace) as an atomic group: `(?:[ \t\r\n]+)*` alone backtracks through
# every way of splitting a run of blanks before a character that fails (exponential: 24
# blanks took 30 s); atomic, the run is taken whole once.
_IGNORED = re.compile("(?>(?:" + "|".join(p for name, p in TERMINALS if name in IGNORED) + ")*)")
_PATTERN = re.compile(
    _IGNORED.pattern
    + "(?:"
    + "|".join(f"({p})" for name, p in TERMINALS if name not in IGNORED)
    + ")"
)
_GROUP_NAMES = ("", *(name for name, _ in TERMINALS if name not in IGNORED))
"""The terminal each capturing group of `_PATTERN` matches (patterns have no groups of
their own: lark writes them with `(?:...)`)."""
assert _PATTERN.groups == len(_GROUP_NAMES) - 1

Token = tuple[str, str, int, int]
"""(terminal, text, start, end) offsets into the expression text."""

Entry = tuple[Any, int, int, int, int, int]
"""A value on the parse stack: (value, start, end, container start, container end, depth).
The value is a token's text, an AST node, or the entries an `_items` rule collected; the
container includes the parentheses around a passed-through child (lark's `container_*`)."""


Build = Callable[[list[Entry], Span], Any]
"""Makes a rule's node from its kept entries and its span."""


class _DeclinedError(Exception):
    """Raised inside a reduction when the fast path declines (lark will say why)."""


def tokenize(text: str) -> list[Token] | None:
    """The tokens of `text` as lark's basic lexer makes them, or None where it would fail.

    Ignored text (whitespace) is matched as the prefix of the next token rather than as a
    token of its own: no other terminal can begin with it, so the tokens are lark's."""
    out: list[Token] = []
    pos = 0
    keywords = KEYWORDS
    names = _GROUP_NAMES
    match = _PATTERN.match  # anchored at `pos`: never searches ahead past a failure
    while (found := match(text, pos)) is not None:
        group = found.lastindex
        if group is None:
            return None
        value = found[group]
        pos = found.end()
        kind = names[group]
        if kind == "NAME":
            kind = keywords.get(value, kind)
        out.append((kind, value, pos - len(value), pos))
    if pos != len(text):
        rest = _IGNORED.match(text, pos)
        if rest is None or rest.end() != len(text):
            return None
    return out


def parse_fast(text: str, max_depth: int) -> Expr | None:
    """The AST of `text`, or None when lark must parse it (it does not parse, a literal does
    not decode, or the tree is deeper than `max_depth`)."""
    tokens = tokenize(text)
    if tokens is None:
        return None
    tokens.append(("$END", "", len(text), len(text)))
    states = STATES
    rules = _RULES
    stack = [START_STATE]
    values: list[Entry] = []
    try:
        for token in tokens:
            kind = token[0]
            while True:
                action = states[stack[-1]].get(kind)
                if action is None:
                    return None
                if action >= 0:
                    stack.append(action)
                    values.append((token[1], token[2], token[3], token[2], token[3], 0))
                    break
                origin, size, reduce = rules[~action]
                if reduce is None:  # `?` rules passing their only child through: one step
                    key = (stack[-2], stack[-1], kind)
                    goto = _CHAINS.get(key)
                    if goto is None:
                        goto = _CHAINS[key] = _chain(stack[-2], stack[-1], kind)
                    if goto == END_STATE:
                        node: Expr = values[-1][0]
                        return node
                    stack[-1] = goto
                    continue
                reduce(values, max_depth)
                del stack[len(stack) - size :]
                stack.append(states[stack[-1]][origin])
    except _DeclinedError:
        return None
    return None  # unreachable: `$END` either reduces to the start symbol or has no action


_CHAINS: dict[tuple[int, int, str], int] = {}
"""(state below, top state, lookahead) -> the top state after every pass-through reduction
those allow (`atom` -> `postfix` -> ... -> `expr` is up to nine): a pass-through replaces
only the top state, so the chain depends on nothing else. Filled as met; bounded by the
tables."""


def _chain(below: int, top: int, kind: str) -> int:
    while True:
        action = STATES[top].get(kind)
        if action is None or action >= 0:
            return top
        origin, _, reduce = _RULES[~action]
        if reduce is not None:
            return top
        top = STATES[below][origin]
        if top == END_STATE:
            return top


Reduce = Callable[[list[Entry], int], None]
"""Replaces the rule's entries at the top of the stack with the one it builds."""


def _reducer(
    size: int, build: Build | None, kept: tuple[int, ...], spliced: tuple[int, ...]
) -> Reduce | None:
    if build is None and size == 1:
        return None
    if build is _binary_op and size == 3:
        return _reduce_binary
    if build is not None and build is not _items and size == 1:
        return partial(_reduce_token, build)
    return partial(_reduce, size, build, kept, frozenset(spliced))


def _reduce_binary(values: list[Entry], max_depth: int) -> None:
    right = values.pop()
    operator = values.pop()
    left = values[-1]
    depth = left[5] if left[5] > right[5] else right[5]
    if depth >= max_depth:
        raise _DeclinedError
    start, end = left[3], right[4]
    node = BinaryOp(_OPERATORS[operator[0]], left[0], right[0], Span(start, end))
    values[-1] = (node, start, end, start, end, depth + 1)


def _reduce_token(build: Build, values: list[Entry], max_depth: int) -> None:
    token = values[-1]
    start, end = token[1], token[2]
    values[-1] = (build([token], Span(start, end)), start, end, start, end, 1)


def _reduce(
    size: int,
    build: Build | None,
    kept: tuple[int, ...],
    spliced: frozenset[int],
    values: list[Entry],
    max_depth: int,
) -> None:
    children = values[len(values) - size :]
    del values[len(values) - size :]
    first, last = children[0], children[-1]
    if build is None:  # `( expr )`: the child itself, inside its parentheses
        inner = children[kept[0]]
        values.append((inner[0], inner[1], inner[2], first[3], last[4], inner[5]))
        return
    if spliced:
        # A left-recursive list (`_items`) arrives as the list built so far, owned by the
        # entry being replaced: extend it in place, as lark does, rather than copy it per
        # element (quadratic: 10,000 list items took 5 s).
        first_kept = kept[0]
        items: list[Entry] = children[first_kept][0] if first_kept in spliced else []
        for i in kept:
            if i in spliced:
                if i != first_kept:
                    items += children[i][0]
            else:
                items.append(children[i])
    else:
        items = [children[i] for i in kept]
    # A spliced entry carries the depth of its items: O(kept), not O(items).
    depth = max([children[i][5] for i in kept], default=0)
    if build is _items:
        values.append((items, first[3], last[4], first[3], last[4], depth))
        return
    if depth >= max_depth:
        raise _DeclinedError
    span = Span(first[3], last[4])
    values.append((build(items, span), first[3], last[4], first[3], last[4], depth + 1))


# Reductions: each takes the kept entries and the node's span.


def _items(items: list[Entry], span: Span) -> Any:  # marker: handled in `_reduce`
    raise AssertionError("not called")


def _number(items: list[Entry], span: Span) -> Constant:
    text = items[0][0]
    if "." in text:
        return Constant(Decimal(text), span)
    try:
        return Constant(int(text), span)
    except ValueError:  # too many digits: lark's path reports it
        raise _DeclinedError from None


def _duration(items: list[Entry], span: Span) -> Constant:
    try:
        return Constant(Duration.parse(items[0][0]), span)
    except ValueError:
        raise _DeclinedError from None


_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\'": "'", "\\n": "\n", "\\t": "\t"}
_ESCAPE = re.compile(r"\\.")


def _string(items: list[Entry], span: Span) -> Constant:
    body = items[0][0][1:-1]
    if "\\" in body:
        body = _ESCAPE.sub(_unescape, body)
    return Constant(body, span)


def _unescape(found: re.Match[str]) -> str:
    try:
        return _ESCAPES[found.group()]
    except KeyError:  # an unknown escape: lark's path reports it
        raise _DeclinedError from None


def _true(items: list[Entry], span: Span) -> Constant:
    return Constant(True, span)


def _false(items: list[Entry], span: Span) -> Constant:
    return Constant(False, span)


def _null(items: list[Entry], span: Span) -> Constant:
    return Constant(None, span)


def _name(items: list[Entry], span: Span) -> Name:
    return Name(items[0][0], span)


def _field_access(items: list[Entry], span: Span) -> FieldAccess:
    target, name = items
    return FieldAccess(target[0], name[0], Span(name[1], name[2]), span)


def _index(items: list[Entry], span: Span) -> Index:
    return Index(items[0][0], items[1][0], span)


def _call(items: list[Entry], span: Span) -> Call:
    name = items[0]
    return Call(name[0], tuple(e[0] for e in items[1:]), Span(name[1], name[2]), span)


def _list_expr(items: list[Entry], span: Span) -> ListExpr:
    return ListExpr(tuple(e[0] for e in items), span)


_OPERATORS = {op.value: op for op in BinaryOperator}


def _binary_op(items: list[Entry], span: Span) -> BinaryOp:
    operator = items[1][0] if len(items) == 3 else " ".join(e[0] for e in items[1:-1])
    return BinaryOp(_OPERATORS[operator], items[0][0], items[-1][0], span)


def _not_op(items: list[Entry], span: Span) -> UnaryOp:
    return UnaryOp(UnaryOperator.NOT, items[1][0], span)


def _neg(items: list[Entry], span: Span) -> Expr:
    """As `build.AstBuilder.neg`: a minus folds into a non-negative number literal."""
    operand = items[1][0]
    if isinstance(operand, Constant):
        value = operand.value
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and value >= 0:
            # `copy_negate`: exact (`-value` rounds a Decimal to the thread's precision)
            return Constant(value.copy_negate() if isinstance(value, Decimal) else -value, span)
    return UnaryOp(UnaryOperator.NEG, operand, span)


def _conditional(items: list[Entry], span: Span) -> Conditional:
    return Conditional(items[0][0], items[1][0], items[2][0], span)


_BUILDERS: dict[str, Build | None] = {
    "": None,
    "_items": _items,
    "number": _number,
    "string": _string,
    "duration": _duration,
    "true": _true,
    "false": _false,
    "null": _null,
    "name": _name,
    "field_access": _field_access,
    "index": _index,
    "call": _call,
    "list_expr": _list_expr,
    "binary_op": _binary_op,
    "not_op": _not_op,
    "neg": _neg,
    "conditional": _conditional,
}

_RULES = tuple(
    (origin, size, _reducer(size, _BUILDERS[alias], kept, spliced))
    for origin, size, alias, kept, spliced in RULES
)
