"""Ruleset-wide checks that need the tiers and the compiled expressions together.

With a `tiers` section, `customer.tier` is a level id the engine computes. A rule that
compares it with a text no level has (`customer.tier == "golden"`) can never match, and a
typo there silently costs customers their tier rate, so it is reported (RE523, a warning:
the rule still runs) at the text, with the closest level id.
"""

from __future__ import annotations

from collections.abc import Iterable

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.expr.ast import BinaryOp, BinaryOperator, Constant, Expr, ListExpr, child_nodes
from ruleengine.expr.checked import CheckedExpr, path_of
from ruleengine.rules.models import Tiers

_COMPARISONS = (BinaryOperator.EQ, BinaryOperator.NE)
_MEMBERSHIP = (BinaryOperator.IN, BinaryOperator.NOT_IN)


def tier_literal_problems(tiers: Tiers, expressions: Iterable[CheckedExpr]) -> list[Diagnostic]:
    """RE523 for each text compared with `customer.tier` that is not a level id."""
    levels = [level.id for level in tiers.levels]
    found = []
    for checked in expressions:
        source = checked.source
        if "tier" not in source.text:
            continue
        for constant in _tier_texts(checked.root):
            text = constant.value
            if not isinstance(text, str) or text in levels:
                continue
            import difflib  # only for a problem's hint: not loaded on the valid path

            close = difflib.get_close_matches(text, levels, n=1)
            names = ", ".join(f"`{level}`" for level in levels)
            hint = f"did you mean `{close[0]}`?" if close else f"the levels are {names}"
            found.append(
                source.report(
                    constant.span,
                    "RE523",
                    f'`customer.tier` is never "{text}": the tier levels are {names}',
                    hint=hint,
                )
            )
    return found


def _tier_texts(root: Expr) -> Iterable[Constant]:
    """The constants compared with `customer.tier` (`==`, `!=`, `in` and `not in` a list)."""
    stack: list[Expr] = [root]
    while stack:
        node = stack.pop()
        stack.extend(child_nodes(node))
        if not isinstance(node, BinaryOp):
            continue
        if node.op in _COMPARISONS:
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if path_of(side) == "customer.tier" and isinstance(other, Constant):
                    yield other
        elif (
            node.op in _MEMBERSHIP
            and path_of(node.left) == "customer.tier"
            and isinstance(node.right, ListExpr)
        ):
            yield from (item for item in node.right.items if isinstance(item, Constant))
