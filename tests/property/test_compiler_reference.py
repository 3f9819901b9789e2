"""The optimised compiler gives exactly what a plain tree-walking interpreter gives.

`reference` below is the language's semantics written as directly as possible: one recursive
function, no specialisation, no folding, no pre-converted literals. Every expression of the
corpora that checks (and mutations of them, through hypothesis) is evaluated by both on records
with values, nulls, missing fields and empty lists; the values, or the errors, must be the same.
This is what lets the compiler specialise freely: any shortcut that changes a result fails here.

On malformed data, the host's paths are compared with this reference in `test_host_reads.py`.
"""

from __future__ import annotations

import copy
import decimal
import operator
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseio import CASES_ROOT, load_cases
from ruleengine.api import Expression, compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
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
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
from ruleengine.expr.program import Program
from ruleengine.expr.runtime import ARITHMETIC, DIVISION, EvalContext, EvaluationError, shift
from ruleengine.expr.types import (
    DateTimeType,
    DateType,
    DecimalType,
    DurationType,
    IntType,
    ListType,
    MoneyType,
    OptionalType,
    StrType,
    Type,
)
from ruleengine.expr.values import Duration

CASES = CASES_ROOT
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ZONE = "America/New_York"

COMPARE: dict[BinaryOperator, Callable[[Any, Any], bool]] = {
    BinaryOperator.EQ: operator.eq,
    BinaryOperator.NE: operator.ne,
    BinaryOperator.LT: operator.lt,
    BinaryOperator.LE: operator.le,
    BinaryOperator.GT: operator.gt,
    BinaryOperator.GE: operator.ge,
}
DECIMAL_OPS: dict[BinaryOperator, Callable[[Any, Any], Any]] = {
    BinaryOperator.ADD: ARITHMETIC.add,
    BinaryOperator.SUB: ARITHMETIC.subtract,
    BinaryOperator.MUL: ARITHMETIC.multiply,
    BinaryOperator.DIV: DIVISION.divide,
    BinaryOperator.MOD: ARITHMETIC.remainder,
}


def is_decimal(t: Type) -> bool:
    inner = t.element if isinstance(t, ListType) else t
    inner = inner.inner if isinstance(inner, OptionalType) else inner
    return isinstance(inner, DecimalType | MoneyType)


def to_decimal(value: Any) -> Any:
    return Decimal(value) if type(value) is int else value


def reference(checked: CheckedExpr, node: Expr, v: dict[str, Any], ctx: EvalContext) -> Any:
    """The value of `node`: the language's semantics, one node at a time."""
    value = _reference(checked, node, v, ctx)
    if isinstance(node, Call | Conditional | ListExpr) and is_decimal(checked.type_of(node)):
        return [to_decimal(x) for x in value] if isinstance(node, ListExpr) else to_decimal(value)
    return value


def _reference(  # noqa: C901  # one branch per node kind, on purpose
    checked: CheckedExpr, node: Expr, v: dict[str, Any], ctx: EvalContext
) -> Any:
    def ev(child: Expr, variables: dict[str, Any] = v) -> Any:
        return reference(checked, child, variables, ctx)

    match node:
        case Constant(value=value):
            return value
        case Name(name=name):
            return v[name]
        case FieldAccess(target=target, name=name):
            return ev(target).get(name)
        case Index(target=target, index=index):
            items, position = ev(target), ev(index)
            return items[position] if 0 <= position < len(items) else None
        case UnaryOp(op=UnaryOperator.NOT, operand=operand):
            return not ev(operand)
        case UnaryOp(operand=operand):
            x = ev(operand)
            if isinstance(checked.type_of(operand), DurationType):
                return Duration(-x.months, -x.seconds)
            return x.copy_negate() if isinstance(x, Decimal) else -x  # exact, not the thread's
        case BinaryOp(op=BinaryOperator.AND, left=left, right=right):
            return ev(left) and ev(right)
        case BinaryOp(op=BinaryOperator.OR, left=left, right=right):
            return ev(left) or ev(right)
        case BinaryOp(op=BinaryOperator.IN, left=left, right=right):
            return ev(left) in ev(right)
        case BinaryOp(op=BinaryOperator.NOT_IN, left=left, right=right):
            return ev(left) not in ev(right)
        case BinaryOp(op=op, left=left, right=right) if op in COMPARE:
            return compare(checked, node, ev(left), ev(right), ctx)
        case BinaryOp():
            return arithmetic(checked, node, ev(node.left), ev(node.right), ctx)
        case Call(name="date", args=(Constant(value=text),)):
            return date.fromisoformat(str(text))
        case Call(name=name, args=args) if FUNCTIONS[name].binds_item:
            items = ev(args[0])
            if len(args) == 1:
                results = list(items)
            elif name in ("any", "all"):  # as far as the first element that decides
                tests = (ev(args[1], {**v, BOUND_NAME: item}) for item in items)
                return any(tests) if name == "any" else all(tests)
            else:
                results = [ev(args[1], {**v, BOUND_NAME: item}) for item in items]
            if name == "any":
                return any(results)
            if name == "all":
                return all(results)
            if name == "count":
                return sum(1 for hit in results if hit) if len(args) > 1 else len(items)
            total: Any = 0
            for x in results:
                both_int = isinstance(x, int) and isinstance(total, int)
                total = total + x if both_int else ARITHMETIC.add(total, x)
            return total
        case Call(name=name, args=args):
            implement = FUNCTIONS[name].implement
            assert implement is not None
            values = [ev(arg) for arg in args]
            if len(values) < 2:
                return implement(ctx, *values)
            try:
                return implement(ctx, *values)
            except (decimal.InvalidOperation, decimal.Overflow):
                raise EvaluationError("RE602", "number out of range", node.span) from None
        case ListExpr(items=items):
            return [ev(item) for item in items]
        case Conditional(condition=condition, then_branch=then, else_branch=other):
            return ev(then) if ev(condition) else ev(other)
    raise AssertionError(node)


