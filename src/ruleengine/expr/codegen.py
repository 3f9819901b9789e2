"""Generated code for the host's path: one Python function per expression (or condition set)
that reads the values it needs straight from the host's data, converts them, and computes
the result in one frame, as a hand-written function would.

Closures (`compiler`) pay a Python call per node; on a two-field condition that is most of the
time. This module writes the checked expression out as Python source and compiles it once, the
way Jinja2 compiles templates. It covers the shapes conditions take (field loads, comparisons,
`and`/`or`/`not`, `in` a constant list or a list field, arithmetic on whole numbers and exact
decimals, `floor`/`ceil`/`len`, `if`, `now()`/`today()` once bound); anything else (a
quantifier, an index, dates against timestamps, durations) makes `generate` return None and
the closures run, as before.

**Nothing the host's rule text says can become code.** The source is assembled only from:

* a fixed template and a fixed vocabulary of operators (`and or not == != < <= > >= in + -`)
  and helper names (`_HELPERS`), chosen by the *node kind and static type* of the checked
  AST, never by the text of a node;
* local names the generator numbers itself (`_r0`, `_v1`, `_k2`);
* `repr()` of checked constants whose type is exactly `str`, `int` or `bool` (or `None`), and
  of field and root names (strings): `repr` of a `str` is always one string literal token,
  whatever it holds (quotes, backslashes, newlines), and of an `int` one number token. Every
  other constant (`Decimal`, durations, days, the frozen sets of `in`) is passed in the
  function's namespace under a numbered name, never as text.

`tests/property/test_codegen.py` checks this on corpus and fuzzed expressions.

**Reading on the path taken.** A path is read, checked and converted where evaluation first
reaches it: the right side of `and`/`or` and the branches of `if` are statements under an
`if`; a path loaded on a branch is loaded again elsewhere behind `if local is _UNREAD:`, into
the same local (once per call). A malformed value where evaluation does not go is never read.

**Declining.** Values are checked by class (`v.__class__ is str`: the class `isinstance`, and
so `coerce`, believes; amounts from `int`, `str`, `float` or finite `Decimal`, within
`AMOUNT_DIGITS`). The host's variables and records are read only when they are a `dict`
exactly: a subclass or another mapping may supply a default for a missing key (`defaultdict`
inserts it into the host's data), so it goes to the slow path. Anything unexpected (a missing
field, a wrong type, division by zero) raises inside the function, and the slow path
(`reader.view_reader` and the closures, reading the same way) runs on the same data: the value,
or the error of the first bad value on the path taken. Expressions are pure: evaluating twice
changes only time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

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
from ruleengine.expr.coerce import coerce
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
from ruleengine.expr.runtime import ARITHMETIC, DIVISION, EvalContext
from ruleengine.expr.types import (
    BoolType,
    DateTimeType,
    DateType,
    DecimalType,
    IntType,
    ListType,
    MoneyType,
    NeverType,
    NullType,
    OptionalType,
    RecordType,
    StrType,
    Type,
)
from ruleengine.limits import AMOUNT_DIGITS, is_bounded_decimal


class _UnsupportedError(Exception):
    """A node the generator does not write out: the closures run instead."""


class _DeclineError(Exception):
    """A host value the fast path does not convert: the slow path decides."""


def _amount(value: Any) -> Decimal:
    """An amount that is not a `str`, `int` or `Decimal`: floats as `coerce` reads them."""
    if type(value) is float:
        number = Decimal(repr(value))
        # A float's shortest text has at most 17 digits, so its exponent is at least
        # `adjusted() - 16`: inside these bounds it has at most AMOUNT_DIGITS on either side.
        if number.is_finite() and (
            _FLOAT_LOW <= number.adjusted() < AMOUNT_DIGITS or is_bounded_decimal(number)
        ):
            return number
    raise _DeclineError


_FLOAT_LOW = 16 - AMOUNT_DIGITS


def _field(record: Mapping[str, Any], name: str, t: Type, path: tuple[str, ...]) -> Any:
    """A field of another type, converted by `coerce` (as `coerce_record` would)."""
    if name not in record:
        if isinstance(t, OptionalType):
            return None
        if isinstance(t, ListType):
            return []
        raise _DeclineError
    return coerce(record[name], t, path)


_NO_LIST: Any = object()
NUMBERED_LOCAL = re.compile(r"_[rvk][0-9]+")
"""The generator's own names: locals `_r1`, `_v2` and constants `_k0`."""
_UNREAD: Any = object()  # a path's local before evaluation has reached the path

