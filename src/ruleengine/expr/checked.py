"""What the checker produces and what later phases ask of it: `CheckedExpr` (the root, its
type, and each node's type), and small questions about nodes (`path_of`, number literals,
the names a condition proves non-null).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Constant,
    Expr,
    FieldAccess,
    Index,
    Name,
    UnaryOp,
    UnaryOperator,
)
from ruleengine.expr.parser import ExpressionSource
from ruleengine.expr.type_rules import EQUALITY, is_number_literal
from ruleengine.expr.types import (
    Type,
)


class CheckedExpr(msgspec.Struct, frozen=True):
    """An expression that passed the checker. Only this can be compiled.

    `types` maps `id(node)` to the node's type; node identity is used rather than the nodes
    themselves because frozen structs hash their whole subtree.
    """

    root: Expr
    type: Type
    types: Mapping[int, Type]
    source: ExpressionSource

    def type_of(self, node: Expr) -> Type:
        return self.types[id(node)]


def path_of(node: Expr) -> str | None:
    """`customer.birthday` (or `order.items[0]`) for a field path, for narrowing; None for
    anything else."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, FieldAccess):
        base = path_of(node.target)
        return f"{base}.{node.name}" if base is not None else None
    if (
        isinstance(node, Index)
        and isinstance(node.index, Constant)
        and is_number_literal(node.index)
    ):
        base = path_of(node.target)
        return f"{base}[{node.index.value}]" if base is not None else None
    return None


def nonnull_facts(node: Expr, truth: bool) -> frozenset[str]:
    """Paths known not to be null when `node` evaluates to `truth`."""
    if isinstance(node, UnaryOp) and node.op is UnaryOperator.NOT:
        return nonnull_facts(node.operand, not truth)
    if isinstance(node, BinaryOp):
        if node.op in EQUALITY:
            null_side, other = (
                (node.right, node.left) if _is_null(node.right) else (node.left, node.right)
            )
            path = path_of(other)
            if (
                _is_null(null_side)
                and path is not None
                and ((node.op is BinaryOperator.NE) == truth)
            ):
                return frozenset({path})
        if node.op is BinaryOperator.AND and truth:
            return nonnull_facts(node.left, True) | nonnull_facts(node.right, True)
        if node.op is BinaryOperator.OR and not truth:
            return nonnull_facts(node.left, False) | nonnull_facts(node.right, False)
    return frozenset()


def forget(narrowed: frozenset[str], name: str) -> frozenset[str]:
    """`narrowed` without the facts about `name` and its fields and elements."""
    return frozenset(
        path for path in narrowed if path != name and not path.startswith((f"{name}.", f"{name}["))
    )


def _is_null(node: Expr) -> bool:
    return isinstance(node, Constant) and node.value is None
