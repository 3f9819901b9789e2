"""The size limits of one expression (RE307-RE309), checked before it is compiled: its length
before it is parsed, and its list and number literals after (docs/robustness.md). Rule files
and the Python API's `compile_expression` check the same limits."""

from __future__ import annotations

from decimal import Decimal

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.source import Span
from ruleengine.expr.ast import Constant, Expr, ListExpr, child_nodes
from ruleengine.expr.parser import ExpressionSource
from ruleengine.limits import Limits


def length_problem(src: ExpressionSource, limits: Limits) -> Diagnostic | None:
    """RE307 for an expression longer than `limits` allow (checked before parsing it)."""
    text = src.text
    if len(text) <= limits.max_expression_chars:
        return None
    return src.report(
        Span(0, len(text)),
        "RE307",
        f"the expression has {len(text):,} characters; at most "
        f"{limits.max_expression_chars:,} are allowed",
        hint="split the logic into several rules, or use `in [...]` for long lists",
    )


def expression_size_problems(expr: Expr, src: ExpressionSource, limits: Limits) -> list[Diagnostic]:
    """RE308/RE309 for list literals and number literals beyond `limits` (walked without
    recursion; the parser already bounds the depth)."""
    problems: list[Diagnostic] = []
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ListExpr) and len(node.items) > limits.max_list_items:
            problems.append(
                src.report(
                    node.span,
                    "RE308",
                    f"the list has {len(node.items):,} elements; at most "
                    f"{limits.max_list_items:,} are allowed",
                    hint="tag customers or products in the host and test the tag instead",
                )
            )
        if (
            isinstance(node, Constant)
            and isinstance(node.value, int | Decimal)
            and not isinstance(node.value, bool)
        ):
            digits = len(str(abs(node.value)).replace(".", "").lstrip("0"))
            if digits > limits.max_number_digits:
                problems.append(
                    src.report(
                        node.span,
                        "RE309",
                        f"the number has {digits} digits; at most "
                        f"{limits.max_number_digits} are allowed",
                        hint="use a realistic number",
                    )
                )
        stack.extend(child_nodes(node))
    return problems
