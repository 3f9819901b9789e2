"""Condition sets: `compile_conditions` compiles conditions that are evaluated together (the
rules that share a trigger) into one function returning all their values: tiers
(`order.subtotal >= K` for several K, alone or behind one shared filter) are decided by one
binary search instead of one closure per rule. Measured in `docs/performance.md`.

Only `ruleengine.api.compile_conditions` uses it; the engine evaluates rule by rule.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

import msgspec

from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Expr,
)
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.closures import _EQ, _GE, _GT, _LT, _NE, Atom, Fail, Fn, same_error
from ruleengine.expr.compiler import Compiler
from ruleengine.expr.functions import BOUND_NAME
from ruleengine.expr.printer import to_sexpr
from ruleengine.expr.runtime import EvalContext


class ProgramSet(msgspec.Struct, frozen=True):
    """Several checked conditions evaluated together (see `compile_conditions`)."""

    checked: tuple[CheckedExpr, ...]

    def bind(
        self, ctx: EvalContext, fails: Sequence[Fail] | None = None
    ) -> Callable[[dict[str, Any]], list[Any]]:
        """One function of the variables that returns every condition's value, in order;
        `fails[i]` makes the exception condition `i` raises (each has its own source text).

        Rule sets are full of tiers: `order.subtotal >= 50`, `>= 100`, `>= 200`, often
        behind one shared filter (`customer.region == "EU" and order.subtotal >= K`). Such
        conditions, a threshold on one field alone or with the same filter, are decided
        together: the filter once, the field once, and one binary search over the sorted
        thresholds gives every answer (for `==`/`!=` against several constants, one dict
        lookup does). The other conditions run one closure each. If a
        shared evaluation fails, the call is redone condition by condition, so the values,
        and the error raised (the first failing condition's), are exactly those of
        evaluating each condition on its own.
        """
        makers = list(fails) if fails is not None else [same_error] * len(self.checked)
        compilers = [Compiler(c, ctx, f) for c, f in zip(self.checked, makers, strict=True)]
        return _evaluate_all(compilers)


_MIN_TIERS = 3  # below this, one closure per condition is as fast as a search
_Tier = tuple[Any, tuple[str, ...], BinaryOperator]  # (filter's key, field path, operator)


def _tier(compiler: Compiler, node: Expr) -> tuple[_Tier, Fn | None, Any] | None:
    """`field OP k`, or `filter and/or field OP k` (either order): the group key, the
    filter's function and the threshold; None for any other condition."""
    code = compiler.compile(node)
    if _is_threshold(code.atom):
        assert code.atom is not None
        return (None, code.atom.path, code.atom.op or _GE), None, code.atom.constant
    if not (isinstance(node, BinaryOp) and node.op in (BinaryOperator.AND, BinaryOperator.OR)):
        return None
    for test, other in ((node.right, node.left), (node.left, node.right)):
        atom = compiler.compile(test).atom
        condition = compiler.compile(other)
        if _is_threshold(atom) and not condition.constant:
            assert atom is not None
            # The filter's tree, not its text: texts that differ only in spacing share a
            # filter, and `"gift  wrap"` is not `"gift wrap"` (the spacing inside a string
            # literal is its value).
            key = (node.op, to_sexpr(other))
            return (key, atom.path, atom.op or _GE), condition.fn, atom.constant
    return None


def _is_threshold(atom: Atom | None) -> bool:
    """A comparison of a field with a constant (ordering, or `==`/`!=`)."""
    return atom is not None and atom.kind == "cmp" and atom.path[0] != BOUND_NAME


def _evaluate_all(compilers: list[Compiler]) -> Callable[[dict[str, Any]], list[Any]]:
    exact = [compiler.compile_root() for compiler in compilers]
    tiers: dict[_Tier, list[tuple[int, Fn | None, Any]]] = {}
    for index, compiler in enumerate(compilers):
        shape = _tier(compiler, compiler.checked.root)
        if shape is not None:
            key, condition, threshold = shape
            tiers.setdefault(key, []).append((index, condition, threshold))
    order: list[int] = []
    steps: list[Callable[[dict[str, Any]], list[bool]]] = []
    grouped: set[int] = set()
    for (prefix, path, op), members in tiers.items():
        constants = [threshold for _, _, threshold in members]
        if len(members) < _MIN_TIERS:
            continue
        search: Callable[[dict[str, Any]], list[bool]]
        if op in (_EQ, _NE):
            if not _hashable(constants):
                continue
            ranked = list(range(len(members)))
            search = _equality_step(path, op, constants)
        else:
            if not _sortable(constants):
                continue
            ranked = sorted(range(len(members)), key=lambda j: constants[j])
            search = _threshold_step(path, op, [constants[j] for j in ranked])
        condition = members[0][1]
        if prefix is None or condition is None:
            steps.append(search)
        else:
            steps.append(_filtered(condition, prefix[0] is BinaryOperator.OR, search, len(members)))
        order += [members[j][0] for j in ranked]
        grouped.update(index for index, _, _ in members)
    if not steps:
        return lambda v: [function(v) for function in exact]
    functions = [function for i, function in enumerate(exact) if i not in grouped]
    order = [i for i in range(len(exact)) if i not in grouped] + order
    position = [0] * len(exact)  # condition `i`'s value is computed at `position[i]`
    for computed, index in enumerate(order):
        position[index] = computed
    arrange = itemgetter(*position)

    def evaluate(v: dict[str, Any]) -> list[Any]:
        try:
            values = [function(v) for function in functions]
            for step in steps:
                values += step(v)
        except Exception:  # one by one: the same values or the same error
            return [function(v) for function in exact]
        return list(arrange(values))

    return evaluate


def _filtered(
    condition: Fn, deciding: bool, search: Callable[[dict[str, Any]], list[bool]], size: int
) -> Callable[[dict[str, Any]], list[bool]]:
    """`filter and tier` for every tier: all false when the filter is (all true for `or`
    when it holds), else the search's answers."""
    decided = [deciding] * size
    if deciding:
        return lambda v: decided if condition(v) else search(v)
    return lambda v: search(v) if condition(v) else decided


def _threshold_step(
    path: tuple[str, ...], op: BinaryOperator, thresholds: list[Any]
) -> Callable[[dict[str, Any]], list[bool]]:
    """Every `field OP k` of one ordering operator at once: with the thresholds sorted,
    `bisect(thresholds, x) = i` says the first i are below x, so their tests hold for
    `>=`/`>` (k <= x, k < x) and fail for `<=`/`<`, and the others the other way round."""
    m = len(thresholds)
    first = op in (_GE, _GT)
    patterns = [[first] * i + [not first] * (m - i) for i in range(m + 1)]
    search = bisect.bisect_right if op in (_GE, _LT) else bisect.bisect_left
    root = path[0]
    if len(path) == 1:
        return lambda v: patterns[search(thresholds, v[root])]
    name = path[1]
    return lambda v: patterns[search(thresholds, v[root].get(name))]


def _equality_step(
    path: tuple[str, ...], op: BinaryOperator, constants: list[Any]
) -> Callable[[dict[str, Any]], list[bool]]:
    """Every `field == k` (or `!=`) of one field at once: one dict lookup of the value gives
    the answers (a hash agrees with `==` for text, numbers, days, booleans and null)."""
    equal = op is _EQ
    nothing = [not equal] * len(constants)
    answers: dict[Any, list[bool]] = {}
    for k in constants:
        answers[k] = [(c == k) is equal for c in constants]
    root = path[0]
    if len(path) == 1:
        return lambda v: answers.get(v[root], nothing)
    name = path[1]
    return lambda v: answers.get(v[root].get(name), nothing)


def _hashable(constants: list[Any]) -> bool:
    """Constants whose hash agrees with `==` across the language's values."""
    return all(type(c) in (str, int, bool, Decimal, date) or c is None for c in constants)


def _sortable(constants: list[Any]) -> bool:
    """Constants with one total order consistent with `<` (numbers, or text, or days)."""
    kinds = {"number" if type(c) in (int, Decimal) else type(c).__name__ for c in constants}
    return len(kinds) == 1 and kinds <= {"number", "str", "date"}


def compile_conditions(checked: Sequence[CheckedExpr]) -> ProgramSet:
    """Compile conditions that are evaluated together on the same variables."""
    return ProgramSet(tuple(checked))
