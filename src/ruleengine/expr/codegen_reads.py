"""Generated code's reads of the host's data: each path loaded, checked and converted.

`SourceWriter` holds the source being written (its lines, numbered locals and the constants
passed in the function's namespace) and writes the loads: a path is read where evaluation
first reaches it, and a path first loaded on a branch is loaded again elsewhere behind
`if local is _UNREAD:`, into the same local, so it is read once per call whichever branches
ran. `codegen_expressions.ExpressionWriter` builds on it to write the expressions themselves,
and `codegen` assembles and compiles the function; the helpers below are called from the
generated source under the names `codegen._HELPERS` gives them.

Values are checked by class (`v.__class__ is str`, as `isinstance` and so `coerce` decide),
amounts converted within `AMOUNT_DIGITS`, and the host's variables and records read only when
they are a `dict` exactly; anything else raises `DeclineError` and the slow path decides
(`codegen`'s docstring, "Declining").

Like every part of the writer, the source written here holds only the fixed vocabulary,
numbered locals, and `repr()` of root and field names (docs/performance.md, "Generated code");
types and paths go into the namespace as numbered constants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ruleengine.expr.coerce import coerce
from ruleengine.expr.types import (
    BoolType,
    DecimalType,
    IntType,
    ListType,
    MoneyType,
    OptionalType,
    RecordType,
    StrType,
    Type,
)
from ruleengine.limits import AMOUNT_DIGITS, is_bounded_decimal


class UnsupportedError(Exception):
    """A node the generator does not write out: the closures run instead."""


class DeclineError(Exception):
    """A host value the fast path does not convert: the slow path decides."""


def convert_amount(value: Any) -> Decimal:
    """An amount that is not a `str`, `int` or `Decimal`: floats as `coerce` reads them."""
    if type(value) is float:
        number = Decimal(repr(value))
        # A float's shortest text has at most 17 digits, so its exponent is at least
        # `adjusted() - 16`: inside these bounds it has at most AMOUNT_DIGITS on either side.
        if number.is_finite() and (
            _FLOAT_LOW <= number.adjusted() < AMOUNT_DIGITS or is_bounded_decimal(number)
        ):
            return number
    raise DeclineError


_FLOAT_LOW = 16 - AMOUNT_DIGITS


def convert_field(record: Mapping[str, Any], name: str, t: Type, path: tuple[str, ...]) -> Any:
    """A field of another type, converted by `coerce` (as `coerce_record` would)."""
    if name not in record:
        if isinstance(t, OptionalType):
            return None
        if isinstance(t, ListType):
            return []
        raise DeclineError
    return coerce(record[name], t, path)


NO_LIST: Any = object()  # `.get`'s default for a list field: the field is missing
NUMBERED_LOCAL = re.compile(r"_[rvk][0-9]+")
"""The generator's own names: locals `_r1`, `_v2` and constants `_k0`."""
UNREAD: Any = object()  # a path's local before evaluation has reached the path


class SourceWriter:
    """The source of one generated function being written: its lines, numbered locals and
    namespace constants, and the loads of the host's values (each path once per call)."""

    def __init__(self, roots: Mapping[str, Type]) -> None:
        self.roots = roots
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self.loaded: dict[tuple[str, ...], str] = {}
        self.count = 0
        self.indent = ""
        self.slots: dict[tuple[str, ...], str] = {}  # every path loaded anywhere: its local
        self.unread: set[str] = set()  # locals tested for `_UNREAD`: set to it first
        self.reads_data = False  # whether any value is read from the host's variables

    def emit(self, line: str) -> None:
        self.lines.append(self.indent + line)

    def constant(self, value: Any) -> str:
        """A constant as source: `repr` when it is exactly `None`, `bool`, `int` or `str` (one
        literal token each), else a numbered name bound in the function's namespace."""
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
            raise UnsupportedError
        t = self.roots[root]
        if len(path) == 1:
            if isinstance(t, RecordType):
                raise UnsupportedError  # a whole record: the reader converts those
            self._convert(variable, t, f"{self.root()}[{root!r}]")
            return
        if not isinstance(t, RecordType):
            raise UnsupportedError
        record_path: tuple[str, ...] = (root,)
        record = self.load_record(record_path)
        for name in path[1:-1]:
            field = t.field(name)
            if not isinstance(field, RecordType):
                raise UnsupportedError  # only required records in between
            t, record_path = field, (*record_path, name)
            record = self.load_record(record_path)
        name = path[-1]
        field_type = t.field(name)
        if field_type is None:
            raise UnsupportedError
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
            # `Decimal` also reads `1_000` and other scripts' digits, which JSON numbers and
            # `coerce` do not: such text goes to the slow path, which words the error
            self.emit(
                f"{indent}    if not {variable}.isascii() or '_' in {variable}: raise _DeclineError"
            )
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