def compare(checked: CheckedExpr, node: BinaryOp, a: Any, b: Any, ctx: EvalContext) -> bool:
    op = COMPARE[node.op]
    left, right = checked.type_of(node.left), checked.type_of(node.right)
    days = (DateType, DateTimeType)
    if isinstance(left, days) and isinstance(right, days) and type(left) is not type(right):
        if a is None or b is None:
            return op(a, b)
        return op(ctx.local_date(a), ctx.local_date(b))
    durations = isinstance(left, DurationType) or isinstance(right, DurationType)
    if durations and node.op not in (BinaryOperator.EQ, BinaryOperator.NE):
        return op(a.seconds, b.seconds)
    return op(a, b)


def arithmetic(  # noqa: C901  # one branch per kind of operand, on purpose
    checked: CheckedExpr, node: BinaryOp, a: Any, b: Any, ctx: EvalContext
) -> Any:
    op = node.op
    left, right = checked.type_of(node.left), checked.type_of(node.right)
    days = (DateType, DateTimeType)
    if isinstance(left, days) and isinstance(right, DurationType):
        return shift(a, b, 1 if op is BinaryOperator.ADD else -1, ctx, node.span)
    if isinstance(left, DurationType) and isinstance(right, days):
        return shift(b, a, 1, ctx, node.span)
    if isinstance(left, days):
        return Duration(seconds=int((a - b).total_seconds()))
    if isinstance(right, DurationType) and op is BinaryOperator.MUL:
        return Duration(b.months * a, b.seconds * a)
    if isinstance(left, DurationType):
        if op is BinaryOperator.MUL:
            return Duration(a.months * b, a.seconds * b)
        sign = 1 if op is BinaryOperator.ADD else -1
        return Duration(a.months + sign * b.months, a.seconds + sign * b.seconds)
    if isinstance(left, IntType) and isinstance(right, IntType):
        if op is BinaryOperator.ADD:
            return a + b
        if op is BinaryOperator.SUB:
            return a - b
        if op is BinaryOperator.MUL:
            return a * b
        if b == 0:
            raise EvaluationError("RE601", "division by zero", node.span)
        if op is BinaryOperator.DIV:
            return DIVISION.divide(Decimal(a), Decimal(b))
        return abs(a) % abs(b) * (1 if a >= 0 else -1)  # the dividend's sign, as for decimals
    if isinstance(left, StrType):
        return a + b
    if op in (BinaryOperator.DIV, BinaryOperator.MOD) and b == 0:
        raise EvaluationError("RE601", "division by zero", node.span)
    try:
        return DECIMAL_OPS[op](a, b)
    except (decimal.InvalidOperation, decimal.Overflow):
        raise EvaluationError("RE602", "number out of range", node.span) from None


