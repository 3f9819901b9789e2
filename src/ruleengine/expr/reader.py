"""Reading a host's data: convert only what an expression reads.

A host hands `Expression.evaluate` its own mapping (a customer with twenty-five fields, a list
of items, amounts as text or numbers). Converting all of it (`coerce`) before a condition that
reads two fields costs more than the condition. The checker already knows every path an
expression can read, so `reads_of` collects them into a trie, and `compile_reader` turns the
trie and the scope's types into one function that converts exactly those values, with the
same conversions and the same `CoercionError`s (type, path and message) as `coerce` gives for
them: a missing required field, a malformed amount, a naive timestamp.

What is read:

* `order.subtotal` reads that field; `customer` alone (a whole record) reads all of it.
* `any(order.items, item.price > 10)` reads `price` of every element of `order.items` (the
  trie's `ELEMENT` key), and nothing else of them; `order.items[0].sku` reads `sku` of the
  elements (converted for each, which is what indexing can reach).
* Anything else that takes a value apart (a field of a computed record) reads the whole
  value it starts from.

The result has the shape `coerce` gives (records as dicts, lists as lists), holding only the
fields read, so the compiled program runs on it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ruleengine.expr.ast import Call, Expr, FieldAccess, Index, Name, child_nodes
from ruleengine.expr.coerce import CoercionError, JsonPath, coerce
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
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

_BOUND = 10**AMOUNT_DIGITS  # whole numbers below it have at most AMOUNT_DIGITS digits

ELEMENT = "[]"
"""The trie key for "every element of this list" (not a field name: names are identifiers)."""

Reads = dict[str, "Reads | None"]
"""What is read below a value: field name (or `ELEMENT`) -> what is read below it; None for
"the whole value"."""

Converter = Callable[[Any, JsonPath], Any]
"""Converts one host value; the second argument is the dynamic part of its JSON path (the
root name, or the path of the list element it stands in), used only in error messages."""

Reader = Callable[[Mapping[str, Any]], dict[str, Any]]
"""The host's variables -> the converted values an expression reads."""


def reads_of(roots: list[Expr]) -> Reads:
    """The trie of every path the expressions under `roots` can read, by root name."""
    reads: Reads = {}
    for root in roots:
        _walk(root, None, reads)
    return reads


