"""On malformed data, the host's paths read a value when evaluation reaches it.

The lead's rule for issue #18 (docs/performance.md, "Reading on the path taken"): on the
host's path (`Expression.evaluate(dict)`, `bind(convert=True)`, a condition set), a value is
read, converted and checked when evaluation reaches it, as a hand-written function and CEL do.
Each case corrupts one value (wrong type, out of range, missing) of the records of
`test_compiler_reference`, runs every host path on mappings that note what is read, and
compares with the reference interpreter evaluating on its own view that converts what it
reads (`Reaching`): the host's value must be the reference's unless the reference failed on a
value the host did not read (it evaluates every argument of `coalesce`), and the host's error
must be the `CoercionError` converting the value it read gives, which the reference raises
too (or an earlier one, on a value the host did not read).
"""

from __future__ import annotations

import copy
from collections import Counter, UserDict, defaultdict
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine.api import Expression, compile_conditions, compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.codegen import _HELPERS
from ruleengine.expr.coerce import CoercionError, JsonPath, coerce, coerce_record
from ruleengine.expr.reader import ELEMENT, Reads, reads_of
from ruleengine.expr.runtime import EvalContext
from ruleengine.expr.types import ListType, OptionalType, RecordType, Type
from test_compiler_reference import (
    BASE,
    CORPUS,
    EXTRA,
    NOW,
    ZONE,
    mutated,
    outcome,
    reference,
    same_value,
)


class Recorded(Mapping[str, Any]):
    """A host's record that notes every key it is asked about (read, looked up, tested), so
    a test knows which paths a host's evaluation read. Lists stay lists (their records are
    wrapped), as the host's path tests for `list` exactly."""

    def __init__(self, value: Mapping[str, Any], path: JsonPath, reads: set[JsonPath]) -> None:
        self._value, self._path, self._reads = value, path, reads

    def _note(self, key: str) -> None:
        self._reads.add((*self._path, key))

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return recorded(self._value[key], (*self._path, key), self._reads)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._note(key)
        return key in self._value

    def __iter__(self) -> Iterator[str]:
        return iter(self._value)

    def __len__(self) -> int:
        return len(self._value)


def recorded(value: Any, path: JsonPath, reads: set[JsonPath]) -> Any:
    if isinstance(value, dict):
        return Recorded(value, path, reads)
    if isinstance(value, list):
        return [recorded(item, (*path, i), reads) for i, item in enumerate(value)]
    return value


BAD_VALUES: list[Any] = [
    "abc",
    None,
    7,
    True,
    [],
    {},
    "2026-05-01T10:00:00",  # no offset
    "1e40",  # an amount out of range
    10**31,
    "NaN",
    [None],
    "MISSING",  # the key removed
]
FIELDS: list[tuple[str | int, ...]] = [
    (root, name) for root, record in BASE.items() for name in record if root != "order"
] + [("order", name) for name in BASE["order"]]
FIELDS += [("order", "items", i, name) for i in (0, 1) for name in BASE["order"]["items"][i]]
FIELDS += [("customer",), ("stats",), ("order",), ("order", "items", 1)]


def corrupt(data: dict[str, Any], path: tuple[str | int, ...], bad: Any) -> None:
    parent: Any = data
    for part in path[:-1]:
        parent = parent[part]
    if bad == "MISSING" and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = copy.deepcopy(bad)


def error_at(expression: Expression, raw: dict[str, Any], path: JsonPath) -> tuple[JsonPath, str]:
    """The `CoercionError` converting the value at `path` alone gives (its path and message):
    what the reference, which converts everything first, raises for that read."""
    t: Type = expression.scope.roots[str(path[0])]
    parent: Any = raw
    for depth, part in enumerate(path):
        if depth:
            t = t.inner if isinstance(t, OptionalType) else t
            if isinstance(part, int):
                assert isinstance(t, ListType)
                t = t.element
            else:
                assert isinstance(t, RecordType)
                field = t.field(part)
                assert field is not None
                t = field
        if depth < len(path) - 1:
            parent = parent[part]
    name = path[-1]
    try:
        if isinstance(name, str) and isinstance(parent, Mapping):
            alone = {name: parent[name]} if name in parent else {}
            coerce_record(alone, RecordType("alone", ((name, t),)), path[:-1])
        else:
            coerce(parent[name], t, path)
    except CoercionError as error:
        return error.path, error.message
    raise AssertionError(f"the value at {path} converts: the host should not have raised")