_HELPERS: dict[str, Any] = {
    "_D": Decimal,
    "_Decimal": Decimal,
    "_str": str,
    "_int": int,
    "_bool": bool,
    "_dict": dict,
    "_list": list,
    "_DeclineError": _DeclineError,
    "_amount": _amount,
    "_bounded": is_bounded_decimal,
    "_BOUND": 10**AMOUNT_DIGITS,
    "_join": "".join,
    "_field": _field,
    "_NO_LIST": _NO_LIST,
    "_UNREAD": _UNREAD,
    "_floor": math.floor,
    "_ceil": math.ceil,
    "_add": ARITHMETIC.add,
    "_sub": ARITHMETIC.subtract,
    "_mul": ARITHMETIC.multiply,
    "_div": DIVISION.divide,
    "_neg": Decimal.copy_negate,
    "_rem": ARITHMETIC.remainder,
}

VOCABULARY = frozenset(
    {
        *_HELPERS,
        "def",
        "data",
        "try",
        "except",
        "Exception",
        "return",
        "if",
        "elif",
        "else",
        "is",
        "not",
        "and",
        "or",
        "in",
        "None",
        "True",
        "False",
        "raise",
        "type",
        "str",
        "int",
        "bool",
        "len",
        "get",
        "is_finite",
        "adjusted",
        "__class__",
        "list",
        "dict",
        "_evaluate",
        "_slow",
        "_coerce",
    }
)
"""Every identifier generated source may contain, besides its numbered locals and constants
(`_r0`, `_v1`, `_k2`); checked by the tests."""

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