def _path(node: Expr, item: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The static path `node` loads (`("order", "items", ELEMENT, "sku")`), or None."""
    if isinstance(node, Name):
        if node.name == BOUND_NAME:
            return item
        return (node.name,)
    if isinstance(node, FieldAccess):
        base = _path(node.target, item)
        return None if base is None else (*base, node.name)
    if isinstance(node, Index):
        base = _path(node.target, item)
        return None if base is None else (*base, ELEMENT)
    return None


def _walk(node: Expr, item: tuple[str, ...] | None, reads: Reads) -> None:
    path = _path(node, item)
    if path is not None:
        _mark(reads, path, whole=True)
        _walk_indices(node, item, reads)
        return
    if isinstance(node, Call) and FUNCTIONS[node.name].binds_item and len(node.args) == 2:
        items, predicate = node.args
        listed = _path(items, item)
        if listed is not None:
            _mark(reads, (*listed, ELEMENT), whole=False)
            _walk_indices(items, item, reads)
            _walk(predicate, (*listed, ELEMENT), reads)
            return
        _walk(items, item, reads)
        _walk(predicate, None, reads)  # `item` is a computed value: already read whole
        return
    for child in child_nodes(node):
        _walk(child, item, reads)


def _walk_indices(node: Expr, item: tuple[str, ...] | None, reads: Reads) -> None:
    """The index expressions inside a path (`order.items[i].sku` reads `i` too)."""
    while isinstance(node, (FieldAccess, Index)):
        if isinstance(node, Index):
            _walk(node.index, item, reads)
        node = node.target


def _mark(reads: Reads, path: tuple[str, ...], *, whole: bool) -> None:
    level: Reads = reads
    for part in path[:-1]:
        below = level.setdefault(part, {})
        if below is None:
            return  # already read whole
        level = below
    last = path[-1]
    if whole:
        level[last] = None
    elif last not in level:
        level[last] = {}


def lazy_reader(roots: Mapping[str, Type], nodes: list[Expr]) -> Reader:
    """`compile_reader(roots, reads_of(nodes))`, built on the first call rather than now.

    Compiling an expression (what `validate` and an editor do many times) then does not pay
    for the reader, which only a host's `evaluate`, `read` or `bind(convert=True)` use; the
    cost is one list lookup per call. Building twice in a race gives the same function.
    """
    built: list[Reader] = []

    def read(variables: Mapping[str, Any]) -> dict[str, Any]:
        if not built:
            built.append(compile_reader(roots, reads_of(nodes)))
        return built[0](variables)

    return read


def compile_reader(roots: Mapping[str, Type], reads: Reads) -> Reader:
    """One function converting the values `reads` names, from the host's variables.

    A root the host left out reads as a missing field does: null when optional, `[]` for a
    list, else the `CoercionError` naming it (`Expression.convert`, which converts what the
    host gave, leaves it out).
    """
    converters = [
        (name, _converter(roots[name], below, ()), _absent(roots[name], ()))
        for name, below in reads.items()
        if name in roots
    ]

    def read(variables: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: convert(variables[name], (name,)) if name in variables else absent((name,))
            for name, convert, absent in converters
        }

    return read


def _list(t: Type, element: Converter, suffix: JsonPath) -> Converter:
    """A converter for a list of `t` at `suffix`, each element through `element`."""

    def convert_list(value: Any, at: JsonPath) -> Any:
        if type(value) is not list and type(value) is not tuple:
            return coerce(value, t, (*at, *suffix))  # raises what `coerce` raises
        base = (*at, *suffix)
        return [element(item, (*base, i)) for i, item in enumerate(value)]

    return convert_list


def _converter(t: Type, reads: Reads | None, suffix: JsonPath) -> Converter:
    """A converter for values of `t` at `suffix` below the dynamic path, reading `reads`."""
    if isinstance(t, OptionalType):
        inner = _converter(t.inner, reads, suffix)
        return lambda value, at: None if value is None else inner(value, at)
    if isinstance(t, RecordType) and reads is not None:
        return _record(t, reads, suffix)
    if isinstance(t, ListType) and reads is not None and ELEMENT in reads:
        return _list(t, _converter(t.element, reads[ELEMENT], ()), suffix)

    def slow(value: Any, at: JsonPath) -> Any:
        return coerce(value, t, (*at, *suffix))

    if isinstance(t, StrType):
        return lambda value, at: value if type(value) is str else slow(value, at)
    if isinstance(t, IntType):
        return lambda value, at: value if type(value) is int else slow(value, at)
    if isinstance(t, BoolType):
        return lambda value, at: value if type(value) is bool else slow(value, at)
    if isinstance(t, (MoneyType, DecimalType)):
        return _amount(slow)
    return slow


def _amount(slow: Converter) -> Converter:
    """Money and decimals: whole numbers and finite Decimals as they are, the rest (text,
    floats, bad values) through `coerce`."""

    def convert(value: Any, at: JsonPath) -> Any:
        kind = type(value)
        if kind is int and -_BOUND < value < _BOUND:
            return Decimal(value)
        if kind is Decimal and value.is_finite() and is_bounded_decimal(value):
            return value
        return slow(value, at)  # `coerce` converts or raises, range checked

    return convert


def _record(t: RecordType, reads: Reads, suffix: JsonPath) -> Converter:
    """The fields of a record that are read, with `coerce_record`'s rules for missing ones."""
    fields: list[tuple[str, Converter, Any]] = []
    for name, below in reads.items():
        field_type = t.field(name)
        if field_type is None:
            continue  # not a field of this record (the checker reported any real use)
        convert = _converter(field_type, below, (*suffix, name))
        fields.append((name, convert, _absent(field_type, (*suffix, name))))

    def convert_record(value: Any, at: JsonPath) -> Any:
        if not isinstance(value, Mapping):
            return coerce(value, t, (*at, *suffix))  # raises what `coerce` raises
        result: dict[str, Any] = {}
        for name, convert, absent in fields:
            if name in value:
                result[name] = convert(value[name], at)
            else:
                result[name] = absent(at)
        return result

    return convert_record


def _absent(t: Type, suffix: JsonPath) -> Callable[[JsonPath], Any]:
    """What a missing field reads as: null when optional, [] for a list, else the error."""
    if isinstance(t, OptionalType):
        return lambda at: None
    if isinstance(t, ListType):
        return lambda at: []

    def missing(at: JsonPath) -> Any:
        path = (*at, *suffix)
        raise CoercionError(path, f"missing field `{path[-1]}` (`{t}`)")

    return missing


# -- reading as evaluation reaches a value ---------------------------------------------------------


def view_reader(roots: Mapping[str, Type], nodes: list[Expr]) -> Reader:
    """Like `lazy_reader`, but each value is converted when evaluation reaches it.

    The result is a view of the host's variables for the closures: a root is converted on
    first access (`v[root]`), a record the expressions read field by field is a `LazyRecord`
    whose fields are converted on first `.get(name)`, and everything else (a value read
    whole, a list of scalars) is converted by `coerce` when it is reached. So a malformed
    value on a branch that does not run is never looked at, and one that is read raises the
    `CoercionError` (same path, same message) that `compile_reader` would raise for it.
    """
    built: list[Callable[[Mapping[str, Any]], dict[str, Any]]] = []

    def read(variables: Mapping[str, Any]) -> dict[str, Any]:
        if not built:
            reads = reads_of(nodes)
            converters = {
                name: _lazy(roots[name], below, ())
                for name, below in reads.items()
                if name in roots
            }
            absent = {name: _absent(roots[name], ()) for name in converters}
            built.append(lambda variables: LazyRoots(variables, converters, absent))
        return built[0](variables)

    return read


class LazyRoots(dict[str, Any]):
    """The roots of a host's variables, each converted on first access.

    Only converted values are ever stored, so a copy (`dict(v)`, `{**v}`: a quantifier's
    scope, the dynamic context) never sees an unconverted one: copying lists every root the
    expressions read (`keys`), which converts each root as it is reached; a record root only
    becomes a `LazyRecord`, so its fields still wait for their first use.
    """

    __slots__ = ("_absent", "_converters", "_variables")

    def __init__(
        self,
        variables: Mapping[str, Any],
        converters: dict[str, Converter],
        absent: dict[str, Callable[[JsonPath], Any]],
    ) -> None:
        super().__init__()
        self._variables = variables
        self._converters = converters
        self._absent = absent

    def __missing__(self, name: str) -> Any:
        convert = self._converters.get(name)
        if convert is None:
            raise KeyError(name)  # not a root the expressions read
        if name not in self._variables:  # left out: as a missing field reads
            value = self._absent[name]((name,))
            self[name] = value
            return value
        value = convert(self._variables[name], (name,))
        self[name] = value
        return value

    def keys(self) -> Any:  # a copy converts each root it lists (see the class docstring)
        present = [n for n in self._converters if n in self._variables]
        return [*present, *(k for k in dict.keys(self) if k not in self._converters)]

    def __iter__(self) -> Any:
        return iter(self.keys())


class LazyRecord(dict[str, Any]):
    """A host's record whose fields are converted on first `.get(name)` (how the closures
    read a field), with `coerce_record`'s rules for a missing one. That the value is a
    record at all is checked then too: a copy of the roots (a quantifier's scope) reads
    nothing."""

    __slots__ = ("_at", "_fields", "_type", "_value")

    def __init__(
        self,
        value: Any,
        fields: dict[str, tuple[Converter, Callable[[JsonPath], Any]]],
        at: JsonPath,
        record: tuple[RecordType, JsonPath],
    ) -> None:
        super().__init__()
        self._value = value
        self._fields = fields
        self._at = at
        self._type = record

    def __missing__(self, name: str) -> Any:
        field = self._fields.get(name)
        if field is None:
            raise KeyError(name)
        if not isinstance(self._value, Mapping):
            t, suffix = self._type
            coerce(self._value, t, (*self._at, *suffix))  # raises what `coerce` raises
        convert, absent = field
        value = convert(self._value[name], self._at) if name in self._value else absent(self._at)
        self[name] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default


def _lazy(t: Type, reads: Reads | None, suffix: JsonPath) -> Converter:
    """`_converter`, with records read field by field as `LazyRecord`s."""
    if isinstance(t, OptionalType):
        inner = _lazy(t.inner, reads, suffix)
        return lambda value, at: None if value is None else inner(value, at)
    if isinstance(t, RecordType) and reads is not None:
        fields: dict[str, tuple[Converter, Callable[[JsonPath], Any]]] = {}
        for name, below in reads.items():
            field_type = t.field(name)
            if field_type is not None:
                path = (*suffix, name)
                fields[name] = (_lazy(field_type, below, path), _absent(field_type, path))

        record = (t, suffix)
        return lambda value, at: LazyRecord(value, fields, at, record)
    if isinstance(t, ListType) and reads is not None and ELEMENT in reads:
        return _list(t, _lazy(t.element, reads[ELEMENT], ()), suffix)
    return _converter(t, reads, suffix)


__all__ = [
    "ELEMENT",
    "LazyRecord",
    "LazyRoots",
    "Reader",
    "Reads",
    "compile_reader",
    "reads_of",
    "view_reader",
]