class Reaching(dict[str, Any]):
    """The reference's own view of a host's record: a field is converted (`coerce`) when the
    reference reads it, so the reference fails exactly on the values its evaluation reaches.
    A value the expression takes whole (`count(order.items)`, `order.items[0]`: the static
    reads, `reads_of`, say which) is converted whole when reached; the conversion itself is
    `coerce`, independent of `ruleengine.expr.reader`'s converters on purpose."""

    def __init__(self, value: Any, t: RecordType, path: JsonPath, reads: Reads) -> None:
        super().__init__()
        self.value, self.t, self.path, self.reads = value, t, path, reads

    def get(self, name: str, default: Any = None) -> Any:
        field = self.t.field(name)
        assert field is not None
        if not isinstance(self.value, Mapping):
            coerce(self.value, self.t, self.path)  # raises: not a record
        path = (*self.path, name)
        inner = field.inner if isinstance(field, OptionalType) else field
        raw = self.value.get(name)
        below = self.reads.get(name)  # None: the expression takes this value whole
        if name in self.value and raw is not None and below is not None:
            if isinstance(inner, RecordType):
                return Reaching(raw, inner, path, below)  # checked when a field is read
            records = isinstance(inner, ListType) and isinstance(inner.element, RecordType)
            element = below.get(ELEMENT)
            if records and element is not None and isinstance(raw, list | tuple):
                assert isinstance(inner, ListType) and isinstance(inner.element, RecordType)
                return [
                    Reaching(item, inner.element, (*path, i), element) for i, item in enumerate(raw)
                ]
        alone = {name: raw} if name in self.value else {}
        return coerce_record(alone, RecordType("alone", ((name, field),)), self.path)[name]

    def __eq__(self, other: object) -> bool:
        mine = coerce_record(self.value, self.t, self.path)
        return mine == (
            coerce_record(other.value, other.t, other.path)
            if isinstance(other, Reaching)
            else other
        )

    __hash__ = None  # type: ignore[assignment]


def whole(value: Any) -> Any:
    """A result as the host gets it: a record returned is read whole."""
    if isinstance(value, Reaching):
        return coerce_record(value.value, value.t, value.path)
    if isinstance(value, list):
        return [whole(item) for item in value]
    return value


class ReachingRoots(dict[str, Any]):
    """The roots of the reference's view, each converted when first read (`v[name]`); a copy
    (`{**v, item: ...}`) converts every root, the records among them still field by field."""

    def __init__(self, raw: Mapping[str, Any], roots: Mapping[str, Type], reads: Reads) -> None:
        super().__init__()
        self.raw, self.roots, self.reads = raw, roots, reads

    def __missing__(self, name: str) -> Any:
        t, below = self.roots[name], self.reads.get(name)
        if name not in self.raw:  # a root left out reads as a missing field
            if isinstance(t, OptionalType | ListType):
                value: Any = None if isinstance(t, OptionalType) else []
                self[name] = value
                return value
            raise CoercionError((name,), f"missing field `{name}` (`{t}`)")
        if isinstance(t, RecordType) and below is not None:
            value = Reaching(self.raw[name], t, (name,), below)
        else:
            value = coerce(self.raw[name], t, (name,))
        self[name] = value
        return value

    def keys(self) -> Any:
        return [name for name in self.roots if name in self.raw]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