# -- records -------------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "customer": {
        "id": "c1",
        "email": "a@example.com",
        "tags": ["vip", "newsletter"],
        "tier": "gold",
        "excluded": False,
        "birthday": "1990-05-31",
        "created_at": "2026-01-05T10:00:00Z",
    },
    "stats": {
        "orders_count": 4,
        "amount_spent": "310.25",
        "points_earned": 1200,
        "reviews_count": 2,
        "referrals_count": 1,
        "first_order_at": "2026-01-10T10:00:00Z",
        "last_order_at": "2026-05-31T23:30:00-04:00",
        "days_since_last_order": 12,
    },
    "order": {
        "id": "o1",
        "at": "2026-05-31T23:30:00-04:00",
        "subtotal": "42.50",
        "total": "45.00",
        "channel": "online",
        "items": [
            {"product_id": "p1", "vendor": "Acme", "quantity": 2, "price": "12.50"},
            {"product_id": "p2", "vendor": None, "quantity": 0, "price": "17.50"},
        ],
        "discount_codes": ["SPRING"],
    },
}


def records(expression: Expression) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """(the host's data, converted whole): full, with nulls, with empty lists and zeros, with
    fields missing; and converted records with fields absent (no host data gives those)."""
    nulls = copy.deepcopy(BASE)
    for record in nulls.values():
        for key in list(record):
            if key not in ("id", "at", "subtotal", "tags", "items", "discount_codes", "excluded"):
                record[key] = None
    nulls["stats"].update(orders_count=0, amount_spent="0", points_earned=0)
    nulls["stats"].update(reviews_count=0, referrals_count=0)
    empty = copy.deepcopy(BASE)
    empty["order"].update(items=[], discount_codes=[], subtotal="0")
    empty["customer"]["tags"] = []
    missing = copy.deepcopy(BASE)
    for record in missing.values():
        for key in ("tier", "email", "channel", "total", "last_order_at"):
            record.pop(key, None)  # absent, not null: reads as null all the same
    converted = [(raw, expression.convert(raw)) for raw in (BASE, nulls, empty, missing)]
    absent = copy.deepcopy(converted[0][1])
    for record in absent.values():
        for key in ("tier", "email", "channel", "total", "last_order_at"):
            record.pop(key, None)  # converted records with the keys absent, as the engine's
    return [*converted, (None, absent)]


def outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", function()
    except EvaluationError as error:
        return "error", error.code
    except RuleSetError as error:
        return "error", error.diagnostics[0].code
    except Exception as error:  # a raw failure must be the same failure
        return "raised", type(error).__name__


