"""Conditions on their own: `compile_expression` for hosts that only want expressions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from ruleengine.diagnostics.diagnostic import Diagnostic, RuleSetError
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.checker import check_expression
from ruleengine.expr.coerce import coerce
from ruleengine.expr.conditions import ProgramSet
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.program import Env, Program, ProgramLike
from ruleengine.expr.program import compile_program as compile_checked
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.expr.scope import Scope
from ruleengine.expr.types import Type
from ruleengine.rules.vocabulary import earning_scope


@dataclass(frozen=True)
class Expression:
    """A checked, compiled expression. Immutable; `evaluate` may be called from any thread."""

    text: str
    checked: CheckedExpr
    scope: Scope
    _evaluate: ProgramLike

    @property
    def type(self) -> Type:
        return self.checked.type

    def evaluate(
        self, variables: Mapping[str, Any], *, now: datetime, timezone: str | tzinfo = "UTC"
    ) -> Any:
        """Evaluate with `variables` (JSON-like data for each root name the expression uses).

        Values are converted to their declared types first (decimal strings to `Decimal`,
        ISO timestamps to `datetime`); a value that does not fit raises `CoercionError` naming
        its JSON path, and a failure such as division by zero raises `RuleSetError` with a
        located diagnostic.
        """
        return self.bind(now=now, timezone=timezone)(self.convert(variables))

    def convert(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-like values -> the runtime values `bind`'s function takes (exact decimals,
        aware datetimes), checked against the scope's types; raises `CoercionError`."""
        return {
            name: coerce(variables[name], root_type, (name,))
            for name, root_type in self.scope.roots.items()
            if name in variables
        }

    def bind(
        self, *, now: datetime, timezone: str | tzinfo = "UTC"
    ) -> Callable[[dict[str, Any]], Any]:
        """A plain function of already converted variables, for evaluating many records at
        one moment (the fast path: no conversion or checks per call)."""
        zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        ctx = EvalContext(now, zone)
        evaluate = self._evaluate
        source = self.checked.source

        def located(error: EvaluationError) -> BaseException:
            return RuleSetError([source.report(error.span, error.code, error.message)])

        if isinstance(evaluate, Program):
            # The compiled function itself: no wrapper, no `Env` per call; the few nodes that
            # can fail raise the located `RuleSetError` directly.
            return evaluate.bind(ctx, located)

        def run(variables: dict[str, Any]) -> Any:
            try:
                return evaluate(Env(ctx, variables))
            except EvaluationError as error:
                raise RuleSetError([source.report(error.span, error.code, error.message)]) from None

        return run


def compile_expression(
    text: str, scope: Scope | None = None, *, name: str = "<string>"
) -> Expression:
    """Parse, check and compile one expression.

    `scope` says which names the expression can use; the default is what an `on: order`
    earning rule sees (`customer`, `stats`, `order`). Raises `RuleSetError` with every
    diagnostic when the expression does not parse or check.
    """
    names = scope if scope is not None else earning_scope("order", {}, {})
    src = ExpressionSource.standalone(text, name)
    expr, problems = parse_expression(src)
    diagnostics: list[Diagnostic] = list(problems)
    if expr is not None:
        checked, problems = check_expression(expr, names, src)
        diagnostics += problems
        if checked is not None and not diagnostics:
            return Expression(text, checked, names, compile_checked(checked))
    raise RuleSetError(diagnostics)


@dataclass(frozen=True)
class Conditions:
    """Conditions compiled to be evaluated together on the same variables (the rules that
    share a trigger). Immutable; the functions `bind` returns may be called from any thread."""

    expressions: tuple[Expression, ...]
    scope: Scope
    _program: ProgramSet

    def convert(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-like values -> runtime values, as `Expression.convert`."""
        return {
            name: coerce(variables[name], root_type, (name,))
            for name, root_type in self.scope.roots.items()
            if name in variables
        }

    def bind(
        self, *, now: datetime, timezone: str | tzinfo = "UTC"
    ) -> Callable[[dict[str, Any]], list[Any]]:
        """One function of converted variables that returns every condition's value, in the
        order given, in one call. It gives exactly what each condition's own `bind` gives, and
        raises the first failing condition's `RuleSetError`; it is faster because tiers (the
        same field against several thresholds, alone or behind the same filter) are decided
        together by one search. See `ruleengine.expr.conditions.ProgramSet.bind`."""
        zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        ctx = EvalContext(now, zone)

        def located(source: ExpressionSource) -> Callable[[EvaluationError], BaseException]:
            return lambda e: RuleSetError([source.report(e.span, e.code, e.message)])

        return self._program.bind(ctx, [located(e.checked.source) for e in self.expressions])

    def evaluate(
        self, variables: Mapping[str, Any], *, now: datetime, timezone: str | tzinfo = "UTC"
    ) -> list[Any]:
        """Convert `variables` and evaluate every condition (the convenient, slower path)."""
        return self.bind(now=now, timezone=timezone)(self.convert(variables))


def compile_conditions(
    texts: Sequence[str], scope: Scope | None = None, *, name: str = "<string>"
) -> Conditions:
    """Parse, check and compile conditions that are evaluated together, such as the `when`
    of every rule on one trigger. `scope` is as for `compile_expression`; the conditions are
    named `name[0]`, `name[1]`, ... in diagnostics. Raises `RuleSetError` with every
    diagnostic of every condition."""
    names = scope if scope is not None else earning_scope("order", {}, {})
    expressions: list[Expression] = []
    diagnostics: list[Diagnostic] = []
    for index, text in enumerate(texts):
        try:
            expressions.append(compile_expression(text, names, name=f"{name}[{index}]"))
        except RuleSetError as error:
            diagnostics += error.diagnostics
    if diagnostics:
        raise RuleSetError(diagnostics)
    program = ProgramSet(tuple(e.checked for e in expressions))
    return Conditions(tuple(expressions), names, program)