def check_malformed(text: str, path: tuple[str | int, ...], bad: Any) -> None:
    """On data with one bad value, compare the host's path with the reference evaluating on
    a view that converts what it reads (`Reaching`): a value from the host's path is the
    reference's, unless the reference failed on a value the host did not read (the reference
    evaluates every element of `any`, every argument of `coalesce`); an error from the host's
    path is the `CoercionError` converting the value it read gives, and the reference raises
    it too (or an earlier one, on a value the host did not read)."""
    try:
        expression = compile_expression(text)
    except RuleSetError:
        return
    raw = copy.deepcopy(BASE)
    corrupt(raw, path, bad)
    zone_ctx = EvalContext(NOW, ZoneInfo(ZONE))
    view = ReachingRoots(raw, expression.scope.roots, reads_of([expression.checked.root]))
    reached: CoercionError | None = None

    def evaluate() -> Any:
        return whole(reference(expression.checked, expression.checked.root, view, zone_ctx))

    expected: tuple[str, Any] = ("none", None)
    try:
        expected = ("value", evaluate())
    except CoercionError as error:
        reached = error
    except Exception:
        expected = outcome(evaluate)
    # The generated code takes a `dict` exactly (any other mapping goes to the slow path);
    # here it takes `Recorded` as one, so that what it reads is seen.
    with patch.dict(_HELPERS, {"_dict": Recorded}):
        alone = compile_conditions([text]).bind(now=NOW, timezone=ZONE, convert=True)
        hosts = (
            expression.bind(now=NOW, timezone=ZONE, convert=True),
            partial(expression.evaluate, now=NOW, timezone=ZONE),
            lambda d: alone(d)[0],  # a condition set's one function
        )
        for host in hosts:
            reads: set[JsonPath] = set()
            data = Recorded(raw, (), reads)
            try:
                actual: tuple[str, Any] = ("value", host(data))
            except CoercionError as error:
                where = error.path
                assert any(where[:n] in reads for n in range(1, len(where) + 1)), (
                    text,
                    error,
                    reads,
                )
                assert (where, error.message) == error_at(expression, raw, where)
                assert reached is not None, (text, path, bad, error, expected)
                if (reached.path, reached.message) != (where, error.message):
                    assert reached.path not in reads, (text, path, bad, error, reached)
                continue
            except Exception:
                actual = outcome(lambda h=host, d=data: h(d))  # type: ignore[misc]
            if reached is not None:
                # The reference failed on a value; the host's path must not have read it.
                assert reached.path not in reads, (text, path, bad, actual, reached)
                continue
            assert same_value(actual, expected), (text, path, bad, actual, expected)


@pytest.mark.parametrize(
    ("text", "path", "bad"),
    [
        ('customer.tier == "gold" or order.subtotal > 50', ("order", "subtotal"), "abc"),
        ('customer.tier == "silver" and order.subtotal > 50', ("order", "subtotal"), "abc"),
        ('customer.tier == "gold" and order.subtotal > 50', ("order", "subtotal"), "MISSING"),
        ("any(order.items, item.price > 10)", ("order", "items", 1, "price"), "abc"),
        ("if stats.orders_count > 1 then 1 else stats.points_earned", ("stats",), "MISSING"),
        # The closures (no generated code for quantifiers) read the same way:
        ("any(order.items, item.quantity > 1) or stats.amount_spent > 1", ("stats",), 7),
        ('all(order.items, item.price > 99) and customer.tier == "x"', ("customer", "tier"), 7),
        ("any(order.items, item.price > 10)", ("order", "items", 1, "price"), "abc"),
        ("all(order.items, item.price > 15)", ("order", "items", 1, "price"), "MISSING"),
        ("count(order.items) > 5 and stats.orders_count > 1", ("stats", "orders_count"), "x"),
    ],
)
def test_a_malformed_value_is_reported_when_it_is_read(
    text: str, path: tuple[str | int, ...], bad: Any
) -> None:
    check_malformed(text, path, bad)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=st.one_of(st.sampled_from(CORPUS + EXTRA), mutated()),
    path=st.sampled_from(FIELDS),
    bad=st.sampled_from(BAD_VALUES),
)
def test_the_host_path_reads_what_evaluation_reaches(
    text: str, path: tuple[str | int, ...], bad: Any
) -> None:
    check_malformed(text, path, bad)


