"""Each specialisation of the compiler, tested on its own: what it may assume and what it must
keep (the whole-language comparison with a plain interpreter is test_compiler_reference.py)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ruleengine.api import compile_conditions, compile_expression, declare_scope
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.program import Env, Program, bind, roots_of
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.expr.scope import Scope
from ruleengine.expr.types import INT
from ruleengine.rules.vocabulary import earning_scope

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SCOPE = earning_scope("order", {"region": "string"}, {})
RAW: dict[str, Any] = {
    "customer": {"id": "c1", "tags": ["vip"], "tier": "gold", "excluded": False, "region": "EU"},
    "stats": {
        "orders_count": 4,
        "amount_spent": "310.25",
        "points_earned": 0,
        "reviews_count": 0,
        "referrals_count": 0,
    },
    "order": {"id": "o1", "at": "2026-05-01T10:00:00Z", "subtotal": "42.50", "channel": "online"},
}


def bound(text: str, scope: Scope = SCOPE) -> Any:
    return compile_expression(text, scope).bind(now=NOW, timezone="America/New_York")


def variables(**changes: dict[str, Any]) -> dict[str, Any]:
    data = compile_expression("true", SCOPE).convert(RAW)
    for root, fields in changes.items():
        data[root] = {**data[root], **fields}
    return data


class Exploding(dict[str, Any]):
    """A record that fails the test if anything reads it."""

    def get(self, key: str, default: Any = None) -> Any:
        raise AssertionError(f"read {key}")

    def __getitem__(self, key: str) -> Any:
        raise AssertionError(f"read {key}")


# -- constant folding ---------------------------------------------------------------------------


def test_constant_expressions_are_computed_once_when_compiled() -> None:
    """A constant expression reads no variables and returns the very same object each call:
    it was evaluated when compiled, not per call."""
    function = bound('[date("2026-01-01") + 2 * 7d, today() - 1d]')
    first = function({})
    assert first == [date(2026, 1, 15), date(2026, 5, 31)]
    assert function({}) is first


def test_constant_parts_fold_inside_larger_expressions() -> None:
    function = bound("order.subtotal * (2 + 3) > 200 and stats.orders_count * (1 + 1) == 8")
    assert function(variables()) is True  # 212.50 > 200
    assert function(variables(order={"subtotal": Decimal("40")})) is False


def test_a_fold_that_fails_is_left_to_fail_at_run_time() -> None:
    function = bound("1 / (2 - 2) > 0")  # compiles: the failure belongs to evaluation
    with pytest.raises(RuleSetError) as raised:
        function({})
    assert [d.code for d in raised.value.diagnostics] == ["RE601"]
    assert bound("if true then 1 else 1 / (2 - 2)")({}) == 1  # an untaken branch never fails


def test_whole_numbers_next_to_money_are_decimals_as_before() -> None:
    assert bound("min(order.subtotal, 40)")(variables()) == Decimal(40)
    assert type(bound("min(order.subtotal, 40)")(variables())) is Decimal
    assert str(bound("order.subtotal * 5")(variables())) == "212.50"
    assert bound("order.subtotal >= 42.5")(variables()) is True


# -- field paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "present", "null", "missing"),
    [
        ('customer.tier == "gold"', True, False, False),
        ('customer.tier != "gold"', False, True, True),
        ("customer.tier == null", False, True, True),
        ('customer.tier in ["gold", "silver"]', True, False, False),
        ('customer.tier not in ["gold"]', False, True, True),
        ('coalesce(customer.tier, "none") == "none"', False, True, True),
    ],
)
def test_field_paths_read_null_and_missing_fields_as_null(
    text: str, present: bool, null: bool, missing: bool
) -> None:
    function = bound(text)
    assert function(variables()) is present
    assert function(variables(customer={"tier": None})) is null
    without = variables()
    del without["customer"]["tier"]
    assert function(without) is missing


def test_a_missing_root_is_still_an_error() -> None:
    data = variables()
    del data["stats"]
    with pytest.raises(KeyError):
        bound("stats.orders_count > 1")(data)


def test_bare_names_compare_directly() -> None:
    scope = Scope({"a": INT, "b": INT})
    function = bound("a >= 3 and b > 500", scope)
    assert function({"a": 3, "b": 501}) is True
    assert function({"a": 2, "b": 501}) is False
    assert function({"a": 3, "b": 500}) is False


# -- short-circuits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "order.subtotal > 1000 and stats.orders_count > 1",
        'order.subtotal > 1000 and order.channel == "x" and stats.orders_count > 1',
        "order.subtotal > 1 and order.subtotal > 1000 and order.subtotal > 2 and "
        "stats.orders_count > 1",
        "order.subtotal < 1000 or stats.orders_count > 1",
        'order.channel == "online" or order.subtotal > 1 or stats.orders_count > 1',
        "false and stats.orders_count > 1",
        "if order.subtotal > 1 then 1 else stats.orders_count",
        "any(order.items, item.quantity > 1)",
    ],
)
def test_the_right_side_is_never_evaluated_once_the_answer_is_known(text: str) -> None:
    data = variables()
    data["stats"] = Exploding()
    data["order"]["items"] = [{"quantity": 2}, Exploding()]
    bound(text)(data)  # would raise AssertionError on reading `stats` or the second item


def test_a_deciding_constant_stops_the_chain_and_neutral_ones_vanish() -> None:
    data = variables()
    data["stats"] = Exploding()
    assert bound("order.subtotal > 1 and false and stats.orders_count > 1")(data) is False
    assert bound("true and order.subtotal > 1")(data) is True
    assert bound("order.subtotal > 1000 or true")(data) is True


# -- context ----------------------------------------------------------------------------------


def _same(error: EvaluationError) -> BaseException:
    return error


def test_now_is_the_moment_given_with_its_own_zone() -> None:
    expression = compile_expression("now()", SCOPE)
    utc = datetime(2026, 6, 1, 12, tzinfo=UTC)
    paris = utc.astimezone(ZoneInfo("Europe/Paris"))  # the same instant
    assert expression.bind(now=utc)({}) is utc
    assert expression.bind(now=paris)({}) is paris
    assert expression.bind(now=utc)({}).tzinfo is UTC


def test_programs_without_context_are_shared_and_others_bound_without_compiling() -> None:
    free = compile_expression("order.subtotal > 1", SCOPE)._evaluate
    timed = compile_expression("days_since(order.at) > 30", SCOPE)._evaluate
    assert isinstance(free, Program) and isinstance(timed, Program)
    assert not free.contextual and timed.contextual
    one = EvalContext(NOW, ZoneInfo("UTC"))
    later = EvalContext(NOW + timedelta(days=1), ZoneInfo("UTC"))
    assert free.bind(one) is free.bind(later)  # the same function for every context
    # The engine binds per activity: the dynamic form reads the context from each call.
    assert timed.bind(one)(variables()) is True  # 1 May to 1 June: 31 days
    assert timed.bind(EvalContext(NOW - timedelta(days=2), ZoneInfo("UTC")))(variables()) is False
    # A host's binding (with `fail`) folds the context in; both forms agree.
    folded = timed.bind(one, lambda error: error)
    assert folded is not timed.bind(one) and folded(variables()) is True


def test_both_forms_tell_zones_of_the_same_instant_apart() -> None:
    timed = compile_expression("today()", SCOPE)._evaluate
    assert isinstance(timed, Program)
    late = datetime(2026, 6, 1, 2, tzinfo=UTC)
    in_utc = EvalContext(late, ZoneInfo("UTC"))
    in_new_york = EvalContext(late, ZoneInfo("America/New_York"))
    for fail in (None, _same):
        assert timed.bind(in_utc, fail)({}) == date(2026, 6, 1)
        assert timed.bind(in_new_york, fail)({}) == date(2026, 5, 31)
    fixed = EvalContext(late.astimezone(timezone(timedelta(hours=2))), ZoneInfo("UTC"))
    now = compile_expression("now()", SCOPE)._evaluate
    assert isinstance(now, Program)
    for fail in (None, _same):
        assert now.bind(in_utc, fail)({}) is late and now.bind(fixed, fail)({}) is fixed.now


def test_programs_are_still_evaluators_and_wrapped_ones_still_bind() -> None:
    program = compile_expression("order.subtotal > 1", SCOPE)._evaluate
    ctx = EvalContext(NOW, ZoneInfo("UTC"))
    assert program(Env(ctx, variables())) is True
    seen: list[bool] = []

    def recording(env: Env) -> Any:
        value = program(env)
        seen.append(value)
        return value

    assert bind(recording, ctx)(variables()) is True and seen == [True]
    assert roots_of(program) == frozenset({"order"}) and roots_of(recording) is None


def test_binding_is_safe_from_many_threads() -> None:
    timed = compile_expression("days_since(order.at)", SCOPE)._evaluate
    assert isinstance(timed, Program)
    results: list[int] = []

    def work(offset: int) -> None:
        for day in range(40):
            ctx = EvalContext(NOW + timedelta(days=(day + offset) % 30), ZoneInfo("UTC"))
            results.append(timed.bind(ctx)(variables()) - (day + offset) % 30)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == {31}  # 1 May to 1 June, shifted by the same days as `now`


# -- errors -----------------------------------------------------------------------------------


def test_the_fast_path_raises_located_errors_itself() -> None:
    function = bound("order.subtotal / (stats.orders_count - 4) > 1")
    with pytest.raises(RuleSetError) as raised:
        function(variables())
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "RE601" and diagnostic.column == 1


def test_the_engine_path_raises_evaluation_errors() -> None:
    program = compile_expression("1 / (stats.orders_count - 4) > 1", SCOPE)._evaluate
    assert isinstance(program, Program) and program.may_fail
    with pytest.raises(EvaluationError):
        program.bind(EvalContext(NOW, ZoneInfo("UTC")))(variables())
    safe = compile_expression("order.subtotal > 1", SCOPE)._evaluate
    assert isinstance(safe, Program) and not safe.may_fail


# -- condition sets -----------------------------------------------------------------------------

TIERED = [
    "order.subtotal >= 100",
    "order.subtotal >= 20",
    "order.subtotal >= 50",
    "order.subtotal > 42.5",
    "order.subtotal > 10",
    "order.subtotal > 42.5",
    'customer.region == "EU" and order.subtotal >= 40',
    'customer.region == "EU" and order.subtotal >= 45',
    'order.subtotal >= 30 and customer.region == "EU"',
    'customer.tier == "gold" or stats.orders_count > 5',
    'customer.tier == "gold" or stats.orders_count > 3',
    'customer.tier == "gold" or stats.orders_count > 4',
    'order.channel == "online"',
    'order.channel == "pos"',
    'order.channel != "pos"',
    'order.channel == "phone"',
    'order.channel != "online"',
    'order.channel != "phone"',
    '"vip" in customer.tags',
    "stats.orders_count <= 4",
    "stats.orders_count <= 3",
    "stats.orders_count < 4",
    "stats.orders_count < 5",
    "stats.orders_count <= 5",
    "stats.orders_count < 1",
    "stats.amount_spent > 300 and order.subtotal < 50",
    "any(order.items, item.quantity > 1)",
]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"order": {"subtotal": Decimal("100")}},
        {"order": {"subtotal": Decimal("20"), "channel": None}},
        {"order": {"subtotal": Decimal("0"), "channel": "pos"}},
        {"customer": {"region": "US", "tier": None}},
        {"stats": {"orders_count": 0}},
        {"stats": {"orders_count": 5}},
    ],
    ids=lambda changes: str(changes) or "as is",
)
def test_a_condition_set_gives_what_each_condition_gives(changes: dict[str, Any]) -> None:
    conditions = compile_conditions(TIERED, SCOPE)
    data = variables(**changes)
    data["order"].setdefault("items", [{"quantity": 2}])
    expected = [compile_expression(t, SCOPE).bind(now=NOW)(data) for t in TIERED]
    assert conditions.bind(now=NOW)(data) == expected
    assert conditions.evaluate(RAW, now=NOW) == [
        compile_expression(t, SCOPE).evaluate(RAW, now=NOW) for t in TIERED
    ]


def test_a_condition_set_raises_the_first_failing_condition_error() -> None:
    texts = [
        "order.subtotal >= 10",
        "order.subtotal >= 20",
        "order.subtotal >= 30",
        "1 / (stats.orders_count - 4) > 0",
        "order.subtotal / (stats.orders_count - 4) > 1",
    ]
    conditions = compile_conditions(texts, SCOPE, name="rules")
    with pytest.raises(RuleSetError) as raised:
        conditions.bind(now=NOW)(variables())
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.file) == ("RE601", "rules[3]")


def test_a_missing_value_under_a_tier_falls_back_to_one_by_one() -> None:
    texts = ["customer.tier == null or order.subtotal > 1"] * 3 + ["order.subtotal > 5"] * 3
    data = variables()
    del data["order"]["subtotal"]  # every tier search fails; the first three do not need it
    conditions = compile_conditions(texts, SCOPE).bind(now=NOW)
    with pytest.raises(TypeError):
        conditions(data)
    data["customer"]["tier"] = None
    with pytest.raises(TypeError):  # the fourth condition still reads it
        conditions(data)


def test_condition_sets_report_every_problem_of_every_condition() -> None:
    with pytest.raises(RuleSetError) as raised:
        compile_conditions(["order.subtotl > 1", "order.subtotal > 1", "customer.teir == 1"])
    assert [d.file for d in raised.value.diagnostics] == ["<string>[0]", "<string>[2]"]
    assert compile_conditions([]).bind(now=NOW)({}) == []


def test_filters_that_differ_inside_a_string_literal_are_not_shared() -> None:
    """Tiers behind one filter share it; `"gift  wrap"` and `"gift wrap"` are two filters
    (the set used the first for all three when filters were keyed by their spacing-folded
    text)."""
    scope = declare_scope({"order": {"subtotal": "money", "note": "string"}})
    texts = [
        'order.note == "gift  wrap" and order.subtotal >= 10',
        'order.note == "gift wrap" and order.subtotal >= 20',
        'order.note == "gift wrap" and order.subtotal >= 30',
        'order.note  ==  "gift wrap"  and  order.subtotal >= 40',  # spacing outside: shared
    ]
    data = {"order": {"subtotal": "50", "note": "gift wrap"}}
    alone = [compile_expression(t, scope).evaluate(data, now=NOW) for t in texts]
    assert alone == [False, True, True, True]
    conditions = compile_conditions(texts, scope)
    assert conditions.evaluate(data, now=NOW) == alone
    assert conditions.bind(now=NOW)(conditions.convert(data)) == alone


@pytest.mark.parametrize("fold", [0, 1])
def test_now_in_a_repeated_hour_equals_the_same_instant_elsewhere(fold: int) -> None:
    """01:30 on 1 November 2026 happens twice in New York; at the second (`fold=1`, 06:30
    UTC) Python holds it unequal to 06:30Z (PEP 495), so `at == now()` was false."""
    scope = declare_scope({"at": "datetime"})
    now = datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=ZoneInfo("America/New_York"))
    at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for text, value in (("at == now()", True), ("at != now()", False), ("at < now()", False)):
        expression = compile_expression(text, scope)
        assert expression.evaluate({"at": at}, now=now) is value
        assert expression.bind(now=now, convert=True)({"at": at}) is value
        assert expression.bind(now=now)(expression.convert({"at": at})) is value
    assert compile_expression("today()", scope).evaluate({}, now=now) == date(2026, 11, 1)
