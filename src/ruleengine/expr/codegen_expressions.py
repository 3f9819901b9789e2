"""Generated code for expression nodes: the Python expression (and statements) of each checked node.

`ExpressionWriter` writes one checked expression at a time, by the *node kind and static type*
of each node, never by its text: operators from fixed tables (`==`, `<`, `+`, ...), decimal
arithmetic through the helpers `_add`, `_sub`, `_mul`, `_div`, `_rem` (the one `ARITHMETIC`
context), `floor`/`ceil`/`len`, `now()`/`today()` folded from the context. Constants are
`repr()` when exactly `str`, `int`, `bool` or `None`, else numbered namespace constants
(`SourceWriter.constant`); paths are loaded through `codegen_reads.SourceWriter`, which it
extends. The right side of `and`/`or` and the branches of `if` that read something new become
statements under an `if`, so their paths are read only when evaluation reaches them. A node it
does not write out raises `UnsupportedError` and `codegen.generate` returns None (the closures
run).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

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
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.closures import _container, _is_decimal
from ruleengine.expr.codegen_reads import NUMBERED_LOCAL, SourceWriter, UnsupportedError
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
from ruleengine.expr.runtime import EvalContext
from ruleengine.expr.types import (
    BoolType,
    DateTimeType,
    DateType,
    DecimalType,
    IntType,
    MoneyType,
    NeverType,
    NullType,
    OptionalType,
    StrType,
    Type,
)

_SYMBOLS = {
    BinaryOperator.EQ: "==",
    BinaryOperator.NE: "!=",
    BinaryOperator.LT: "<",
    BinaryOperator.LE: "<=",
    BinaryOperator.GT: ">",
    BinaryOperator.GE: ">=",
}
_DECIMAL_HELPERS = {
    BinaryOperator.ADD: "_add",
    BinaryOperator.SUB: "_sub",
    BinaryOperator.MUL: "_mul",
    BinaryOperator.DIV: "_div",
    BinaryOperator.MOD: "_rem",
}
_INT_SYMBOLS = {BinaryOperator.ADD: "+", BinaryOperator.SUB: "-", BinaryOperator.MUL: "*"}


class ExpressionWriter(SourceWriter):
    """Python source for checked expressions over one scope: the loads (each path once, in
    order of first use) and one Python expression per checked expression."""

    def __init__(self, roots: Mapping[str, Type], ctx: EvalContext | None) -> None:
        super().__init__(roots)
        self.ctx = ctx
        self.checked: CheckedExpr | None = None
        self.results: set[str] = set()  # locals holding an `and`/`or`/`if` value

    def block(self, node: Expr) -> tuple[list[str], str]:
        """The statements and the value of `node` on a branch that may not run: loaded
        there, a path is not loaded after it (its loads are forgotten when the block ends)."""
        lines, loaded, indent = self.lines, dict(self.loaded), self.indent
        self.lines, self.indent = [], indent + "    "
        try:
            value = self.expr(node)
            return self.lines, value
        finally:
            self.lines, self.loaded, self.indent = lines, loaded, indent

    def short_circuit(self, left: str, right: Expr, run_on: str) -> str:
        """`left and right` (`run_on` "") or `left or right` (`run_on` "not "): inline when
        `right` reads nothing new, else as statements, so that `right`'s paths are read (and
        checked) only when it runs."""
        lines, value = self.block(right)
        if not lines:
            return f"({left} {'and' if not run_on else 'or'} {value})"
        if left in self.results:
            result = left  # the value of an `and`/`or` before it, used nowhere else
        else:
            result = self.local("v")
            self.results.add(result)
            self.emit(f"{result} = {left}")
        self.emit(f"if {run_on}{result}:")
        self.lines += lines
        self.emit(f"    {result} = {value}")
        return result

    def conditional(self, condition: str, then: Expr, other: Expr) -> str:
        """`if condition then a else b`: each branch's paths read only when it runs."""
        then_lines, then_value = self.block(then)
        other_lines, other_value = self.block(other)
        if not then_lines and not other_lines:
            return f"({then_value} if {condition} else {other_value})"
        result = self.local("v")
        self.results.add(result)
        self.emit(f"if {condition}:")
        self.lines += then_lines
        self.emit(f"    {result} = {then_value}")
        self.emit("else:")
        self.lines += other_lines
        self.emit(f"    {result} = {other_value}")
        return result

    # -- expressions -----------------------------------------------------------------------------

    def write(self, checked: CheckedExpr, *, alone: bool = False) -> str:
        """The Python expression for `checked`; `alone` (the function's only value), a root
        chain of `and` (or of `or`) returns as soon as an operand decides, as a hand-written
        `return a and b` does, so the operands after it are written straight, not in blocks."""
        self.checked = checked
        node = checked.root
        if not alone or not isinstance(node, BinaryOp):
            return self.expr(node)
        op = node.op
        if op is not BinaryOperator.AND and op is not BinaryOperator.OR:
            return self.expr(node)
        operands: list[Expr] = []
        while isinstance(node, BinaryOp) and node.op is op:
            operands.insert(0, node.right)
            node = node.left
        operands.insert(0, node)
        decided = "not " if op is BinaryOperator.AND else ""
        for operand in operands[:-1]:
            value = self.expr(operand)
            if isinstance(self.type_of(operand), BoolType):  # never null: the value is known
                self.emit(f"if {decided}{value}: return {'False' if decided else 'True'}")
                continue
            if not NUMBERED_LOCAL.fullmatch(value):
                local = self.local("v")
                self.emit(f"{local} = {value}")
                value = local
            self.emit(f"if {decided}{value}: return {value}")
        return self.expr(operands[-1])

    def type_of(self, node: Expr) -> Type:
        assert self.checked is not None
        return self.checked.type_of(node)

    def expr(self, node: Expr) -> str:  # one branch per node kind
        match node:
            case Constant(value=value):
                if type(value) is int and _is_decimal(self.type_of(node)):
                    return self.constant(Decimal(value))
                return self.constant(value)
            case Name() | FieldAccess():
                path = _path(node)
                if path is None:
                    raise UnsupportedError
                return self.load(path)
            case UnaryOp(op=op, operand=operand):
                if op is UnaryOperator.NOT:
                    return f"(not {self.expr(operand)})"
                kind = self.type_of(operand)
                if isinstance(kind, IntType):
                    return f"(-{self.expr(operand)})"
                if not isinstance(kind, DecimalType | MoneyType):
                    raise UnsupportedError
                return f"_neg({self.expr(operand)})"  # exact, whatever the thread's context
            case BinaryOp():
                return self.binary(node)
            case Call():
                return self.call(node)
            case Conditional(condition=condition, then_branch=then, else_branch=other):
                if _is_decimal(self.type_of(node)) and any(
                    isinstance(self.type_of(branch), IntType) for branch in (then, other)
                ):
                    raise UnsupportedError  # a whole number that joined decimals: closures convert
                return self.conditional(self.expr(condition), then, other)
            case Index() | ListExpr():
                raise UnsupportedError
            case _:
                raise UnsupportedError

    def operand(self, node: Expr, other: Expr) -> str:
        """An operand; a whole-number literal beside money or decimals as a `Decimal`."""
        if (
            isinstance(node, Constant)
            and type(node.value) is int
            and _is_decimal(self.type_of(other))
        ):
            return self.constant(Decimal(node.value))
        return self.expr(node)

    def binary(self, node: BinaryOp) -> str:  # noqa: C901  # one branch per operator kind
        op, left, right = node.op, node.left, node.right
        if op is BinaryOperator.AND or op is BinaryOperator.OR:
            return self.short_circuit(
                self.expr(left), right, "" if op is BinaryOperator.AND else "not "
            )
        if op is BinaryOperator.IN or op is BinaryOperator.NOT_IN:
            needle = self.expr(left)
            if isinstance(right, ListExpr):
                if not all(isinstance(item, Constant) for item in right.items):
                    raise UnsupportedError
                values = [item.value for item in right.items if isinstance(item, Constant)]
                if _is_decimal(self.type_of(right)):
                    values = [Decimal(v) if type(v) is int else v for v in values]
                haystack = self.constant(_container(values, self.type_of(left)))
            else:
                haystack = self.expr(right)
            return f"({needle} {op.value} {haystack})"
        left_type, right_type = self.type_of(left), self.type_of(right)
        if op in _SYMBOLS:
            days = (DateType, DateTimeType)
            inner_left = left_type.inner if isinstance(left_type, OptionalType) else left_type
            inner_right = right_type.inner if isinstance(right_type, OptionalType) else right_type
            if isinstance(inner_left, days) and isinstance(inner_right, days):
                if type(inner_left) is not type(inner_right):
                    raise UnsupportedError  # a timestamp against a day: by day in the zone
            elif not all(
                isinstance(t, StrType | IntType | BoolType | DecimalType | MoneyType) or t is None
                for t in (_scalar(left_type), _scalar(right_type))
            ):
                raise UnsupportedError
            a, b = self.operand(left, right), self.operand(right, left)
            return f"({a} {_SYMBOLS[op]} {b})"
        if isinstance(left_type, IntType) and isinstance(right_type, IntType):
            if op in _INT_SYMBOLS:
                return f"({self.expr(left)} {_INT_SYMBOLS[op]} {self.expr(right)})"
            if op is BinaryOperator.DIV:
                return f"_div(_D({self.expr(left)}), {self._decimal_operand(right)})"
            raise UnsupportedError
        if isinstance(left_type, StrType) and op is BinaryOperator.ADD:
            return f"({self.expr(left)} + {self.expr(right)})"
        numbers = (IntType, DecimalType, MoneyType)
        if isinstance(left_type, numbers) and isinstance(right_type, numbers):
            helper = _DECIMAL_HELPERS[op]
            return f"{helper}({self.operand(left, right)}, {self.operand(right, left)})"
        raise UnsupportedError

    def _decimal_operand(self, node: Expr) -> str:
        if isinstance(node, Constant) and type(node.value) is int:
            return self.constant(Decimal(node.value))  # `int / 2`: converted once
        return f"_D({self.expr(node)})"

    def call(self, node: Call) -> str:
        name, args = node.name, node.args
        if name in ("now", "today"):
            if self.ctx is None:
                raise UnsupportedError
            return self.constant(self.ctx.now if name == "now" else self.ctx.today)
        if name == "date" and len(args) == 1 and isinstance(args[0], Constant):
            implement = FUNCTIONS[name].implement
            assert implement is not None
            return self.constant(implement(None, args[0].value))
        if len(args) != 1:
            raise UnsupportedError
        helper = {"floor": "_floor", "ceil": "_ceil", "len": "len"}.get(name)
        if helper is None:
            raise UnsupportedError
        return f"{helper}({self.expr(args[0])})"


def _scalar(t: Type) -> Type | None:
    inner = t.inner if isinstance(t, OptionalType) else t
    return None if isinstance(inner, NullType | NeverType) else inner


def _path(node: Expr) -> tuple[str, ...] | None:
    if isinstance(node, Name):
        return None if node.name == BOUND_NAME else (node.name,)
    if isinstance(node, FieldAccess):
        base = _path(node.target)
        return None if base is None else (*base, node.name)
    return None