def located(function: Callable[[], Any]) -> tuple[str, Any]:
    """`outcome`, with a `CoercionError`'s path and message."""
    try:
        return "value", function()
    except CoercionError as error:
        return "coercion", (error.path, error.message)
    except Exception:
        return outcome(function)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    texts=st.lists(st.sampled_from(CORPUS + EXTRA), min_size=2, max_size=5),
    path=st.sampled_from(FIELDS),
    bad=st.sampled_from(BAD_VALUES),
)
def test_a_condition_set_reads_as_its_conditions_do_one_by_one(
    texts: list[str], path: tuple[str | int, ...], bad: Any
) -> None:
    """A set's one function (a path read once for all its conditions, wherever it is first
    reached) gives each condition's own value, or raises what the first failing condition
    raises on its own, on data with one bad value."""
    try:
        conditions = compile_conditions(texts)
    except RuleSetError:
        return
    raw = copy.deepcopy(BASE)
    corrupt(raw, path, bad)
    singles = [e.bind(now=NOW, timezone=ZONE, convert=True) for e in conditions.expressions]
    expected: list[Any] = []
    failure: tuple[str, Any] | None = None
    for single in singles:
        result = located(lambda f=single: f(raw))  # type: ignore[misc]
        if result[0] != "value":
            failure = result
            break
        expected.append(result)
    together = conditions.bind(now=NOW, timezone=ZONE, convert=True)
    actual = located(lambda: together(raw))
    if failure is not None:
        assert actual == failure, (texts, path, bad, actual, failure)
        return
    assert actual[0] == "value", (texts, path, bad, actual)
    assert all(same_value(("value", a), e) for a, e in zip(actual[1], expected, strict=True)), (
        texts,
        path,
        bad,
        actual,
        expected,
    )


# The host's mappings need not be dicts. A mapping that supplies a value for a missing key
# (`defaultdict`, which also inserts it, `Counter`, a `UserDict` with `__missing__`) must not
# supply it to the rules: every kind reads as the plain dict does, and none is changed.
class _Defaults(UserDict[str, Any]):
    def __missing__(self, key: str) -> Any:
        return 0


MAPPING_KINDS: dict[str, Callable[[dict[str, Any]], Mapping[str, Any]]] = {
    "defaultdict": lambda d: defaultdict(lambda: "500", d),
    "defaultdict(dict)": lambda d: defaultdict(dict, d),
    "Counter": lambda d: Counter(d),
    "UserDict with __missing__": _Defaults,
    "MappingProxyType": MappingProxyType,
}


def as_kind(value: Any, kind: Callable[[dict[str, Any]], Mapping[str, Any]]) -> Any:
    if isinstance(value, dict):
        return kind({k: as_kind(v, kind) for k, v in value.items()})
    if isinstance(value, list):
        return [as_kind(item, kind) for item in value]
    return value


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=st.one_of(st.sampled_from(CORPUS + EXTRA), mutated()),
    pick=st.data(),
    bad=st.sampled_from(["MISSING", "MISSING", "MISSING", *BAD_VALUES]),
    kind=st.sampled_from(sorted(MAPPING_KINDS)),
)
def test_every_kind_of_mapping_reads_as_a_dict_and_is_left_unchanged(
    text: str, pick: st.DataObject, bad: Any, kind: str
) -> None:
    # a value the expression names, most of the time (any value otherwise)
    named = [p for p in FIELDS if all(str(part) in text for part in p if isinstance(part, str))]
    path = pick.draw(st.sampled_from(named or FIELDS))
    try:
        expression = compile_expression(text)
    except RuleSetError:
        return
    raw = copy.deepcopy(BASE)
    corrupt(raw, path, bad)
    data = as_kind(raw, MAPPING_KINDS[kind])
    before = copy.deepcopy(plain(data))
    hosts = (
        expression.bind(now=NOW, timezone=ZONE, convert=True),
        partial(expression.evaluate, now=NOW, timezone=ZONE),
        lambda d: compile_conditions([text]).evaluate(d, now=NOW, timezone=ZONE)[0],
    )
    for host in hosts:
        expected = located(lambda h=host: h(raw))  # type: ignore[misc]
        actual = located(lambda h=host: h(data))  # type: ignore[misc]
        assert same_value(actual, expected) or actual == expected, (text, kind, actual, expected)
        assert plain(data) == before, (text, kind, "the host's data was changed")