class _Writer:
    """Python source for checked expressions over one scope: the loads (each path once, in
    order of first use) and one Python expression per checked expression."""

    def __init__(self, roots: Mapping[str, Type], ctx: EvalContext | None) -> None:
        self.roots = roots
        self.ctx = ctx
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self.loaded: dict[tuple[str, ...], str] = {}
        self.checked: CheckedExpr | None = None
        self.count = 0
        self.indent = ""
        self.results: set[str] = set()  # locals holding an `and`/`or`/`if` value
        self.slots: dict[tuple[str, ...], str] = {}  # every path loaded anywhere: its local
        self.unread: set[str] = set()  # locals tested for `_UNREAD`: set to it first
        self.reads_data = False  # whether any value is read from the host's variables

    def emit(self, line: str) -> None:
        self.lines.append(self.indent + line)

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

    def constant(self, value: Any) -> str:
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name

    def root(self) -> str:
        """`data`, the host's variables, once they are known to be a `dict` exactly (for the
        reason in `_load_record`): the function declines any other mapping first."""
        self.reads_data = True
        return "data"

    def local(self, prefix: str) -> str:
        self.count += 1
        return f"_{prefix}{self.count}"

    def load(self, path: tuple[str, ...]) -> str:
        """The local holding the converted value at `path`, loading it where evaluation first
        reaches it: known loaded here (earlier on every way to this point), the local; loaded
        before only on some branch, the same local behind `if local is _UNREAD:`, so a value is
        read once per call whichever branches ran; else a new local."""
        return self._slot(path, self._load_value)

    def load_record(self, path: tuple[str, ...]) -> str:
        return self._slot(path, self._load_record)

    def _slot(self, path: tuple[str, ...], load: Callable[[str, tuple[str, ...]], None]) -> str:
        if path in self.loaded:
            return self.loaded[path]
        variable = self.slots.get(path)
        if variable is None:
            variable = self.slots[path] = self.local("v" if load == self._load_value else "r")
            load(variable, path)
        else:
            self.unread.add(variable)
            self.emit(f"if {variable} is _UNREAD:")
            indent, self.indent = self.indent, self.indent + "    "
            try:
                load(variable, path)
            finally:
                self.indent = indent
            for size in range(1, len(path)):  # its records were loaded with it, either way
                if path[:size] in self.slots:
                    self.loaded[path[:size]] = self.slots[path[:size]]
        self.loaded[path] = variable
        return variable

    def _load_value(self, variable: str, path: tuple[str, ...]) -> None:
        root = path[0]
        if root not in self.roots:
            raise _UnsupportedError
        t = self.roots[root]
        if len(path) == 1:
            if isinstance(t, RecordType):
                raise _UnsupportedError  # a whole record: the reader converts those
            self._convert(variable, t, f"{self.root()}[{root!r}]")
            return
        if not isinstance(t, RecordType):
            raise _UnsupportedError
        record_path: tuple[str, ...] = (root,)
        record = self.load_record(record_path)
        for name in path[1:-1]:
            field = t.field(name)
            if not isinstance(field, RecordType):
                raise _UnsupportedError  # only required records in between
            t, record_path = field, (*record_path, name)
            record = self.load_record(record_path)
        name = path[-1]
        field_type = t.field(name)
        if field_type is None:
            raise _UnsupportedError
        self._read_field(variable, record, name, field_type, path)

    def _load_record(self, variable: str, path: tuple[str, ...]) -> None:
        parent = self.load_record(path[:-1]) if len(path) > 1 else self.root()
        source = f"{parent}[{path[-1]!r}]"
        # A `dict` exactly: a subclass may supply a default for a missing key (`defaultdict`
        # would insert it into the host's data, `Counter` answer 0), and another mapping
        # may too; the slow path asks `name in record` first, as `coerce_record` does.
        self.emit(f"if ({variable} := {source}).__class__ is not _dict: raise _DeclineError")

    def _read_field(
        self, variable: str, record: str, name: str, t: Type, path: tuple[str, ...]
    ) -> None:
        inner = t.inner if isinstance(t, OptionalType) else t
        if isinstance(inner, StrType | IntType | BoolType | DecimalType | MoneyType):
            getter = f"{record}.get({name!r})" if isinstance(t, OptionalType) else None
            self._convert(variable, t, getter or f"{record}[{name!r}]")
        elif isinstance(t, ListType) and isinstance(t.element, StrType):
            # `"".join` checks in C that every element is text (as `coerce` does, subclasses
            # too); the host's list is used as it is, since expressions never change a list.
            # The usual case (a list) is decided by the first test.
            self.emit(f"if ({variable} := {record}.get({name!r}, _NO_LIST)).__class__ is _list:")
            self.emit(f"    _join({variable})")
            self.emit(f"elif {variable} is _NO_LIST: {variable} = []")
            self.emit("else: raise _DeclineError")
        else:
            field_type, field_path = self.constant(t), self.constant(path)
            self.emit(f"{variable} = _field({record}, {name!r}, {field_type}, {field_path})")

    def _convert(self, variable: str, t: Type, source: str) -> None:
        """Read `source` into `variable`, and check it (for amounts, convert it), or decline.

        The test is of `__class__` (what `isinstance` falls back to, so it agrees with
        `coerce`), against the type bound to a name of the function's namespace: a load of an
        attribute and a global, about 5 ns, where `type(v) is int` is a call and two global
        lookups, about 11 ns, on every value read (see docs/performance.md).
        """
        optional = isinstance(t, OptionalType)
        inner = t.inner if isinstance(t, OptionalType) else t
        read = f"({variable} := {source})"
        if isinstance(inner, StrType | IntType | BoolType):
            kind = {StrType: "_str", IntType: "_int", BoolType: "_bool"}[type(inner)]
            # the class first: a value present is decided by one test, null by two
            test = f" and {variable} is not None" if optional else ""
            self.emit(f"if {read}.__class__ is not {kind}{test}: raise _DeclineError")
        elif isinstance(inner, DecimalType | MoneyType):
            # `coerce`'s checks: finite, and at most AMOUNT_DIGITS digits before and after the
            # point. Text of n characters has at most n digits, so its exponent is at least
            # `adjusted() - n + 1`: a cheap test decides almost every amount, `_bounded` the
            # rest (and every `Decimal` the host made itself).
            indent, first = "", read
            if optional:
                self.emit(f"if {read} is not None:")
                indent, first = "    ", variable
            size = self.local("v")
            digits = AMOUNT_DIGITS
            self.emit(f"{indent}if {first}.__class__ is _str:")
            self.emit(f"{indent}    {size} = len({variable})")
            self.emit(f"{indent}    {variable} = _D({variable})")
            self.emit(
                f"{indent}    if not {variable}.is_finite() or not ({variable}.adjusted() < "
                f"{digits} and {variable}.adjusted() - {size} >= {-digits - 1} or "
                f"_bounded({variable})): raise _DeclineError"
            )
            self.emit(f"{indent}elif {variable}.__class__ is _int:")
            self.emit(f"{indent}    if not -_BOUND < {variable} < _BOUND: raise _DeclineError")
            self.emit(f"{indent}    {variable} = _D({variable})")
            self.emit(f"{indent}elif {variable}.__class__ is _Decimal:")
            self.emit(
                f"{indent}    if not {variable}.is_finite() or not _bounded({variable}): "
                "raise _DeclineError"
            )
            self.emit(f"{indent}else: {variable} = _amount({variable})")
        else:
            field_type, field_path = self.constant(t), self.constant(())
            self.emit(f"{variable} = _coerce({source}, {field_type}, {field_path})")

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
                    raise _UnsupportedError
                return self.load(path)
            case UnaryOp(op=op, operand=operand):
                if op is UnaryOperator.NOT:
                    return f"(not {self.expr(operand)})"
                kind = self.type_of(operand)
                if isinstance(kind, IntType):
                    return f"(-{self.expr(operand)})"
                if not isinstance(kind, DecimalType | MoneyType):
                    raise _UnsupportedError
                return f"_neg({self.expr(operand)})"  # exact, whatever the thread's context
            case BinaryOp():
                return self.binary(node)
            case Call():
                return self.call(node)
            case Conditional(condition=condition, then_branch=then, else_branch=other):
                if _is_decimal(self.type_of(node)) and any(
                    isinstance(self.type_of(branch), IntType) for branch in (then, other)
                ):
                    raise _UnsupportedError  # a whole number that joined decimals: closures convert
                return self.conditional(self.expr(condition), then, other)
            case Index() | ListExpr():
                raise _UnsupportedError
            case _:
                raise _UnsupportedError

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
                    raise _UnsupportedError
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
                    raise _UnsupportedError  # a timestamp against a day: by day in the zone
            elif not all(
                isinstance(t, StrType | IntType | BoolType | DecimalType | MoneyType) or t is None
                for t in (_scalar(left_type), _scalar(right_type))
            ):
                raise _UnsupportedError
            a, b = self.operand(left, right), self.operand(right, left)
            return f"({a} {_SYMBOLS[op]} {b})"
        if isinstance(left_type, IntType) and isinstance(right_type, IntType):
            if op in _INT_SYMBOLS:
                return f"({self.expr(left)} {_INT_SYMBOLS[op]} {self.expr(right)})"
            if op is BinaryOperator.DIV:
                return f"_div(_D({self.expr(left)}), {self._decimal_operand(right)})"
            raise _UnsupportedError
        if isinstance(left_type, StrType) and op is BinaryOperator.ADD:
            return f"({self.expr(left)} + {self.expr(right)})"
        numbers = (IntType, DecimalType, MoneyType)
        if isinstance(left_type, numbers) and isinstance(right_type, numbers):
            helper = _DECIMAL_HELPERS[op]
            return f"{helper}({self.operand(left, right)}, {self.operand(right, left)})"
        raise _UnsupportedError

    def _decimal_operand(self, node: Expr) -> str:
        if isinstance(node, Constant) and type(node.value) is int:
            return self.constant(Decimal(node.value))  # `int / 2`: converted once
        return f"_D({self.expr(node)})"

    def call(self, node: Call) -> str:
        name, args = node.name, node.args
        if name in ("now", "today"):
            if self.ctx is None:
                raise _UnsupportedError
            return self.constant(self.ctx.now if name == "now" else self.ctx.today)
        if name == "date" and len(args) == 1 and isinstance(args[0], Constant):
            implement = FUNCTIONS[name].implement
            assert implement is not None
            return self.constant(implement(None, args[0].value))
        if len(args) != 1:
            raise _UnsupportedError
        helper = {"floor": "_floor", "ceil": "_ceil", "len": "len"}.get(name)
        if helper is None:
            raise _UnsupportedError
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