def same_value(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Equal, and of the same Python type (an int 3 is not a Decimal 3 to the engine)."""
    if a != b:
        return False
    if a[0] != "value":
        return True
    x, y = a[1], b[1]
    if isinstance(x, list) and isinstance(y, list):
        return all(type(p) is type(q) for p, q in zip(x, y, strict=True))
    return type(x) is type(y) and (not isinstance(x, Decimal) or str(x) == str(y))


def check_same(text: str) -> None:
    try:
        expression = compile_expression(text)
    except RuleSetError:
        return  # does not check: nothing to compare
    zone_ctx = EvalContext(NOW, ZoneInfo(ZONE))
    folded = expression.bind(now=NOW, timezone=ZONE)  # a host's binding: the context folded in
    program = expression._evaluate
    assert isinstance(program, Program)
    dynamic = program.bind(zone_ctx)  # the engine's: the context read per call
    from_host = expression.bind(now=NOW, timezone=ZONE, convert=True)
    for raw, variables in records(expression):
        expected = outcome(
            lambda v=variables: reference(expression.checked, expression.checked.root, v, zone_ctx)
        )
        for bound in (folded, dynamic):
            actual = outcome(lambda v=variables, f=bound: f(v))
            assert same_value(actual, expected), (text, variables, actual, expected)
        if raw is None:
            continue
        # The host's path converts only what the expression reads: the same value or error.
        for host in (from_host, partial(expression.evaluate, now=NOW, timezone=ZONE)):
            actual = outcome(lambda r=raw, f=host: f(r))
            assert same_value(actual, expected), (text, raw, actual, expected)


def corpus() -> list[str]:
    found: list[str] = []
    for folder in ("parse", "types", "values"):
        for path in sorted((CASES / folder).glob("*.yaml")):
            found.extend(str(case["expr"]) for case in load_cases(path) or [] if "expr" in case)
    return sorted(set(found))


CORPUS = corpus()
EXTRA = [
    # Shapes the compiler specialises, each next to the general form it replaces.
    "order.subtotal >= 20",
    "20 <= order.subtotal",
    "order.subtotal * 5 > 100",
    "floor(order.subtotal * 5) >= 212 and ceil(order.subtotal) == 43",
    "round(order.subtotal) + round(2.5)",
    'order.channel in ["online", "pos"] and not (order.channel in ["phone"])',
    'order.channel not in ["online"] or customer.tier == "gold"',
    '"vip" in customer.tags and "x" not in customer.tags',
    "stats.orders_count in [1, 2, 4] and stats.orders_count not in [3]",
    'order.discount_codes in [["SPRING"], []] and customer.tags not in [["vip"]]',
    'order.at in [now()] or date("2026-05-31") in [date("2026-05-31")]',
    "order.subtotal in [42.5, 10] or order.subtotal in [10, 20]",
    "true and order.subtotal > 1 and false",
    "false or order.subtotal > 1 or true",
    "order.subtotal > 1 and order.subtotal > 2 and order.subtotal > 3 and order.subtotal > 4",
    "order.subtotal > 100 or stats.orders_count > 100 or customer.tier == null or false",
    "if true then order.subtotal else 1",
    "if customer.tier == null then 1 else 2.5",
    "order.items[0] != null and order.items[0].quantity > 1",
    "len(order.items) > 1 and order.items[1].price > 10",
    "customer.created_at != null and days_since(customer.created_at) > 30",
    "customer.birthday != null and days_until(customer.birthday) < 0",
    "stats.last_order_at != null and stats.last_order_at >= today()",
    'order.at > date("2026-05-31")',
    "now() - 90d < order.at and order.at + 1mo > now()",
    "2 * 90d == 180d and -(3mo) == -(3mo) and 1mo != 2mo",
    "order.subtotal / 0.5 > 10 and order.subtotal % 5 == 2.5",
    "7 / 2 + 7 % 3",
    "1 / (2 - 2) > 0",
    "order.subtotal / (stats.orders_count - 4) > 1",
    'coalesce(customer.tier, order.channel, "x") == "gold"',
    "min(order.subtotal, 40) + max(1, 2.5) + abs(-order.subtotal)",
    "sum(order.items, item.price * item.quantity) + sum([1, 2.5])",
    "count(order.items, item.vendor == null) + count(order.items)",
    'any(order.items, item.vendor == "Acme" and any(item.tags, item == "x"))',
    "all(order.items, item.price > 1) and all([true, true])",
    'upper(order.channel ?? "")',
]


# Every comparison at its boundary (the records hold exactly these values), both ways round, on
# a field, on `item` (a bare name) and on a computed value: `>=` and `>` differ only there.
BOUNDARIES = [
    form.format(op=op, value=value, k=k)
    for op in ("==", "!=", "<", "<=", ">", ">=")
    for value, k in (
        ("order.subtotal", "42.5"),
        ("order.subtotal", "42"),
        ("stats.orders_count", "4"),
        ('coalesce(order.channel, "")', '"online"'),
        ("stats.amount_spent", "310.25"),
    )
    for form in ("{value} {op} {k}", "{k} {op} {value}")
] + [
    f"count([1, 2, 3], item {op} 2) + count(order.items, 2 {op} item.quantity)"
    for op in ("==", "!=", "<", "<=", ">", ">=")
]
EXTRA += BOUNDARIES


@pytest.mark.parametrize("text", CORPUS + EXTRA)
def test_compiler_matches_the_reference(text: str) -> None:
    check_same(text)


def test_the_corpus_is_large() -> None:
    checked = 0
    for text in CORPUS + EXTRA:
        try:
            compile_expression(text)
            checked += 1
        except RuleSetError:
            pass
    assert checked > 150


@st.composite
def mutated(draw: Any) -> str:
    """A corpus expression with a token or operator swapped for another."""
    text = draw(st.sampled_from(CORPUS + EXTRA))
    swaps = [
        (" and ", " or "),
        (" or ", " and "),
        (">=", "<"),
        ("<", ">="),
        ("==", "!="),
        (" in ", " not in "),
        ("true", "false"),
        ("20", "0"),
        ("5", "2.5"),
        ("gold", "silver"),
        ("order.subtotal", "stats.amount_spent"),
        ("customer.tier", "order.channel"),
    ]
    for _ in range(draw(st.integers(1, 3))):
        old, new = draw(st.sampled_from(swaps))
        if old in text:
            text = text.replace(old, new, 1)
    return text


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=mutated())
def test_mutated_expressions_match_the_reference(text: str) -> None:
    check_same(text)
