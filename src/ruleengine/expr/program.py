"""Programs: a checked expression compiled once, then bound to contexts and run.

`Program` is the one internal name for a compiled expression. `compile_program(checked)`
makes one (only a `CheckedExpr` compiles: the type system is the gate between checking and
compiling); `Program.bind(ctx)` gives a `BoundProgram`, a plain function of the variables.
The public API wraps a `Program`: `ruleengine.CompiledExpression` (a rule file's expression,
with its path) and `ruleengine.api.Expression` (an expression a host compiled from text, with
its scope and JSON conversion). See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Call,
    Constant,
    Expr,
    Name,
    child_nodes,
)
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.closures import _DECIMAL_OPERATIONS, Fail, Fn, same_error
from ruleengine.expr.compiler import Compiler
from ruleengine.expr.compiler_base import CONTEXT, DYNAMIC, NeedsContextError
from ruleengine.expr.functions import FUNCTIONS
from ruleengine.expr.runtime import EvalContext
from ruleengine.expr.types import (
    DurationType,
    IntType,
    StrType,
)


class Env(msgspec.Struct):
    """The values an evaluation sees: root records and bound variables, and the context."""

    ctx: EvalContext
    variables: dict[str, Any]

    def bind(self, name: str, value: Any) -> Env:
        return Env(self.ctx, {**self.variables, name: value})


ProgramLike = Callable[[Env], Any]
"""What callers hold: a `Program` (called with an `Env`), or any wrapper with the same call
shape (the rule test runner records conditions that way). Not a second kind of compiled
expression: the helpers below see through to the `Program` when there is one."""

BoundProgram = Fn
"""A program bound to a context: a function of the variables alone (the fast path)."""


def compile_program(checked: CheckedExpr) -> Program:
    """Compile a checked expression into a `Program`: call it with an `Env`, or bind it to a
    context for the fast path (`Program.bind`)."""
    return Program(checked)


def bind(program: ProgramLike, ctx: EvalContext) -> BoundProgram:
    """The fast function of `program` at `ctx`: `Program.bind` for a compiled program, a
    small adapter for any other `ProgramLike` (so wrapped programs keep working)."""
    if isinstance(program, Program):
        return program.bind(ctx)
    return lambda variables: program(Env(ctx, variables))


def context_free(program: ProgramLike) -> BoundProgram | None:
    """The function of a compiled program that never reads the context: the same at every
    binding, so it can be bound once for good. None for a program that reads the context
    (`now()`, `today()`, ...) and for any other `ProgramLike` (a wrapper the engine cannot see
    into): those are bound to each context they run in."""
    if isinstance(program, Program) and not program.contextual:
        return program.bind(_NO_CONTEXT)
    return None


def roots_of(program: ProgramLike) -> frozenset[str] | None:
    """The root names a compiled program reads (`{"order", "customer"}`), so a caller can
    leave out values nobody reads (the engine's `stats`); None when unknown (a wrapper)."""
    return program.roots if isinstance(program, Program) else None


_NO_CONTEXT: Any = None  # what `context_free` binds with: a program that reads none ignores it


class Program:
    """A compiled expression, immutable and safe to share between threads.

    Most expressions never read the context (`now()`, `today()`, `days_since`, a timestamp
    against a day, calendar shifts); they are compiled once, here, and every binding returns
    the same function. One that does is compiled in two forms: `bind(ctx, fail)` (a host's
    fast path, `Expression.bind`) compiles it with the context's values folded in, the fastest
    per call; `bind(ctx)` (the engine, which binds per activity moment) returns the dynamic form,
    compiled once here, which reads the context from the call, so binding costs nothing.
    """

    __slots__ = ("_dynamic", "_free", "checked", "contextual", "may_fail", "roots")

    def __init__(self, checked: CheckedExpr) -> None:
        self.checked = checked
        self.may_fail, self.roots = facts(checked.root, checked)
        self._dynamic: Fn | None = None
        try:
            self._free: Fn | None = Compiler(checked, None, same_error).compile_root()
        except NeedsContextError:
            self._free = None
            self._dynamic = Compiler(checked, DYNAMIC, same_error).compile_root()
        self.contextual = self._free is None

    def __call__(self, env: Env) -> Any:
        return self.bind(env.ctx)(env.variables)

    def run_on_view(self, ctx: EvalContext, view: dict[str, Any]) -> Any:
        """Evaluate at `ctx` on `view`, a mapping made for this one call (a reader's view that
        converts each value when evaluation reaches it): the context goes into it, not into a
        copy as `bind`'s dynamic form does, since copying a view converts every root, so a
        malformed root on a branch not taken would be reported (as `bind(convert=True)`,
        with the context folded in, does not)."""
        if self._free is not None:
            return self._free(view)
        dynamic = self._dynamic
        assert dynamic is not None
        view[CONTEXT] = ctx
        return dynamic(view)

    def bind(self, ctx: EvalContext, fail: Fail | None = None) -> BoundProgram:
        """A function of the variables, evaluated at `ctx`. It raises `EvaluationError`, or
        what `fail` makes of one. With `fail`, a program that reads the context is compiled
        for `ctx` (folded constants: meant to be bound once and called many times); without,
        binding is free."""
        if fail is not None and (self.may_fail or self.contextual):
            return Compiler(self.checked, ctx, fail).compile_root()
        if self._free is not None:
            return self._free
        dynamic = self._dynamic
        assert dynamic is not None
        return lambda variables: dynamic({**variables, CONTEXT: ctx})


def can_fail(node: Expr, checked: CheckedExpr) -> bool:
    """Whether evaluating `node` can raise an `EvaluationError` (division, decimal arithmetic,
    functions of several arguments); only then does a binding's `fail` matter."""
    return facts(node, checked)[0]


def names_in(node: Expr, checked: CheckedExpr) -> frozenset[str]:
    """Every name an expression mentions (roots, and `item` inside quantifiers)."""
    return facts(node, checked)[1]


def facts(node: Expr, checked: CheckedExpr) -> tuple[bool, frozenset[str]]:
    """`can_fail` and `names_in` in one walk of the tree (compiling pays for one, not two)."""
    names: set[str] = set()
    fails = False
    stack: list[Expr] = [node]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is Name:
            assert isinstance(item, Name)
            names.add(item.name)
        elif kind is BinaryOp:
            assert isinstance(item, BinaryOp)
            op = item.op
            if (
                not fails
                and op in _DECIMAL_OPERATIONS
                and not (
                    op in _EXACT_OPERATIONS
                    and isinstance(checked.type_of(item.left), _EXACT_TYPES)
                    and isinstance(checked.type_of(item.right), _EXACT_TYPES)
                )
            ):
                fails = True
            stack += (item.left, item.right)
        elif kind is Call:
            assert isinstance(item, Call)
            if len(item.args) > 1 and not FUNCTIONS[item.name].binds_item:
                fails = True
            stack += item.args
        elif kind is not Constant:
            stack += child_nodes(item)
    return fails, frozenset(names)


_EXACT_OPERATIONS = (BinaryOperator.ADD, BinaryOperator.SUB, BinaryOperator.MUL)
_EXACT_TYPES = (IntType, StrType, DurationType)  # a tuple: `isinstance` on it is the fastest