Generated = Callable[[Mapping[str, Any]], Any]


def generate(
    checked: Sequence[CheckedExpr],
    roots: Mapping[str, Type],
    ctx: EvalContext | None,
    slow: Callable[[Mapping[str, Any]], Any],
    *,
    together: bool = False,
) -> tuple[Generated, str] | None:
    """The generated function (and its source) computing `checked[0]` (or, `together`, the
    list of every value) from the host's data, falling back to `slow` on anything unusual;
    None when an expression has a node the generator does not write out. `ctx` is folded in
    (`now()`); without one, an expression that reads the context is not generated."""
    writer = _Writer(roots, ctx)
    try:
        values = [writer.write(c, alone=not together) for c in checked]
    except _UnsupportedError:
        return None
    result = f"[{', '.join(values)}]" if together else values[0]
    unread = [f"{variable} = _UNREAD" for variable in sorted(writer.unread)]
    guard = ["if data.__class__ is not _dict: raise _DeclineError"] if writer.reads_data else []
    body = [*guard, *unread, *writer.lines, f"return {result}"]
    source = "\n".join(
        [
            "def _evaluate(data):",
            "    try:",
            *(f"        {line}" for line in body),
            "    except Exception:",
            "        return _slow(data)",
        ]
    )
    namespace: dict[str, Any] = {
        **_HELPERS,
        "_coerce": coerce,
        **writer.names,
        "_slow": slow,
    }
    code = compile(source, "<ruleengine generated>", "exec")
    exec(code, namespace)  # the source made only of the vocabulary above; see docstring
    function: Generated = namespace["_evaluate"]
    return function, source
