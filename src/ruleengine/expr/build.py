"""Turning lark's parse tree into the AST of `ruleengine.expr.ast`.

The grammar does the structural work (precedence, associativity, which rules leave a node); this
module only decodes literals and attaches spans. Literal decoding can still fail (an unknown
escape in a string, an integer too long for Python to convert), so the builder collects
`Problem`s instead of raising, and `parser.py` turns them into diagnostics with file positions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import msgspec
from lark import Token, Transformer_NonRecursive, Tree, v_args
from lark.tree import Meta

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
from ruleengine.expr.values import Duration

ESCAPES: dict[str, str] = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
"""What each escape sequence stands for, keyed by the character after the backslash."""


class Problem(msgspec.Struct, frozen=True, gc=False):
    """A syntax problem found while building the AST, in expression-text offsets."""

    span: Span
    code: str
    message: str
    hint: str | None = None


def token_span(token: Token) -> Span:
    """The span of a token; tokens from lark's lexer always carry their positions."""
    assert token.start_pos is not None and token.end_pos is not None
    return Span(token.start_pos, token.end_pos)


def meta_span(meta: Meta) -> Span:
    """The span of a rule's match, including filtered tokens such as parentheses."""
    return Span(meta.start_pos, meta.end_pos)


def _expr(child: Any) -> Expr:
    assert not isinstance(child, Token | Tree), child
    return cast(Expr, child)


def _token(child: Any) -> Token:
    assert isinstance(child, Token), child
    return child


@v_args(meta=True)
class AstBuilder(Transformer_NonRecursive[Token, Expr]):
    """Builds AST nodes bottom-up; one builder per parse, since it collects that parse's problems.

    The non-recursive transformer is used so that building never depends on Python's recursion
    limit, whatever the depth of the tree.
    """

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.problems: list[Problem] = []

    # Literals

    def number(self, meta: Meta, children: list[Any]) -> Constant:
        token = _token(children[0])
        span = token_span(token)
        text = str(token)
        if "." in text:
            return Constant(Decimal(text), span)
        try:
            return Constant(int(text), span)
        except ValueError:  # beyond sys.get_int_max_str_digits()
            self.problems.append(
                Problem(span, "RE301", f"integer has too many digits ({len(text)})")
            )
            return Constant(0, span)

    def duration(self, meta: Meta, children: list[Any]) -> Constant:
        token = _token(children[0])
        span = token_span(token)
        try:
            return Constant(Duration.parse(str(token)), span)
        except ValueError:  # only for absurdly many digits: the lexer checked the form
            self.problems.append(
                Problem(span, "RE301", f"duration has too many digits ({len(token)})")
            )
            return Constant(Duration(), span)

    def string(self, meta: Meta, children: list[Any]) -> Constant:
        token = _token(children[0])
        span = token_span(token)
        return Constant(self._decode(str(token), span.start), span)

    def _decode(self, quoted: str, start: int) -> str:
        """The value of a quoted string; each unknown escape is reported and kept as written.

        The lexer guarantees a backslash is never the last character before the closing quote,
        so `body[i + 1]` always exists.
        """
        body = quoted[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            escaped = body[i + 1]
            if escaped in ESCAPES:
                out.append(ESCAPES[escaped])
            else:
                at = start + 1 + i
                shown = f"`\\{escaped}`" if escaped.isprintable() else f"U+{ord(escaped):04X}"
                self.problems.append(
                    Problem(
                        Span(at, at + 2),
                        "RE305",
                        f"invalid escape {shown} in string",
                        hint="the escapes are `\\\\`, `\\\"`, `\\'`, `\\n` and `\\t`; "
                        "write `\\\\` for a backslash",
                    )
                )
                out.append(ch + escaped)
            i += 2
        return "".join(out)

    def true(self, meta: Meta, children: list[Any]) -> Constant:
        return Constant(True, meta_span(meta))

    def false(self, meta: Meta, children: list[Any]) -> Constant:
        return Constant(False, meta_span(meta))

    def null(self, meta: Meta, children: list[Any]) -> Constant:
        return Constant(None, meta_span(meta))

    def list_expr(self, meta: Meta, children: list[Any]) -> ListExpr:
        return ListExpr(tuple(_expr(c) for c in children), meta_span(meta))

    # Names and postfix operators

    def name(self, meta: Meta, children: list[Any]) -> Name:
        token = _token(children[0])
        return Name(str(token), token_span(token))

    def field_access(self, meta: Meta, children: list[Any]) -> FieldAccess:
        target, token = children
        return FieldAccess(_expr(target), str(token), token_span(_token(token)), meta_span(meta))

    def index(self, meta: Meta, children: list[Any]) -> Index:
        target, index = children
        return Index(_expr(target), _expr(index), meta_span(meta))

    def call(self, meta: Meta, children: list[Any]) -> Call:
        token = _token(children[0])
        args = tuple(_expr(c) for c in children[1:])
        return Call(str(token), args, token_span(token), meta_span(meta))

    # Operators

    def binary_op(self, meta: Meta, children: list[Any]) -> BinaryOp:
        # The operator is one token, or two for `not in` (with any whitespace between them).
        op = BinaryOperator(" ".join(str(_token(t)) for t in children[1:-1]))
        return BinaryOp(op, _expr(children[0]), _expr(children[-1]), meta_span(meta))

    def not_op(self, meta: Meta, children: list[Any]) -> UnaryOp:
        return UnaryOp(UnaryOperator.NOT, _expr(children[1]), meta_span(meta))

    def neg(self, meta: Meta, children: list[Any]) -> Expr:
        """`-x`; a minus in front of a number literal becomes part of the literal.

        Folding makes `-5` a constant, as people read it, so later phases need no special case
        for negative literals. Only non-negative numbers fold: `- -5` stays a negation of the
        constant `-5`, which keeps `to_source` and parsing inverse to each other. `bool` is
        excluded because it is a subclass of `int`.
        """
        operand = _expr(children[1])
        span = meta_span(meta)
        if isinstance(operand, Constant):
            value = operand.value
            if isinstance(value, int | Decimal) and not isinstance(value, bool) and value >= 0:
                # `copy_negate`: exact (`-value` rounds a Decimal to the thread's precision)
                return Constant(value.copy_negate() if isinstance(value, Decimal) else -value, span)
        return UnaryOp(UnaryOperator.NEG, operand, span)

    def conditional(self, meta: Meta, children: list[Any]) -> Conditional:
        condition, then_branch, else_branch = children
        return Conditional(
            _expr(condition), _expr(then_branch), _expr(else_branch), meta_span(meta)
        )


class BuildResult(msgspec.Struct):
    expr: Expr
    problems: list[Problem] = msgspec.field(default_factory=list)


def build_ast(tree: Tree[Token]) -> BuildResult:
    """The AST for a parse tree, and the problems found in its literals."""
    builder = AstBuilder()
    expr = builder.transform(tree)
    return BuildResult(expr, builder.problems)
